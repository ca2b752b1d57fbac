package k8sprobes

import (
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The kubelet's defaults for unset probe fields (k8s.io/api core/v1) and
// for the pod's grace period.
const (
	defaultTimeoutSeconds   = 1
	defaultPeriodSeconds    = 10
	defaultFailureThreshold = 3
	defaultSuccessThreshold = 1
	defaultGraceSeconds     = 30
	// healthprobeDefaultTimeout is cmd/healthprobe's -timeout default
	// (probe.DefaultTimeout).
	healthprobeDefaultTimeout = time.Second
)

// timing is a probe's timing with the kubelet's defaults applied to unset
// (zero) fields.
type timing struct {
	timeout, period, failure, success, delay int32
}

func timingOf(p *corev1.Probe) timing {
	def := func(v, d int32) int32 {
		if v == 0 {
			return d
		}
		return v
	}
	return timing{
		timeout: def(p.TimeoutSeconds, defaultTimeoutSeconds),
		period:  def(p.PeriodSeconds, defaultPeriodSeconds),
		failure: def(p.FailureThreshold, defaultFailureThreshold),
		success: def(p.SuccessThreshold, defaultSuccessThreshold),
		delay:   p.InitialDelaySeconds,
	}
}

// window is how long the probe must fail in a row before the kubelet acts:
// failureThreshold × periodSeconds.
func (t timing) window() time.Duration {
	return time.Duration(t.failure) * time.Duration(t.period) * time.Second
}

func seconds(n int32) time.Duration { return time.Duration(n) * time.Second }

// endpoint is what a probe asks, whatever its handler: an exec probe that
// runs healthprobe asks the HTTP path or TCP port of its arguments.
type endpoint struct {
	kind    string             // "http", "grpc", "tcp" or "exec"
	path    string             // http: the path, without query, "/" if empty
	port    intstr.IntOrString // http, tcp, grpc
	service string             // grpc
	// external describes the other host the probe asks, "" when it asks
	// the pod (or, for exec, the container) itself.
	external string
	command  []string     // exec: the command (healthprobe's own for its exec mode)
	hp       *healthprobe // set when the probe runs healthprobe
}

// healthprobe is a call of cmd/healthprobe in an exec probe.
type healthprobe struct {
	timeout time.Duration // -timeout, or its default
	set     bool          // -timeout was given
}

// handlers counts the handlers a probe sets: the API wants exactly one.
func handlers(p *corev1.Probe) int {
	n := 0
	for _, set := range []bool{p.HTTPGet != nil, p.TCPSocket != nil, p.GRPC != nil, p.Exec != nil} {
		if set {
			n++
		}
	}
	return n
}

// endpointOf returns what p asks; false if p has no handler or several.
func endpointOf(p *corev1.Probe) (endpoint, bool) {
	if handlers(p) != 1 {
		return endpoint{}, false
	}
	switch {
	case p.HTTPGet != nil:
		ep := endpoint{kind: "http", path: cleanPath(p.HTTPGet.Path), port: p.HTTPGet.Port}
		if h := p.HTTPGet.Host; h != "" {
			ep.external = "httpGet.host " + strconv.Quote(h) + " (the kubelet asks that host from the node, never the pod)"
		}
		return ep, true
	case p.TCPSocket != nil:
		ep := endpoint{kind: "tcp", port: p.TCPSocket.Port}
		if h := p.TCPSocket.Host; h != "" {
			ep.external = "tcpSocket.host " + strconv.Quote(h) + " (the kubelet connects to that host from the node, never the pod)"
		}
		return ep, true
	case p.GRPC != nil:
		ep := endpoint{kind: "grpc", port: intstr.FromInt32(p.GRPC.Port)}
		if p.GRPC.Service != nil {
			ep.service = *p.GRPC.Service
		}
		return ep, true
	}
	return execEndpoint(p.Exec.Command), true
}

// cleanPath is the path the kubelet requests: without the query, "/" for
// an empty one.
func cleanPath(p string) string {
	p, _, _ = strings.Cut(p, "?")
	if p == "" {
		return "/"
	}
	return p
}

// execEndpoint returns what an exec probe's command asks: a healthprobe
// call is read as the HTTP or TCP probe it makes.
func execEndpoint(cmd []string) endpoint {
	ep := endpoint{kind: "exec", command: cmd}
	if len(cmd) == 0 || path.Base(cmd[0]) != "healthprobe" {
		return ep
	}
	hp := &healthprobe{timeout: healthprobeDefaultTimeout}
	ep.hp = hp
	var pos []string
	args := cmd[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(pos) > 0 && pos[0] == "exec" && !strings.HasPrefix(a, "-") {
			pos = append(pos, args[i:]...) // the command, with its own flags
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case "timeout", "header", "cacert":
			if !hasVal && i+1 < len(args) {
				i++
				val = args[i]
			}
			if d, err := time.ParseDuration(val); name == "timeout" && err == nil && d > 0 {
				hp.timeout, hp.set = d, true
			}
		}
	}
	mode := "http"
	if len(pos) > 0 && slices.Contains([]string{"http", "tcp", "exec"}, pos[0]) {
		mode, pos = pos[0], pos[1:]
	}
	switch {
	case mode == "exec":
		ep.command = pos
	case len(pos) != 1: // healthprobe refuses it; left as an opaque command
	case mode == "tcp":
		host, port, err := net.SplitHostPort(pos[0])
		if n, perr := strconv.Atoi(port); err == nil && perr == nil {
			ep.kind, ep.port = "tcp", intstr.FromInt(n)
			ep.external = remote(host)
		}
	default:
		u, err := url.Parse(pos[0])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			break
		}
		port := map[string]int{"http": 80, "https": 443}[u.Scheme]
		if p := u.Port(); p != "" {
			if port, err = strconv.Atoi(p); err != nil {
				break
			}
		}
		ep.kind, ep.path, ep.port = "http", cleanPath(u.EscapedPath()), intstr.FromInt(port)
		ep.external = remote(u.Hostname())
	}
	return ep
}

// remote describes host if it is not the container itself, for an exec
// probe (which runs in the container, so localhost is the container).
func remote(host string) string {
	if host == "localhost" || host == "" {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		return ""
	}
	return "host " + strconv.Quote(host) + " in healthprobe's target"
}

// same reports whether a and b ask the same thing of container c.
func same(c *corev1.Container, a, b endpoint) bool {
	if a.kind != b.kind || a.external != b.external {
		return false
	}
	switch a.kind {
	case "http":
		return a.path == b.path && samePort(c, a.port, b.port)
	case "tcp":
		return samePort(c, a.port, b.port)
	case "grpc":
		return a.service == b.service && samePort(c, a.port, b.port)
	}
	return slices.Equal(a.command, b.command)
}

// samePort reports whether two ports (numbers or names) are the same port
// of c.
func samePort(c *corev1.Container, a, b intstr.IntOrString) bool {
	if a == b {
		return true
	}
	na, oka := containerPort(c, a)
	nb, okb := containerPort(c, b)
	return (oka || a.Type == intstr.Int) && (okb || b.Type == intstr.Int) && na == nb
}

// describe names the endpoint for messages.
func (e endpoint) describe() string {
	switch e.kind {
	case "http":
		return "path " + e.path + " on port " + e.port.String()
	case "tcp":
		return "TCP port " + e.port.String()
	case "grpc":
		return "gRPC service " + strconv.Quote(e.service) + " on port " + e.port.String()
	}
	return "command " + strconv.Quote(strings.Join(e.command, " "))
}
