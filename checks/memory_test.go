package checks_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/probekit/probekit/checks"
)

func TestMemory(t *testing.T) {
	metrics := []checks.MemoryMetric{checks.HeapMemory, checks.GoMemory}
	if runtime.GOOS == "linux" {
		metrics = append(metrics, checks.RSSMemory)
	}
	for _, m := range metrics {
		t.Run(m.String(), func(t *testing.T) {
			if err := checks.Memory(m, 1<<50).Check(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			err := checks.Memory(m, 1).Check(testCtx(t))
			requireFail(t, err, "Memory")
			if !strings.Contains(err.Error(), "above the limit of 1 B") {
				t.Fatalf("got %v", err)
			}
			requirePass(t, checks.Memory(m, 1<<50))
		})
	}
}

func TestMemoryInvalidConfiguration(t *testing.T) {
	requireFail(t, checks.Memory(0, 1<<30).Check(testCtx(t)), "Memory")
	requireFail(t, checks.Memory(checks.MemoryMetric(42), 1<<30).Check(testCtx(t)), "Memory")
	requireFail(t, checks.Memory(checks.HeapMemory, 0).Check(testCtx(t)), "Memory")
	if runtime.GOOS != "linux" {
		requireFail(t, checks.Memory(checks.RSSMemory, 1<<30).Check(testCtx(t)), "Memory")
	}
}

func TestMemoryMetricString(t *testing.T) {
	for m, want := range map[checks.MemoryMetric]string{
		checks.HeapMemory: "heap", checks.GoMemory: "Go", checks.RSSMemory: "RSS", 0: "MemoryMetric(0)",
	} {
		if got := m.String(); got != want {
			t.Errorf("%d: got %q, want %q", int(m), got, want)
		}
	}
}
