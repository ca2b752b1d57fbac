package health

import (
	"testing"
	"time"
)

// jittered spreads a background check's intervals over Every ± 10 %, so
// that pods started together drift apart, and never below a millisecond.
func TestJitterBounds(t *testing.T) {
	const d = time.Second
	lo, hi := d, d
	for range 10000 {
		j := jittered(d)
		if j < d*9/10 || j > d*11/10 {
			t.Fatalf("jittered(%v) = %v, outside ±10%%", d, j)
		}
		lo, hi = min(lo, j), max(hi, j)
	}
	// 10,000 uniform draws all missing the outer fifth of either side has
	// probability 0.8^10000.
	if lo > d*92/100 || hi < d*108/100 {
		t.Errorf("jitter barely spreads: [%v, %v]", lo, hi)
	}
	if j := jittered(time.Millisecond); j < time.Millisecond {
		t.Errorf("jittered(1ms) = %v, below the 1 ms floor", j)
	}
}
