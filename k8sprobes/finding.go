package k8sprobes

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity says what a finding costs if left alone.
type Severity int

// The severities, least severe first; a Severity compares as its order.
const (
	// Info is worth knowing and often intended.
	Info Severity = iota + 1
	// Warning is a probe or shutdown setting that weakens what the probes
	// are for but will not by itself restart pods or drop traffic.
	Warning
	// Error will restart containers, send traffic to pods that cannot
	// take it or cut requests off at shutdown, or is a probe that cannot
	// work (the API server refuses it, or it asks what the app does not
	// serve).
	Error
)

// String returns "info", "warning" or "error" ("severity(N)" otherwise).
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText writes the severity as String does, so that it reads as
// "error" in JSON.
func (s Severity) MarshalText() ([]byte, error) {
	if s < Info || s > Error {
		return nil, fmt.Errorf("k8sprobes: invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads what MarshalText writes.
func (s *Severity) UnmarshalText(b []byte) error {
	for _, v := range []Severity{Info, Warning, Error} {
		if string(b) == v.String() {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("k8sprobes: unknown severity %q", b)
}

// Finding is one mistake found in a manifest.
type Finding struct {
	// Rule is the ID of the rule that found it ("PK020"); RuleName is its
	// short name ("timeout-below-checks"). See Rules.
	Rule     string   `json:"rule"`
	RuleName string   `json:"ruleName"`
	Severity Severity `json:"severity"`
	// File and Line locate the setting at fault, or the nearest enclosing
	// one when the fault is a setting left out (Line 0 if unknown: a
	// Manifest built in code).
	File string `json:"file"`
	Line int    `json:"line"`
	// Kind, Namespace and Name identify the object; Namespace is empty if
	// the manifest leaves it to kubectl.
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Container is the container's name, "" for a finding about the
	// object as a whole.
	Container string `json:"container"`
	// Probe is "liveness", "readiness" or "startup", or "" when the
	// finding is about no one probe.
	Probe string `json:"probe"`
	// Mistake is the kind of mistake in the words of the Kubernetes probe
	// tutorial ("over-aggressive probes"), or one of the categories beyond
	// it listed in the package documentation.
	Mistake string `json:"mistake"`
	// Message says what is wrong and what it will do; Fix says what to
	// change, with values where they can be derived.
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// String formats the finding on one line, as probelint prints it:
//
//	file:line: severity RULE Kind/[namespace/]name container probe: message (fix: fix)
//
// with the container and probe left out when empty.
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: %s %s %s/", f.File, f.Line, f.Severity, f.Rule, f.Kind)
	if f.Namespace != "" {
		b.WriteString(f.Namespace + "/")
	}
	b.WriteString(f.Name)
	for _, s := range []string{f.Container, f.Probe} {
		if s != "" {
			b.WriteString(" " + s)
		}
	}
	fmt.Fprintf(&b, ": %s", f.Message)
	if f.Fix != "" {
		fmt.Fprintf(&b, " (fix: %s)", f.Fix)
	}
	return b.String()
}

// sortFindings orders findings by file, line, rule, container and probe,
// so that output is stable whatever order the rules ran in.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Container, b.Container),
			cmp.Compare(a.Probe, b.Probe),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// Worst returns the highest severity among fs, or 0 if fs is empty.
func Worst(fs []Finding) Severity {
	var w Severity
	for _, f := range fs {
		w = max(w, f.Severity)
	}
	return w
}
