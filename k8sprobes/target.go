package k8sprobes

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/probekit/probekit/contract"
)

// app is the contract of the application a container runs.
type app struct{ c *contract.Contract }

// target is what the contract says an endpoint answers.
type target struct {
	group  string           // contract.Liveness, Readiness or Startup
	check  string           // for a per-check route or service: the one entry asked
	checks []contract.Check // the checks a probe of it runs or reads
	name   string           // for messages: `path "/ready"`, `gRPC service "readiness"`
}

// ownEntries are the entries a probekit registry adds to its groups besides
// the registered checks, which its per-check routes also answer for: the
// liveness and readiness switches, and readiness's view of the liveness
// and startup groups (which reads their checks).
var ownEntries = map[string][]string{
	contract.Liveness:  {"alive"},
	contract.Readiness: {"ready", contract.Liveness, contract.Startup},
}

// portOf reads a contract port: a number, or a port name.
func portOf(s string) intstr.IntOrString {
	if n, err := strconv.Atoi(s); err == nil {
		return intstr.FromInt(n)
	}
	return intstr.FromString(s)
}

// appContainers returns the containers of p the contract applies to when
// they are not chosen by name (see Linter.Container): those that declare
// or probe a port the contract names or, if none does, the pod's default
// container (annotation kubectl.kubernetes.io/default-container, or the
// first), so that a contract whose ports are wrong is still applied, and
// caught.
func appContainers(c *contract.Contract, p *pod) map[*corev1.Container]bool {
	var ports []intstr.IntOrString
	if c.HTTP != nil && c.HTTP.Port != "" {
		ports = append(ports, portOf(c.HTTP.Port))
	}
	if c.GRPC != nil && c.GRPC.Port != 0 {
		ports = append(ports, intstr.FromInt(c.GRPC.Port))
	}
	out := map[*corev1.Container]bool{}
	for _, cc := range p.containers() {
		if servesPort(p, cc, ports) {
			out[cc.c] = true
		}
	}
	if len(out) > 0 || len(p.spec.Containers) == 0 {
		return out
	}
	def := &p.spec.Containers[0]
	if name := p.annotations["kubectl.kubernetes.io/default-container"]; name != "" {
		for i := range p.spec.Containers {
			if p.spec.Containers[i].Name == name {
				def = &p.spec.Containers[i]
			}
		}
	}
	out[def] = true
	return out
}

// servesPort reports whether cc declares one of ports, or probes it.
func servesPort(p *pod, cc container, ports []intstr.IntOrString) bool {
	for _, port := range ports {
		if _, declared := containerPort(cc.c, port); declared {
			return true
		}
		s := subject{p: p, cc: cc}
		for _, pk := range probeKinds {
			if pr := s.probe(pk.kind); pr != nil {
				if ep, ok := endpointOf(pr); ok && ep.kind != "exec" && ep.external == "" && samePort(cc.c, ep.port, port) {
					return true
				}
			}
		}
	}
	return false
}

// serves reports whether the app serves group over HTTP or gRPC as a
// whole-group route or service (not one check).
func (a *app) serves(group string) bool {
	if a.c.HTTP != nil && slices.ContainsFunc(a.c.HTTP.Routes, func(r contract.Route) bool { return r.Group == group && !r.PerCheck }) {
		return true
	}
	return a.c.GRPC != nil && slices.ContainsFunc(a.c.GRPC.Services, func(s contract.Service) bool { return s.Group == group && s.Check == "" })
}

// checksOf returns the checks an entry of group named name runs or reads,
// and whether group has such an entry.
func (a *app) checksOf(group, name string) ([]contract.Check, bool) {
	for _, ch := range a.c.Checks {
		if ch.Name == name && ch.Group == group {
			return []contract.Check{ch}, true
		}
	}
	if !slices.Contains(ownEntries[group], name) {
		return nil, false
	}
	if name == contract.Liveness || name == contract.Startup {
		return a.c.Runs(name), true
	}
	return nil, true // a switch: no check behind it
}

// resolve returns what the app serves at ep, asked from container c. If
// it does not serve it, problem says why (at severity sev); an endpoint
// the contract cannot speak for (a TCP connect, an opaque command) gives
// a target without group and no problem.
func (a *app) resolve(c *corev1.Container, ep endpoint) (t target, problem string, sev Severity) {
	switch ep.kind {
	case "http":
		return a.resolveHTTP(c, ep)
	case "grpc":
		return a.resolveGRPC(ep)
	}
	return target{}, "", 0
}

