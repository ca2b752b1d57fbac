package main

import (
	"net"
	"net/http"

	"github.com/probekit/probekit/statuspage"
)

// fromThePod lets requests from the pod itself see the status page, with
// failure reasons: kubectl port-forward and kubectl exec arrive on
// loopback. Anything else, the network and the kubelet included, is
// refused. Only 127.0.0.1 and ::1 count: a sidecar proxy (Istio's sends
// from 127.0.0.6) must not turn every request into the pod's own.
func fromThePod(r *http.Request) statuspage.Access {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err == nil && (host == "127.0.0.1" || host == "::1") {
		return statuspage.AccessDetails
	}
	return statuspage.AccessNone
}
