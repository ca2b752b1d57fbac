package checks

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"

	"github.com/probekit/probekit/health"
)

// A MemoryMetric names the measure of memory that a Memory check compares
// with its limit. The zero value is not a valid metric.
type MemoryMetric int

const (
	// HeapMemory is the memory occupied by heap objects, live or not yet
	// swept (runtime/metrics "/memory/classes/heap/objects:bytes"). It is
	// the measure that grows with a leak of Go objects, and it ignores
	// memory the runtime keeps around for reuse.
	HeapMemory MemoryMetric = iota + 1
	// GoMemory is all the memory the Go runtime has mapped: heap, stacks,
	// runtime metadata and freed memory not yet returned to the system
	// ("/memory/classes/total:bytes"). It excludes memory allocated by C
	// code through cgo.
	GoMemory
	// RSSMemory is the resident set size of the process, from
	// /proc/self/statm: what the kernel counts against a container's memory
	// limit (apart from page cache), including memory allocated by C code.
	// It is available on Linux only.
	RSSMemory
)

// String returns "heap", "Go" or "RSS".
func (m MemoryMetric) String() string {
	switch m {
	case HeapMemory:
		return "heap"
	case GoMemory:
		return "Go"
	case RSSMemory:
		return "RSS"
	}
	return fmt.Sprintf("MemoryMetric(%d)", int(m))
}

// Memory returns a check that fails when the memory measured by m exceeds
// max bytes. Set max below the container's memory limit, so that a process
// that leaks is restarted cleanly, with a failed probe in its events, before
// the kernel kills it. The check observes the measured memory, in "bytes".
//
// Memory is a check of process-local state, a health.CheckFunc, so it
// suits liveness as well as readiness. An invalid m, a max of 0, or
// RSSMemory on a system other than Linux is a misconfiguration: Register
// refuses the check with an error matching health.ErrMisconfigured and
// starting "checks: Memory:".
func Memory(m MemoryMetric, max uint64) health.Checker {
	var read func() (uint64, error)
	switch m {
	case HeapMemory:
		read = goMetric("/memory/classes/heap/objects:bytes")
	case GoMemory:
		read = goMetric("/memory/classes/total:bytes")
	case RSSMemory:
		if runtime.GOOS != "linux" {
			return misconfigured("Memory", "RSS is only available on Linux, not %s", runtime.GOOS)
		}
		read = readRSS
	default:
		return misconfigured("Memory", "invalid metric %v", m)
	}
	if max == 0 {
		return misconfigured("Memory", "limit must be positive")
	}
	return health.CheckFunc(func(ctx context.Context) error {
		n, err := read()
		if err != nil {
			return failf("Memory", "reading %v memory: %w", m, err)
		}
		if n > max {
			return failf("Memory", "%v memory is %s, above the limit of %s", m, formatBytes(n), formatBytes(max))
		}
		return nil
	})
}

func goMetric(name string) func() (uint64, error) {
	return func() (uint64, error) {
		s := []metrics.Sample{{Name: name}}
		metrics.Read(s)
		if s[0].Value.Kind() != metrics.KindUint64 {
			return 0, fmt.Errorf("runtime/metrics has no metric %s", name)
		}
		return s[0].Value.Uint64(), nil
	}
}

// readRSS reads the second field of /proc/self/statm, the resident pages.
func readRSS() (uint64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, fmt.Errorf("unexpected /proc/self/statm %q", b)
	}
	pages, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unexpected /proc/self/statm %q", b)
	}
	return pages * uint64(os.Getpagesize()), nil
}
