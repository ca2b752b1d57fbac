// Package kubelettest holds only tests: they probe grpchealth servers with
// the kubelet's own gRPC prober, and check that grpchealthtest.Probe, the
// faithful copy the other tests use, agrees with it in every case.
package kubelettest