func (a *app) resolveHTTP(c *corev1.Container, ep endpoint) (target, string, Severity) {
	h := a.c.HTTP
	if h == nil {
		msg := "the app serves no HTTP health route"
		if a.c.GRPC != nil {
			msg += "; it serves gRPC health: use a grpc probe"
		}
		return target{}, msg, Error
	}
	if h.Port != "" && !samePort(c, ep.port, portOf(h.Port)) {
		asked := ep.port.String()
		if n, ok := containerPort(c, ep.port); ok && ep.port.Type == intstr.String {
			asked += fmt.Sprintf(" (%d)", n)
		}
		return target{}, fmt.Sprintf("port %s is not the app's HTTP health port (%s)", asked, h.Port), Error
	}
	var served []string
	for _, r := range h.Routes {
		served = append(served, r.Path)
		if !r.PerCheck && r.Path == ep.path {
			return target{group: r.Group, checks: a.c.Runs(r.Group), name: "path " + ep.path}, "", 0
		}
	}
	for _, r := range h.Routes {
		prefix, ok := strings.CutSuffix(r.Path, "{check}")
		name, found := strings.CutPrefix(ep.path, prefix)
		if !r.PerCheck || !ok || !found || name == "" || strings.Contains(name, "/") {
			continue
		}
		checks, ok := a.checksOf(r.Group, name)
		if !ok {
			return target{}, fmt.Sprintf("path %s asks for %q, which is no check of the %s group: the app answers 404", ep.path, name, r.Group), Error
		}
		return target{group: r.Group, check: name, checks: checks, name: "path " + ep.path}, "", 0
	}
	for _, r := range h.Routes {
		if !r.PerCheck && (r.Path == ep.path+"/" || r.Path+"/" == ep.path) {
			return target{}, fmt.Sprintf("path %s is not served; %s is: the probe then rests on a redirect, or a 404, depending on the router", ep.path, r.Path), Warning
		}
	}
	return target{}, fmt.Sprintf("path %s is not a route the app serves (%s): the probe gets 404", ep.path, strings.Join(served, ", ")), Error
}

func (a *app) resolveGRPC(ep endpoint) (target, string, Severity) {
	g := a.c.GRPC
	if g == nil {
		msg := "the app serves no gRPC health service"
		if a.c.HTTP != nil {
			msg += "; it serves HTTP health routes: use an httpGet probe"
		}
		return target{}, msg, Error
	}
	if g.Port != 0 && ep.port.IntVal != int32(g.Port) {
		return target{}, fmt.Sprintf("port %s is not the app's gRPC port (%d)", ep.port.String(), g.Port), Error
	}
	var served []string
	for _, s := range g.Services {
		served = append(served, strconv.Quote(s.Name))
		if s.Name != ep.service {
			continue
		}
		t := target{group: s.Group, checks: a.c.Runs(s.Group), name: "gRPC service " + strconv.Quote(s.Name)}
		if s.Check != "" {
			t.check = s.Check
			t.checks, _ = a.checksOf(s.Group, s.Check)
		}
		return t, "", 0
	}
	return target{}, fmt.Sprintf("gRPC service %q is not one the app serves (%s): the probe fails with NOT_FOUND", ep.service, strings.Join(served, ", ")), Error
}

// onRequest returns the longest timeout among the checks that run when a
// probe asks (not those run in the background, whose last result a probe
// reads at once), and the check that has it.
func onRequest(checks []contract.Check) (time.Duration, string) {
	var longest time.Duration
	var name string
	for _, ch := range checks {
		if ch.Every == 0 && time.Duration(ch.Timeout) > longest {
			longest, name = time.Duration(ch.Timeout), ch.Name
		}
	}
	return longest, name
}

// dependencies returns the names of the dependency checks among checks;
// critical only those that are not NonCritical.
func dependencies(checks []contract.Check, critical bool) []string {
	var out []string
	for _, ch := range checks {
		if ch.Dependency && (!critical || !ch.NonCritical) {
			out = append(out, ch.Name)
		}
	}
	return out
}
