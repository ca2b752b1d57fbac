package k8sprobes

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/probekit/probekit/contract"
)

// Linter lints manifests. Its zero value applies the generic rules to
// every container.
type Linter struct {
	// Contract is the application's contract. Nil applies the generic
	// rules only; otherwise the contract's rules apply too, to the
	// containers that serve it (see Container).
	Contract *contract.Contract
	// Container, if not empty, lints only the containers of that name
	// (in every pod), and the contract applies to them whatever their
	// ports. If empty, every container is linted, and the contract applies
	// to the containers that declare or probe a port the contract names,
	// or, if none does, to the pod's default container (annotation
	// kubectl.kubernetes.io/default-container, or the first).
	Container string
}

// Lint is Linter{Contract: c}.Lint(manifests...).
func Lint(c *contract.Contract, manifests ...Manifest) ([]Finding, error) {
	return Linter{Contract: c}.Lint(manifests...)
}

// Lint returns the findings of every rule on the containers of the
// workloads among manifests, sorted by file, line and rule; Services among
// them tell which pods take traffic. Job and CronJob pods, and pods whose
// restartPolicy is Never or OnFailure, need no probes. Lint returns an
// error, and no findings, if the contract is invalid (contract.Validate)
// or Container names no container of the manifests.
func (l Linter) Lint(manifests ...Manifest) ([]Finding, error) {
	if l.Contract != nil {
		if err := l.Contract.Validate(); err != nil {
			return nil, err
		}
	}
	var pods []*pod
	var services []*Manifest
	for i := range manifests {
		m := &manifests[i]
		if _, ok := m.Object.(*corev1.Service); ok {
			services = append(services, m)
		} else if p, ok := podOf(m); ok {
			pods = append(pods, &p)
		}
	}
	var out []Finding
	for _, p := range pods {
		for _, svc := range services {
			if s := svc.Object.(*corev1.Service); selects(svc, p) && !s.Spec.PublishNotReadyAddresses {
				p.services = append(p.services, s)
			}
		}
	}
	found := false
	for i := range manifests {
		out = append(out, unknownFields(&manifests[i], l.Container)...)
	}
	for _, p := range pods {
		var apps map[*corev1.Container]bool
		if l.Contract != nil && l.Container == "" {
			apps = appContainers(l.Contract, p)
		}
		for _, cc := range p.containers() {
			if l.Container != "" && cc.c.Name != l.Container {
				continue
			}
			found = true
			s := &subject{p: p, cc: cc}
			if l.Contract != nil && (l.Container != "" || apps[cc.c]) {
				s.app = &app{c: l.Contract}
			}
			for _, rule := range containerRules {
				rule(s)
			}
			out = append(out, s.findings...)
		}
	}
	if l.Container != "" && !found {
		return nil, fmt.Errorf("k8sprobes: no container named %q in the manifests", l.Container)
	}
	sortFindings(out)
	return out, nil
}

// containerRules run on each container, in this order.
var containerRules = []func(*subject){
	presenceRules,
	shapeRules,
	endpointRules,
	timingRules,
	contractRules,
	shutdownRules,
}

// subject is one container under the rules.
type subject struct {
	p        *pod
	cc       container
	app      *app // nil when no contract applies to the container
	findings []Finding
}

// probeKinds are the probes a container may have, as Finding.Probe names
// them, with their field names.
var probeKinds = []struct{ kind, field string }{
	{contract.Startup, "startupProbe"},
	{contract.Liveness, "livenessProbe"},
	{contract.Readiness, "readinessProbe"},
}

// probe returns the container's probe of kind, or nil.
func (s *subject) probe(kind string) *corev1.Probe {
	switch kind {
	case contract.Startup:
		return s.cc.c.StartupProbe
	case contract.Liveness:
		return s.cc.c.LivenessProbe
	case contract.Readiness:
		return s.cc.c.ReadinessProbe
	}
	return nil
}

// line returns the line of the setting at path under the container.
func (s *subject) line(path ...any) int {
	return s.p.line(append(clonePath(s.cc.path), path...)...)
}

// probeLine returns the line of field of the probe of kind, or of the
// probe if the field is not set ("" for the probe itself).
func (s *subject) probeLine(kind, field string) int {
	for _, pk := range probeKinds {
		if pk.kind == kind {
			if field == "" {
				return s.line(pk.field)
			}
			return s.line(pk.field, field)
		}
	}
	return s.line()
}

// report records a finding of rule id about the container (and the probe
// of kind probe, if any).
func (s *subject) report(id string, sev Severity, probe string, line int, msg, fix string) {
	r := ruleByID(id)
	m := s.p.m
	s.findings = append(s.findings, Finding{
		Rule: r.ID, RuleName: r.Name, Severity: sev,
		File: m.File, Line: line,
		Kind: m.Kind, Namespace: m.Namespace, Name: m.Name,
		Container: s.cc.c.Name, Probe: probe,
		Mistake: r.Mistake, Message: msg, Fix: fix,
	})
}

// unknownFields reports the fields of m the API types do not have (PK090),
// those of other containers than container left out.
func unknownFields(m *Manifest, container string) []Finding {
	var out []Finding
	r := ruleByID(idUnknownField)
	for _, path := range m.unknown {
		elems := fieldPath(path)
		name := containerAt(m, elems)
		if container != "" && name != "" && name != container {
			continue
		}
		out = append(out, Finding{
			Rule: r.ID, RuleName: r.Name, Severity: r.Severity,
			File: m.File, Line: lineAt(m.node, elems...),
			Kind: m.Kind, Namespace: m.Namespace, Name: m.Name, Container: name,
			Mistake: r.Mistake,
			Message: fmt.Sprintf("%s is not a field of the Kubernetes API: it is dropped, or refused by kubectl's strict validation", path),
			Fix:     "correct the field's name (names are case-sensitive) or remove it",
		})
	}
	return out
}

// containerAt returns the name of the container that path (lineAt's
// elements) leads into, or "".
func containerAt(m *Manifest, path []any) string {
	for i := 0; i+1 < len(path); i++ {
		if k, ok := path[i].(string); ok && (k == "containers" || k == "initContainers") {
			if _, ok := path[i+1].(int); ok {
				return scalarAt(resolve(nodeAt(m.node, path[:i+2]...)), "name")
			}
		}
	}
	return ""
}
