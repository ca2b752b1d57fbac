//go:build !linux

package adversarial_test

import "time"

// threadCPU falls back to wall time where the thread's CPU time is not
// available; the comparisons it feeds take the least of several tries.
func threadCPU() time.Duration { return time.Duration(time.Now().UnixNano()) }
