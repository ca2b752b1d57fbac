// Command loopback runs the loopback benchmark alone: every subject behind
// its own http.Server on 127.0.0.1, wrk (Debian package wrk) as the load
// generator in another process, every subject once per round, and prints
// Go benchmark lines (req/s, the ratio to the bare handler of the same
// round, p50 and p99 latency) that benchstat and cmd/benchtable read:
//
//	go run ./cmd/loopback > loopback.txt
//	go tool benchstat -col /lib loopback.txt
//
// The defaults are the setup: 10 instant checks, wrk -t2 -c32,
// 15 rounds of 1 s per subject after a 1 s warm-up per subject.
// cmd/benchall runs it for you, with the machine named in the output.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/probekit/probekit/benchmarks/internal/loopback"
	"github.com/probekit/probekit/benchmarks/internal/wrk"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loopback:", err)
		os.Exit(1)
	}
}

// run parses args, measures, and writes the results to out and progress
// lines to progress.
func run(ctx context.Context, args []string, out, progress io.Writer) error {
	path, err := wrk.Look()
	if err != nil {
		return err
	}
	c := loopback.Default(path)
	fs := flag.NewFlagSet("loopback", flag.ContinueOnError)
	fs.SetOutput(progress)
	fs.IntVar(&c.Rounds, "rounds", c.Rounds, "rounds (every subject once per round)")
	fs.DurationVar(&c.Load.Duration, "duration", c.Load.Duration, "wrk duration per subject and round (whole seconds)")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "unrecorded wrk run per subject before round 1 (whole seconds, 0 for none)")
	fs.IntVar(&c.Load.Threads, "threads", c.Load.Threads, "wrk threads")
	fs.IntVar(&c.Load.Connections, "connections", c.Load.Connections, "wrk connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	c.Progress = progress
	start := time.Now()
	if err := loopback.Run(ctx, c, out); err != nil {
		return err
	}
	fmt.Fprintf(progress, "loopback: done in %v\n", time.Since(start).Round(time.Second))
	return nil
}
