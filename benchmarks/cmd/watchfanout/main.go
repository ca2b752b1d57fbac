// Command watchfanout measures Watch fan-out on gRPC health servers over
// loopback: 10,000 Watch streams of "" on one server, memory per idle
// stream, CPU while nothing changes, and one change reaching every
// stream; for probekit's grpchealth (10 background checks in readiness)
// and for grpc-go's own health server, whose figures are gRPC's own cost
// of a stream:
//
//	go run ./cmd/watchfanout
//
// It prints one line per subject and round, then the medians.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"time"

	"github.com/probekit/probekit/benchmarks/internal/fanout"
	"github.com/probekit/probekit/benchmarks/internal/machine"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "watchfanout:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("watchfanout", flag.ContinueOnError)
	watchers := fs.Int("watchers", 10000, "Watch streams")
	conns := fs.Int("conns", 10, "client connections the streams share")
	checks := fs.Int("checks", 10, "background checks of grpchealth's registry")
	idle := fs.Duration("idle", 2*time.Second, "how long the streams stay idle before the change")
	rounds := fs.Int("rounds", 3, "rounds (each subject once per round)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintf(out, "# machine: %s\n# load average at start: %s\n# command: go run ./cmd/watchfanout %s\n",
		machine.Describe(), machine.Load(), joinArgs(args))
	results := map[string][]fanout.Result{}
	for round := range *rounds {
		for _, name := range []string{"grpc-go", "grpchealth"} {
			sub := fanout.GRPCGo()
			if name == "grpchealth" {
				var err error
				if sub, err = fanout.GRPCHealth(*checks); err != nil {
					return err
				}
			}
			res, err := fanout.Run(ctx, sub, *watchers, *conns, *idle)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			results[name] = append(results[name], res)
			fmt.Fprintf(out, "round %d %-10s %6d watchers: %6.0f B/watcher, %.2f goroutines/watcher, idle CPU %v in %v, change to all in %v (CPU %v), %d received\n",
				round+1, name, res.Watchers, res.BytesPerWatcher, res.GoroutinesPerWatcher,
				res.IdleCPU.Round(time.Millisecond), res.Idle, res.Change.Round(time.Millisecond), res.ChangeCPU.Round(time.Millisecond), res.Received)
		}
	}
	fmt.Fprintln(out, "\n| server | watchers | memory per watcher (client + server) | goroutines per watcher | CPU while idle | one change reaches all | CPU for the change |")
	fmt.Fprintln(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, name := range []string{"grpc-go", "grpchealth"} {
		rs := results[name]
		fmt.Fprintf(out, "| %s | %d | %.1f KiB | %.2f | %v in %v | %v | %v |\n", name, *watchers,
			median(rs, func(r fanout.Result) float64 { return r.BytesPerWatcher })/1024,
			median(rs, func(r fanout.Result) float64 { return r.GoroutinesPerWatcher }),
			time.Duration(median(rs, func(r fanout.Result) float64 { return float64(r.IdleCPU) })).Round(time.Millisecond), *idle,
			time.Duration(median(rs, func(r fanout.Result) float64 { return float64(r.Change) })).Round(time.Millisecond),
			time.Duration(median(rs, func(r fanout.Result) float64 { return float64(r.ChangeCPU) })).Round(time.Millisecond))
	}
	return nil
}

func median(rs []fanout.Result, f func(fanout.Result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func joinArgs(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s
}
