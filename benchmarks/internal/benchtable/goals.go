package benchtable

import (
	"bytes"
	"fmt"
)

// A Goal is one target of the issue and what this run measured for it.
type Goal struct {
	What     string // "on-request, 10 instant checks: ns/op vs alexliesenfeld (cache disabled)"
	Target   string // "≤ 0.25×"
	Measured string // "0.61×", or "not measured"
	// Met is nil when the run lacks the figures, else whether the target holds.
	Met *bool
}

// goal describes a target as a figure computed from the run and a limit.
type goal struct {
	what, target string
	measure      func(in, lo *File) (value float64, shown string, ok bool)
	meets        func(float64) bool
}

var goals = []goal{
	{
		what:   "in-process, on-request, 10 instant checks: probekit ns/op ÷ alexliesenfeld/health's (cache disabled), same run",
		target: "≤ 0.25×",
		measure: func(in, _ *File) (float64, string, bool) {
			p := in.find(inProcessBase, keys("10", "instant", "on-request", "probekit"))
			a := in.find(inProcessBase, keys("10", "instant", "on-request", "alexliesenfeld"))
			if p == nil || a == nil {
				return 0, "", false
			}
			x, ok1 := p.Median("ns/op")
			y, ok2 := a.Median("ns/op")
			if !ok1 || !ok2 || y == 0 {
				return 0, "", false
			}
			return x / y, exact(x / y), true
		},
		meets: func(x float64) bool { return x <= 0.25 },
	},
	{
		what:    "in-process, on-request, 10 instant checks: probekit allocs/op",
		target:  "≤ 50",
		measure: median(inProcessBase, keys("10", "instant", "on-request", "probekit"), "allocs/op", count),
		meets:   func(x float64) bool { return x <= 50 },
	},
	{
		what:    "in-process, on-request, 1 instant check: probekit allocs/op",
		target:  "≤ 10",
		measure: median(inProcessBase, keys("1", "instant", "on-request", "probekit"), "allocs/op", count),
		meets:   func(x float64) bool { return x <= 10 },
	},
	{
		what:    "loopback, on-request, 10 instant checks: probekit req/s ÷ bare handler's, same round",
		target:  "≥ 0.6×",
		measure: median(loopbackBase, keys("10", "instant", "on-request", "probekit"), "x-bare", exact),
		meets:   func(x float64) bool { return x >= 0.6 },
	},
	{
		what:    "loopback, background, 10 instant checks: probekit req/s ÷ bare handler's, same round",
		target:  "≥ 0.9×",
		measure: median(loopbackBase, keys("10", "instant", "background", "probekit"), "x-bare", exact),
		meets:   func(x float64) bool { return x >= 0.9 },
	},
}

func keys(checks, kind, mode, lib string) map[string]string {
	return map[string]string{"checks": checks, "kind": kind, "mode": mode, "lib": lib}
}

// median measures the median of unit in the series of base with keys k,
// looked up in the in-process or the loopback results by base.
func median(base string, k map[string]string, unit string, show func(float64) string) func(in, lo *File) (float64, string, bool) {
	return func(in, lo *File) (float64, string, bool) {
		f := in
		if base == loopbackBase {
			f = lo
		}
		s := f.find(base, k)
		if s == nil {
			return 0, "", false
		}
		v, ok := s.Median(unit)
		return v, show(v), ok
	}
}

func evaluate(in, lo *File) []Goal {
	out := make([]Goal, 0, len(goals))
	for _, g := range goals {
		r := Goal{What: g.what, Target: g.target, Measured: "not measured"}
		if v, shown, ok := g.measure(in, lo); ok {
			met := g.meets(v)
			r.Measured, r.Met = shown, &met
		}
		out = append(out, r)
	}
	return out
}

func writeGoals(b *bytes.Buffer, goals []Goal) {
	b.WriteString("### Goals of the issue, checked against this run\n\n")
	b.WriteString("| goal | target | measured | met |\n| --- | ---: | ---: | --- |\n")
	for _, g := range goals {
		met := "–"
		if g.Met != nil {
			met = map[bool]string{true: "yes", false: "**no**"}[*g.Met]
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", cell(g.What), g.Target, g.Measured, met)
	}
	b.WriteString("\n")
}
