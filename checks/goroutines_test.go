package checks_test

import (
	"strings"
	"testing"

	"github.com/probekit/probekit/checks"
)

func TestGoroutines(t *testing.T) {
	if err := checks.Goroutines(1 << 20).Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	err := checks.Goroutines(1).Check(testCtx(t)) // the test runner alone runs more
	requireFail(t, err, "Goroutines")
	if !strings.Contains(err.Error(), "above the limit of 1") {
		t.Fatalf("got %v", err)
	}
	requirePass(t, checks.Goroutines(1<<20))
}

func TestGoroutinesInvalidLimit(t *testing.T) {
	for _, n := range []int{0, -1} {
		requireFail(t, checks.Goroutines(n).Check(testCtx(t)), "Goroutines")
	}
}
