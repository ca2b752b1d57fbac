package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/benchmarks/internal/benchtable"
	"github.com/probekit/probekit/internal/prereq"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestShellJoinQuotesWhatTheShellWouldSplit(t *testing.T) {
	got := shellJoin([]string{"cd", "benchmarks", "&&", "go", "test", "-run", "^$", "-readme", "", "-out", "it's here", "-count", "4", "."})
	want := `cd benchmarks && go test -run '^$' -readme '' -out 'it'\''s here' -count 4 .`
	if got != want {
		t.Fatalf("shellJoin:\n got %s\nwant %s", got, want)
	}
}

// The whole pipeline, run once and briefly as CI runs it: every benchmark
// once (-benchtime 1x), one loopback round, benchstat, the tables, and the
// splice into a README. It asserts what the run produced, never how fast.
func TestQuickRunProducesEveryArtifact(t *testing.T) {
	if testing.Short() {
		t.Skip("benchall: the quick run builds and runs the benchmarks; skipped with -short")
	}
	prereq.LookPath(t, "wrk", "wrk")
	t.Chdir("../..")
	out := t.TempDir()
	readme := filepath.Join(out, "README.md")
	if err := os.WriteFile(readme, []byte("# B\n"+benchtable.BeginMarker+"\n"+benchtable.EndMarker+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := options{count: 1, benchtime: "1x", rounds: 1, duration: time.Second, out: out, readme: readme, needWrk: true}
	if err := run(context.Background(), o, []string{"-quick"}); err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile(filepath.Join(out, "inprocess.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(in, []byte("\nBenchmarkReadiness/")); n != 21 {
		t.Errorf("inprocess.txt has %d results, want 21:\n%s", n, in)
	}
	for _, want := range []string{"machine: ", "go: go1.", "command: cd benchmarks && go run ./cmd/benchall -quick\n", "bench-command: go test ", "load: ", "load-end: "} {
		if !bytes.Contains(in, []byte("\n"+want)) && !bytes.HasPrefix(in, []byte(want)) {
			t.Errorf("inprocess.txt lacks %q", want)
		}
	}
	stat, err := os.ReadFile(filepath.Join(out, "benchstat.txt"))
	if err != nil || !bytes.Contains(stat, []byte("probekit")) || !bytes.Contains(stat, []byte("alexliesenfeld")) {
		t.Errorf("benchstat.txt (%v):\n%s", err, stat)
	}
	md, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### In-process", "| 10 | 1ms | on-request | hellofresh |", "### Goals"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("README lacks %q:\n%s", want, md)
		}
	}
	if lo, err := os.ReadFile(filepath.Join(out, "loopback.txt")); err != nil || bytes.Count(lo, []byte("\nBenchmarkLoopback/")) != 7 {
		t.Errorf("loopback.txt (%v):\n%s", err, lo)
	}
	if !strings.Contains(string(md), "| 10 | instant | background | probekit |") {
		t.Errorf("README lacks the loopback table:\n%s", md)
	}
}

func TestRunOutsideTheModuleDirectorySaysWhereToRun(t *testing.T) {
	err := run(context.Background(), options{out: t.TempDir()}, nil)
	if err == nil || !strings.Contains(err.Error(), "cd benchmarks && go run ./cmd/benchall") {
		t.Fatalf("run from cmd/benchall: %v", err)
	}
}
