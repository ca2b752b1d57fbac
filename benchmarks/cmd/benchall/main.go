// Command benchall reruns every benchmark of this module and regenerates
// the tables in README.md. Run it from benchmarks/ when the machine is
// otherwise idle:
//
//	cd benchmarks && go run ./cmd/benchall
//
// It runs BenchmarkReadiness (4 runs of the test binary, each timing every
// subject once), then the loopback benchmark (wrk against real servers on
// 127.0.0.1, 15 rounds of 1 s per subject), writes the raw results,
// benchstat's comparison and the tables to results/, and splices the
// tables into README.md between its benchtable markers. With -quick it runs everything once, briefly, into a
// temporary directory and leaves README.md alone: that is what CI runs, so
// that no part of the harness can rot.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/probekit/probekit/benchmarks/internal/benchtable"
	"github.com/probekit/probekit/benchmarks/internal/loopback"
	"github.com/probekit/probekit/benchmarks/internal/machine"
	"github.com/probekit/probekit/benchmarks/internal/wrk"
)

const modulePath = "github.com/probekit/probekit/benchmarks"

type options struct {
	count     int
	benchtime string
	rounds    int
	duration  time.Duration
	warmup    time.Duration
	out       string
	readme    string
	quick     bool
	needWrk   bool
}

func main() {
	var o options
	lo := loopback.Default("") // the loopback defaults, in one place
	flag.IntVar(&o.count, "count", 4, "in-process: runs of the benchmark binary, each timing every subject once (the table shows the median)")
	flag.StringVar(&o.benchtime, "benchtime", "1s", "in-process: go test -benchtime of each run")
	flag.IntVar(&o.rounds, "rounds", lo.Rounds, "loopback: rounds (every subject once per round)")
	flag.DurationVar(&o.duration, "duration", lo.Load.Duration, "loopback: wrk duration per subject and round (whole seconds)")
	flag.DurationVar(&o.warmup, "warmup", lo.Warmup, "loopback: unrecorded wrk run per subject before round 1 (0 for none)")
	flag.StringVar(&o.out, "out", "results", "directory for the raw results, benchstat's comparison and the tables")
	flag.StringVar(&o.readme, "readme", "README.md", `file whose benchtable section gets the tables ("" for none)`)
	flag.BoolVar(&o.quick, "quick", false, "run everything once, briefly (-count 1 -benchtime 1x -rounds 1 -duration 1s -warmup 0), into a temporary -out unless one is given, without touching the README")
	flag.BoolVar(&o.needWrk, "need-wrk", false, "fail instead of skipping the loopback benchmark when wrk is missing")
	flag.Parse()
	if o.quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		o.count, o.benchtime, o.rounds, o.duration, o.warmup = 1, "1x", 1, time.Second, 0
		if !set["readme"] {
			o.readme = ""
		}
		if !set["out"] {
			dir, err := os.MkdirTemp("", "benchall-")
			if err != nil {
				fatal(err)
			}
			o.out = dir
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Args[1:]); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "benchall:", err)
	os.Exit(1)
}

func run(ctx context.Context, o options, args []string) error {
	if err := checkModuleDir(); err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if busy, load := machine.Busy(); busy {
		fmt.Fprintf(os.Stderr, "benchall: warning: load average %s on %s: other work competes for the cores; figures will be noisy\n", load, machine.Describe())
	}
	header := map[string]string{
		"date":     time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		"machine":  machine.Describe(),
		"go":       goEnv(ctx, "GOVERSION"),
		"probekit": provenance(ctx),
		"command":  shellJoin(append([]string{"cd", "benchmarks", "&&", "go", "run", "./cmd/benchall"}, args...)),
	}

	inFile := filepath.Join(o.out, "inprocess.txt")
	if err := inProcess(ctx, o, inFile, header); err != nil {
		return fmt.Errorf("in-process benchmarks: %w", err)
	}
	files := []string{inFile}

	wrkPath, err := wrk.Look()
	switch {
	case err != nil && o.needWrk:
		return err
	case err != nil:
		fmt.Fprintf(os.Stderr, "benchall: skipping the loopback benchmark: %v\n", err)
	default:
		cfg := loopback.Default(wrkPath)
		cfg.Rounds, cfg.Load.Duration, cfg.Warmup, cfg.Progress = o.rounds, o.duration, o.warmup, os.Stderr
		loFile := filepath.Join(o.out, "loopback.txt")
		if err := writeResults(loFile, header, nil, func(w io.Writer) error {
			return loopback.Run(ctx, cfg, io.MultiWriter(w, os.Stdout))
		}); err != nil {
			return fmt.Errorf("loopback benchmark: %w", err)
		}
		files = append(files, loFile)
	}

	if err := compare(ctx, files, filepath.Join(o.out, "benchstat.txt")); err != nil {
		return err
	}
	return tables(files, filepath.Join(o.out, "table.md"), o.readme)
}

