package machine_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/benchmarks/internal/machine"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDescribeNamesCoresAndPlatform(t *testing.T) {
	d := machine.Describe()
	for _, want := range []string{fmt.Sprintf("%d cores", runtime.NumCPU()), runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe() = %q, want it to contain %q", d, want)
		}
	}
	if _, err := os.Stat("/proc/cpuinfo"); err == nil && strings.HasPrefix(d, "unknown CPU") {
		t.Errorf("Describe() = %q although /proc/cpuinfo exists", d)
	}
}

func TestLoadHasThreeAverages(t *testing.T) {
	if _, err := os.Stat("/proc/loadavg"); err != nil {
		t.Skip("machine: no /proc/loadavg on this system")
	}
	if f := strings.Fields(machine.Load()); len(f) != 3 {
		t.Fatalf("Load() = %q", machine.Load())
	}
}
