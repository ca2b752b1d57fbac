// Package validationtest has no code: its tests run what k8sprobes
// generates, and the probes it reports as refused, through the Kubernetes
// API server's validation of a pod.
package validationtest