// inProcess builds the benchmark binary once and runs it o.count times,
// each run timing every subject once, so that a subject's samples are
// spread over the whole measurement as every other subject's are (go test
// -count would take one subject's samples back to back, and a burst of
// load from elsewhere would then land on one subject only).
func inProcess(ctx context.Context, o options, path string, header map[string]string) error {
	dir, err := os.MkdirTemp("", "benchall-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "readiness.test")
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go test -c: %w", err)
	}
	runArgs := []string{"-test.run", "^$", "-test.bench", "^BenchmarkReadiness$", "-test.benchmem", "-test.benchtime", o.benchtime}
	recorded := fmt.Sprintf("go test -c -o readiness.test . && for i in $(seq %d); do %s; done",
		o.count, shellJoin(append([]string{"./readiness.test"}, runArgs...)))
	return writeResults(path, header, map[string]string{"bench-command": recorded}, func(w io.Writer) error {
		for i := range o.count {
			fmt.Fprintf(os.Stderr, "benchall: in-process run %d/%d\n", i+1, o.count)
			cmd := exec.CommandContext(ctx, bin, runArgs...)
			cmd.Stdout, cmd.Stderr = io.MultiWriter(w, os.Stdout), os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("run %d of %s: %w", i+1, bin, err)
			}
		}
		return nil
	})
}

// writeResults creates path with the configuration lines of header and
// extra (benchfmt's "key: value", read back by benchtable), the load
// average when body started and when it ended, and then what body wrote.
// The configuration comes first so that it applies to every result; body's
// output is held in memory (it is small) until body returns.
func writeResults(path string, header, extra map[string]string, body func(io.Writer) error) error {
	start := machine.Load()
	var out bytes.Buffer
	if err := body(&out); err != nil {
		return err
	}
	var f bytes.Buffer
	for _, kv := range []map[string]string{header, extra} {
		for _, k := range []string{"date", "machine", "go", "probekit", "command", "bench-command"} {
			if v, ok := kv[k]; ok {
				fmt.Fprintf(&f, "%s: %s\n", k, v)
			}
		}
	}
	fmt.Fprintf(&f, "load: %s\nload-end: %s\n", start, machine.Load())
	f.Write(out.Bytes())
	return os.WriteFile(path, f.Bytes(), 0o644)
}

// compare runs benchstat (pinned by this module's tool directive) with the
// libraries as columns, into path.
func compare(ctx context.Context, files []string, path string) error {
	var out bytes.Buffer
	for _, f := range files {
		cmd := exec.CommandContext(ctx, "go", "tool", "benchstat", "-col", "/lib", f)
		cmd.Stdout, cmd.Stderr = &out, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go tool benchstat -col /lib %s: %w", f, err)
		}
		out.WriteString("\n")
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// tables renders the Markdown into path and, unless readme is "", into
// readme's benchtable section; it prints the goals.
func tables(files []string, path, readme string) error {
	parsed, err := benchtable.ReadFiles(files)
	if err != nil {
		return err
	}
	md, goals, err := benchtable.Render(parsed)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, md, 0o644); err != nil {
		return err
	}
	where := path
	if readme != "" {
		if err := benchtable.SpliceFile(readme, md); err != nil {
			return err
		}
		where += " and " + readme
	}
	fmt.Printf("\nbenchall: tables in %s\n", where)
	for _, g := range goals {
		met := "not measured"
		if g.Met != nil {
			met = map[bool]string{true: "met", false: "NOT MET"}[*g.Met]
		}
		fmt.Printf("  %-12s %-8s %-8s %s\n", met, g.Target, g.Measured, g.What)
	}
	return nil
}

// checkModuleDir makes sure benchall runs in the benchmarks module, where
// "go test ." and "go tool benchstat" mean what it needs.
func checkModuleDir() error {
	b, err := os.ReadFile("go.mod")
	if err != nil || !bytes.Contains(b, []byte("module "+modulePath+"\n")) {
		return errors.New("run benchall from the benchmarks directory: cd benchmarks && go run ./cmd/benchall")
	}
	return nil
}

func goEnv(ctx context.Context, key string) string {
	out, err := exec.CommandContext(ctx, "go", "env", key).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// provenance names the probekit source the benchmarks compile: the commit
// of the directory that holds module github.com/probekit/probekit, and
// whether that module has uncommitted changes.
func provenance(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/probekit/probekit").Output()
	if err != nil {
		return "unknown"
	}
	dir := strings.TrimSpace(string(out))
	commit, err := exec.CommandContext(ctx, "git", "-C", dir, "log", "-1", "--format=%h (%cs)").Output()
	if err != nil {
		return dir + " (not a git checkout)"
	}
	s := "commit " + strings.TrimSpace(string(commit))
	dirty, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no",
		"--", ".", ":(exclude)benchmarks", ":(exclude)examples").Output()
	if err == nil && len(bytes.TrimSpace(dirty)) > 0 {
		s += " with uncommitted changes"
	}
	return s
}

// shellJoin joins args into a command a POSIX shell reads back as args,
// quoting those that need it ("" and '^$' included); "&&" stays bare.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "&&" || (a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-") == "") {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}
