package checks_test

import (
	"strings"
	"testing"

	"github.com/probekit/probekit/checks"
)

func TestGoroutines(t *testing.T) {
	if err := checks.Goroutines(1 << 20)(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	err := checks.Goroutines(1)(testCtx(t)) // the test runner alone runs more
	requireFail(t, err, "Goroutines")
	if !strings.Contains(err.Error(), "above the limit of 1") {
		t.Fatalf("got %v", err)
	}
	if n, ok := requireObserved(t, checks.Goroutines(1<<20), "goroutines").(int); !ok || n < 2 {
		t.Fatalf("observed %v, want a goroutine count", n)
	}
}

func TestGoroutinesInvalidLimit(t *testing.T) {
	for _, n := range []int{0, -1} {
		requireFail(t, checks.Goroutines(n)(testCtx(t)), "Goroutines")
	}
}
