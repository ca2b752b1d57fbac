package benchtable_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/benchmarks/internal/benchtable"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var update = flag.Bool("update", false, "rewrite testdata/table.golden from the samples")

// The samples are real output of this module's benchmarks (benchall
// -count 2 -benchtime 100ms -rounds 2 -duration 1s) on the 2-core machine,
// at a busy moment: their figures fail every goal.
func read(t *testing.T, name string) *benchtable.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bf, err := benchtable.Read(f, "results/"+name)
	if err != nil {
		t.Fatal(err)
	}
	return bf
}

func parse(t *testing.T, text string) *benchtable.File {
	t.Helper()
	f, err := benchtable.Read(strings.NewReader(text), "results/inline.txt")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReadRealSamples(t *testing.T) {
	in := read(t, "inprocess.txt")
	if len(in.Series) != 21 {
		t.Fatalf("%d in-process series, want 21 (3 workloads × 7 subjects)", len(in.Series))
	}
	s := in.Series[8]
	want := map[string]string{"checks": "10", "kind": "instant", "mode": "on-request", "lib": "probekit"}
	for k, v := range want {
		if s.Keys[k] != v {
			t.Fatalf("series 8 keys %v, want %v", s.Keys, want)
		}
	}
	if m, _ := s.Median("ns/op"); m != (100232+102378)/2.0 {
		t.Errorf("median ns/op %v", m)
	}
	if m, _ := s.Median("allocs/op"); m != 259 || s.Samples("ns/op") != 2 {
		t.Errorf("median allocs/op %v over %d samples", m, s.Samples("ns/op"))
	}
	if in.Config["go"] != "go1.26.8" || in.Config["cpu"] != "Intel(R) Xeon(R) Processor" || !strings.HasPrefix(in.Config["bench-command"], "go test ") {
		t.Errorf("config %v", in.Config)
	}

	lo := read(t, "loopback.txt")
	if len(lo.Series) != 7 || lo.Series[1].Keys["lib"] != "probekit" {
		t.Fatalf("loopback series: %d, second %v", len(lo.Series), lo.Series[1].Keys)
	}
	if m, _ := lo.Series[1].Median("x-bare"); m != (0.0841+0.1255)/2 {
		t.Errorf("median ratio %v", m)
	}
	if l, h, ok := lo.Series[1].Range("x-bare"); !ok || l != 0.0841 || h != 0.1255 {
		t.Errorf("range of ratios %v–%v", l, h)
	}
	if !strings.HasPrefix(lo.Config["wrk"], "wrk ") {
		t.Errorf("config %v", lo.Config)
	}
}

func TestMedian(t *testing.T) {
	f := parse(t, "BenchmarkReadiness/lib=a 1 5 ns/op\nBenchmarkReadiness/lib=a 1 1 ns/op\nBenchmarkReadiness/lib=a 1 3 ns/op\n"+
		"BenchmarkReadiness/lib=b 1 4 ns/op\nBenchmarkReadiness/lib=b 1 1 ns/op\n")
	if m, ok := f.Series[0].Median("ns/op"); !ok || m != 3 {
		t.Errorf("median of 5 1 3: %v", m)
	}
	if m, ok := f.Series[1].Median("ns/op"); !ok || m != 2.5 {
		t.Errorf("median of 4 1: %v", m)
	}
	if _, ok := f.Series[1].Median("B/op"); ok {
		t.Error("median of no samples")
	}
}

func TestReadRefusesMalformedResults(t *testing.T) {
	for name, text := range map[string]string{
		"positional name part": "BenchmarkReadiness/probekit 1 2 ns/op\n",
		"bad value":            "BenchmarkReadiness/lib=a 1 fast ns/op\n",
	} {
		if _, err := benchtable.Read(strings.NewReader(text), "x.txt"); err == nil || !strings.Contains(err.Error(), "x.txt:1") {
			t.Errorf("%s: %v, want an error naming x.txt:1", name, err)
		}
	}
}

// The whole rendering of the real samples, compared with a reviewed copy.
func TestRenderRealSamplesMatchesGolden(t *testing.T) {
	md, goals, err := benchtable.Render([]*benchtable.File{read(t, "inprocess.txt"), read(t, "loopback.txt")})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "table.golden")
	if *update {
		if err := os.WriteFile(golden, md, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(md, want) {
		t.Errorf("Render differs from %s (go test -update to accept):\n%s", golden, md)
	}
	if len(goals) != 5 {
		t.Fatalf("%d goals", len(goals))
	}
	for _, g := range goals {
		if g.Met == nil || *g.Met {
			t.Errorf("goal %q: met %v with measured %s; the samples fail every goal", g.What, g.Met, g.Measured)
		}
	}
	if goals[0].Measured != "1.341×" || goals[1].Measured != "259" || goals[2].Measured != "43" || goals[3].Measured != "0.105×" {
		t.Errorf("measured: %+v", goals)
	}
}

func TestGoalsMetByFiguresWithinTheTargets(t *testing.T) {
	in := parse(t, `
BenchmarkReadiness/checks=10/kind=instant/mode=on-request/lib=probekit-2 1000 2500 ns/op 100 B/op 30 allocs/op
BenchmarkReadiness/checks=10/kind=instant/mode=on-request/lib=alexliesenfeld-2 1000 10000 ns/op 100 B/op 130 allocs/op
BenchmarkReadiness/checks=1/kind=instant/mode=on-request/lib=probekit-2 1000 900 ns/op 100 B/op 8 allocs/op
`)
	lo := parse(t, `
BenchmarkLoopback/checks=10/kind=instant/mode=on-request/lib=probekit-2 1000 600 req/s 0.6 x-bare 0.001 p50-sec 0.002 p99-sec
BenchmarkLoopback/checks=10/kind=instant/mode=background/lib=probekit-2 1000 900 req/s 0.9 x-bare 0.001 p50-sec 0.002 p99-sec
`)
	_, goals, err := benchtable.Render([]*benchtable.File{in, lo})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goals {
		if g.Met == nil || !*g.Met {
			t.Errorf("goal %q (%s): measured %s, met %v", g.What, g.Target, g.Measured, g.Met)
		}
	}
}

func TestRenderWithoutLoopbackSaysSo(t *testing.T) {
	md, goals, err := benchtable.Render([]*benchtable.File{read(t, "inprocess.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte("Not run in this measurement (it needs wrk")) {
		t.Errorf("no note of the missing loopback run:\n%s", md)
	}
	if goals[3].Met != nil || goals[3].Measured != "not measured" || goals[0].Met == nil {
		t.Errorf("goals: %+v", goals)
	}
}

func TestRenderRefusesAnUnknownBenchmark(t *testing.T) {
	f := parse(t, "BenchmarkFastPath/handler=bare-2 100 92 ns/op\n")
	if _, _, err := benchtable.Render([]*benchtable.File{f}); err == nil || !strings.Contains(err.Error(), "no table for BenchmarkFastPath") {
		t.Fatalf("Render: %v", err)
	}
}

func TestRenderEscapesConfigurationInCells(t *testing.T) {
	f := parse(t, "BenchmarkReadiness/checks=1/kind=a|b/mode=on-request/lib=probekit 1 2 ns/op\n")
	md, _, err := benchtable.Render([]*benchtable.File{f})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte(`| 1 | a\|b | on-request | probekit |`)) {
		t.Fatalf("cell not escaped:\n%s", md)
	}
}

func TestSplice(t *testing.T) {
	b, e := benchtable.BeginMarker, benchtable.EndMarker
	doc := "# Title\n\n" + b + "\nold table\nmore\n" + e + "\n\nAfter.\n"
	got, err := benchtable.Splice([]byte(doc), []byte("new table\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Title\n\n" + b + "\nnew table\n" + e + "\n\nAfter.\n"; string(got) != want {
		t.Fatalf("Splice:\n%s\nwant:\n%s", got, want)
	}
	again, err := benchtable.Splice(got, []byte("new table\n"))
	if err != nil || !bytes.Equal(again, got) {
		t.Fatalf("Splice is not idempotent: %v\n%s", err, again)
	}
	empty, err := benchtable.Splice([]byte(b+"\n"+e+"\n"), []byte("t"))
	if err != nil || string(empty) != b+"\nt\n"+e+"\n" {
		t.Fatalf("Splice between adjacent markers: %v %q", err, empty)
	}
	for name, bad := range map[string]string{
		"no markers": "# Title\n",
		"no end":     b + "\nx\n",
		"twice":      b + "\n" + e + "\n" + b + "\n" + e + "\n",
		"reversed":   e + "\n" + b + "\n",
	} {
		if out, err := benchtable.Splice([]byte(bad), []byte("t")); err == nil {
			t.Errorf("%s: Splice accepted it: %q", name, out)
		}
	}
}

func TestReadFilesAndSpliceFile(t *testing.T) {
	files, err := benchtable.ReadFiles([]string{filepath.Join("testdata", "inprocess.txt"), filepath.Join("testdata", "loopback.txt")})
	if err != nil || len(files) != 2 || files[1].Name != "testdata/loopback.txt" {
		t.Fatalf("ReadFiles: %v, %d files", err, len(files))
	}
	if _, err := benchtable.ReadFiles([]string{filepath.Join("testdata", "missing.txt")}); err == nil {
		t.Fatal("ReadFiles of a missing file succeeded")
	}
	md, _, err := benchtable.Render(files)
	if err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(t.TempDir(), "README.md")
	doc := "# Benchmarks\n\n" + benchtable.BeginMarker + "\n" + benchtable.EndMarker + "\n"
	if err := os.WriteFile(readme, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := benchtable.SpliceFile(readme, md); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(readme)
	if !bytes.Contains(got, bytes.TrimRight(md, "\n")) || !bytes.HasSuffix(got, []byte(benchtable.EndMarker+"\n")) {
		t.Fatalf("README after SpliceFile:\n%s", got)
	}
	if err := os.WriteFile(readme, []byte("# no markers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := benchtable.SpliceFile(readme, md); err == nil || !strings.Contains(err.Error(), readme) {
		t.Fatalf("SpliceFile without markers: %v", err)
	}
	if got, _ := os.ReadFile(readme); string(got) != "# no markers\n" {
		t.Fatalf("a failed SpliceFile changed the file: %q", got)
	}
}

func TestRenderNamesTheLoadAtStartAndEnd(t *testing.T) {
	f := parse(t, "load: 0.70 1.54 3.00\nload-end: 2.10 1.77 2.93\nBenchmarkReadiness/checks=1/kind=instant/mode=on-request/lib=bare 1 2 ns/op\n")
	md, _, err := benchtable.Render([]*benchtable.File{f})
	if err != nil {
		t.Fatal(err)
	}
	if want := "load average (1, 5, 15 min): 0.70 1.54 3.00 at the start and 2.10 1.77 2.93 at the end of inline.txt\n"; !bytes.Contains(md, []byte(want)) {
		t.Fatalf("want %q in:\n%s", want, md)
	}
}
