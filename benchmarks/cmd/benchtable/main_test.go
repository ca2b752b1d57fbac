package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/benchmarks/internal/benchtable"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var samples = []string{"../../internal/benchtable/testdata/inprocess.txt", "../../internal/benchtable/testdata/loopback.txt"}

func TestRunSplicesTheTablesIntoTheReadme(t *testing.T) {
	readme := filepath.Join(t.TempDir(), "README.md")
	if err := os.WriteFile(readme, []byte("# B\n"+benchtable.BeginMarker+"\nstale\n"+benchtable.EndMarker+"\ntail\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(readme, samples); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(readme)
	s := string(got)
	if strings.Contains(s, "stale") || !strings.Contains(s, "### Goals") || !strings.HasSuffix(s, benchtable.EndMarker+"\ntail\n") {
		t.Fatalf("README:\n%s", s)
	}
}

func TestRunRefusesAMissingFile(t *testing.T) {
	if err := run("", []string{"no-such-results.txt"}); err == nil {
		t.Fatal("run with a missing file succeeded")
	}
}
