//go:build linux

package adversarial_test

import (
	"syscall"
	"time"
)

// rusageThread is RUSAGE_THREAD, which package syscall does not name.
const rusageThread = 1

// threadCPU returns the CPU time the calling OS thread has used. It does
// not count time the thread spent waiting for a CPU, so it measures work
// rather than how loaded the machine is. Callers lock the goroutine to its
// thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return time.Duration(time.Now().UnixNano()) // fall back to wall time
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
