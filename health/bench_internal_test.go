package health

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

// settled returns a registry with n instant readiness checks that run on
// request, each run once.
func settled(b *testing.B, n int) *Registry {
	b.Helper()
	r := New()
	b.Cleanup(func() { _ = r.Close() })
	for i := range n {
		if err := r.Register(Readiness, fmt.Sprintf("check-%05d", i), CheckFunc(func(context.Context) error { return nil })); err != nil {
			b.Fatal(err)
		}
	}
	if rep, err := r.Check(context.Background(), Readiness); err != nil || rep.Status != StatusPass {
		b.Fatalf("%v %v", rep.Status, err)
	}
	return r
}

// BenchmarkEvaluate is the engine's part of a probe of n on-request
// checks: starting (or joining) their runs and waiting for the verdicts,
// without the handler and the rendering; compare checks=10 with
// BenchmarkSingleflightPerCheck, the same work done with
// singleflight.DoChan and a context.WithTimeout per check.
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("checks=%d", n), func(b *testing.B) {
			r := settled(b, n)
			due := r.view().due[Readiness]
			b.ReportAllocs()
			for b.Loop() {
				r.evaluate(context.Background(), due)
			}
		})
	}
}

// BenchmarkReport builds the report of 10 checks from their results.
func BenchmarkReport(b *testing.B) {
	r := settled(b, 10)
	snap := r.view()
	b.ReportAllocs()
	for b.Loop() {
		_ = r.report(snap, Readiness, &selection{}, nil)
	}
}

// BenchmarkRender renders the report of 10 checks as JSON.
func BenchmarkRender(b *testing.B) {
	r := settled(b, 10)
	rep := r.report(r.view(), Readiness, &selection{}, nil)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = render(rep, variantJSON)
	}
}

// BenchmarkRenderEncodingJSON is the alternative to render's hand-written
// JSON, for docs/performance.md: the same body for the same 10 entries
// built as Go values and encoded by encoding/json. Compare it with
// BenchmarkRender.
//
//	go test -run '^$' -bench 'Render' -benchmem -count 6 ./health
func BenchmarkRenderEncodingJSON(b *testing.B) {
	type entry struct {
		Status   string `json:"status"`
		Time     string `json:"time,omitempty"`
		Duration string `json:"duration,omitempty"`
		Output   string `json:"output,omitempty"`
	}
	type body struct {
		Status string             `json:"status"`
		Checks map[string][]entry `json:"checks,omitempty"`
	}
	r := settled(b, 10)
	rep := r.report(r.view(), Readiness, &selection{}, nil)
	_, want := render(rep, variantJSON)
	b.ReportAllocs()
	var got []byte
	for b.Loop() {
		v := body{Status: rep.Status.String(), Checks: make(map[string][]entry, len(rep.Checks))}
		for _, c := range rep.Checks {
			e := entry{Status: c.Status.String()}
			if !c.Time.IsZero() {
				e.Time = string(appendTime(nil, c.Time))
			}
			if c.Duration > 0 {
				e.Duration = string(appendDuration(nil, c.Duration))
			}
			v.Checks[c.Name] = []entry{e}
		}
		got, _ = json.Marshal(v)
	}
	if len(got)+1 != len(want) { // the same fields; render ends with a newline
		b.Fatalf("encoding/json made %d bytes, render %d:\n%s\n%s", len(got), len(want), got, want)
	}
}
