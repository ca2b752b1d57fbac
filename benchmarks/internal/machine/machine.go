// Package machine describes the machine a measurement runs on, for the
// header of the results: benchmark figures mean nothing without it.
package machine

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Describe returns a one-line description such as
// "Intel(R) Xeon(R) Processor (2 cores, 23.5 GiB, linux/amd64, kernel 6.1.0)".
// Parts it cannot read (on a system without /proc) are left out.
func Describe() string {
	parts := []string{fmt.Sprintf("%d cores", runtime.NumCPU())}
	if gib, ok := memGiB(); ok {
		parts = append(parts, fmt.Sprintf("%.1f GiB", gib))
	}
	parts = append(parts, runtime.GOOS+"/"+runtime.GOARCH)
	if k := readTrim("/proc/sys/kernel/osrelease"); k != "" {
		parts = append(parts, "kernel "+k)
	}
	return cpuModel() + " (" + strings.Join(parts, ", ") + ")"
}

// Load returns the 1, 5 and 15 minute load averages ("0.08 0.64 0.59"), or
// "unknown" where /proc/loadavg is missing.
func Load() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// Busy reports whether the 1-minute load average is above half a load per
// core: other work is then competing for the cores and the figures will be
// noisy. It reports false when the load is unknown.
func Busy() (bool, string) {
	load := Load()
	one, err := strconv.ParseFloat(strings.Fields(load + " x")[0], 64)
	if err != nil {
		return false, load
	}
	return one > 0.5*float64(runtime.NumCPU()), load
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memGiB() (float64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "MemTotal:" && fields[2] == "kB" {
			kb, err := strconv.ParseFloat(fields[1], 64)
			return kb / (1 << 20), err == nil
		}
	}
	return 0, false
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
