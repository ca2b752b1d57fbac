// Command fleet computes the load a fleet of pods puts on a shared
// dependency during an outage, depending on how the pods check it, and how
// long their readiness takes to come back once the dependency recovers. It
// prints the tables of docs/fleet.md:
//
//	go run ./examples/fleet                 # the document's fleet
//	go run ./examples/fleet -pods 200 -interval 5s
//	go run ./examples/fleet -validate       # also run the scenarios for real
//	go run ./examples/fleet -probe-contract # what a pod of scenario (c) registers
//
// The durations of the check and of the breaker default to the health
// package's defaults, so the document's numbers follow the library.
//
// With -validate it also runs every scenario with real health.Registry
// instances (and probers that behave like the kubelet) against a TCP
// listener that accepts connections and never answers, in time scaled down
// (-scale), and prints what it measured next to the model's figures: the
// calls per second and open connections during the outage, the time
// readiness takes to pass once the listener answers again, and how the
// trials of breakers opened all at once are spread.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/probekit/probekit/examples/internal/cli"
	"github.com/probekit/probekit/health"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "fleet:", err)
		}
		os.Exit(2)
	}
}

type options struct {
	Params
	validate bool
	vpods    int
	scale    float64
	warm     time.Duration
	window   time.Duration
	contract bool
}

func parse(args []string, errOut io.Writer) (options, error) {
	o := options{Params: Defaults()}
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.IntVar(&o.Pods, "pods", o.Pods, "pods in the fleet")
	fs.DurationVar(&o.Period, "period", o.Period, "kubelet probe period (periodSeconds)")
	fs.DurationVar(&o.ProbeTimeout, "probe-timeout", o.ProbeTimeout, "kubelet probe timeout (timeoutSeconds)")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "check timeout (the default of health.CheckOptions.Timeout)")
	fs.DurationVar(&o.Interval, "interval", o.Interval, "background check interval")
	fs.Float64Var(&o.CheckJitter, "check-jitter", o.CheckJitter, "background check jitter (the health package's; -validate needs it)")
	fs.DurationVar(&o.Open, "open", o.Open, "breaker open period (the default of health.BreakerSettings.Open)")
	fs.Float64Var(&o.BreakerJitter, "breaker-jitter", o.BreakerJitter, "breaker trial jitter (the health package's; -validate needs it)")
	fs.IntVar(&o.Failures, "failures", o.Failures, "consecutive failures that open the breaker (the default of health.BreakerSettings.Failures)")
	fs.DurationVar(&o.RTT, "rtt", o.RTT, "how long a refused call holds a connection")
	fs.DurationVar(&o.Spread, "spread", o.Spread, "how far apart application traffic opens the pods' breakers")
	fs.BoolVar(&o.validate, "validate", false, "also run the scenarios with real registries against a blackholed listener (about 30 s)")
	fs.IntVar(&o.vpods, "validate-pods", 200, "pods per scenario in the validation run")
	fs.Float64Var(&o.scale, "scale", 1.0/10, "time scale of the validation run")
	fs.DurationVar(&o.warm, "warm", 50*time.Second, "validation: wait this long (model time, scaled by -scale) before measuring")
	fs.DurationVar(&o.window, "window", 100*time.Second, "validation: measure the load this long, then spread the recoveries over as long (model time, scaled by -scale)")
	cli.ContractFlag(fs, &o.contract)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return o, o.check()
}

func (o options) check() error {
	var bad []string
	for name, d := range map[string]time.Duration{"period": o.Period, "probe-timeout": o.ProbeTimeout,
		"timeout": o.Timeout, "interval": o.Interval, "open": o.Open} {
		if d <= 0 {
			bad = append(bad, "-"+name+" must be positive")
		}
	}
	if o.Pods < 1 || o.Failures < 1 || o.vpods < 1 {
		bad = append(bad, "-pods, -failures and -validate-pods must be at least 1")
	}
	if o.RTT < 0 || o.Spread < 0 || o.CheckJitter < 0 || o.CheckJitter > 0.5 || o.BreakerJitter < 0 {
		bad = append(bad, "-rtt, -spread and the jitters must not be negative (and -check-jitter at most 0.5)")
	}
	if o.ProbeTimeout > o.Period {
		bad = append(bad, "-probe-timeout must not exceed -period")
	}
	if !(o.scale > 0 && o.scale <= 1) {
		bad = append(bad, "-scale must be in (0, 1]")
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

func run(args []string, out, errOut io.Writer) error {
	o, err := parse(args, errOut)
	if err != nil {
		return err
	}
	if o.contract {
		return printContract(out, o.Params)
	}
	printModel(out, o.Params)
	if !o.validate {
		return nil
	}
	sp := o.Params.Scale(o.scale)
	fmt.Fprintf(out, "\n### Validation: %d pods per scenario, time × %g, blackholed dependency\n\n", o.vpods, o.scale)
	sc := func(d time.Duration) time.Duration { return time.Duration(float64(d) * o.scale) }
	m, err := Validate(context.Background(), TCP, sp, o.vpods, o.vpods, sc(o.warm), sc(o.window))
	if err != nil {
		return err
	}
	printValidation(out, o.Params, m, o.scale)
	return nil
}

// printContract prints the probe contract of one pod of scenario (c), the
// library's recommendation, as the flags set it up: a background
// dependency check in readiness. The pods of a validation run are probed
// in process, so it lists no routes, and they have no shutdown budget.
func printContract(w io.Writer, p Params) error {
	reg := health.New()
	check, opts := podCheck(p, BackgroundBreaker, func(context.Context) error { return nil })
	if err := reg.Register(health.Readiness, "dependency", check, opts); err != nil {
		return errors.Join(err, reg.Close())
	}
	return errors.Join(cli.PrintContract(w, reg, cli.Extra{}), reg.Close())
}

func printModel(w io.Writer, p Params) {
	fmt.Fprintf(w, "Fleet: %d pods. Kubelet: a probe every %v, timeout %v. Checks: every %v ±%.0f%%, timeout %v. "+
		"Breaker: opens after %d consecutive failures, for %v + up to %.0f%%.\n\n",
		p.Pods, p.Period, p.ProbeTimeout, p.Interval, p.CheckJitter*100, p.Timeout,
		p.Failures, p.Open, p.BreakerJitter*100)

	fmt.Fprintf(w, "### Load on the dependency during a long outage\n\n")
	fmt.Fprintf(w, "| scenario | blackhole: calls/s | blackhole: conns held | refuse: calls/s | refuse: conns held |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|\n")
	for _, s := range Scenarios {
		fmt.Fprintf(w, "| %v | %s | %s | %s | %s |\n", s,
			num(p.Calls(s, Blackhole)), num(p.Held(s, Blackhole)), num(p.Calls(s, Refuse)), num(p.Held(s, Refuse)))
	}

	fmt.Fprintf(w, "\n### Timing (blackhole), seconds: from the outage, and from the recovery\n\n")
	fmt.Fprintf(w, "| scenario | 503 within | breaker open within | 200 again within | 200 again, mean |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|\n")
	for _, s := range Scenarios {
		open := "-"
		if v := p.OpenWithin(s, Blackhole); v > 0 {
			open = num(v)
		}
		fmt.Fprintf(w, "| %v | %s | %s | %s | %s |\n", s,
			num(p.FailWithin(s, Blackhole)), open, num(p.RecoverWithin(s, Blackhole)), num(p.RecoverMean(s, Blackhole)))
	}

	fmt.Fprintf(w, "\n### Trial calls at the peak, fleet-wide, calls/s, when all breakers opened at once\n\n")
	fmt.Fprintf(w, "| trials made by | no jitter | jitter %.0f%% |\n", p.BreakerJitter*100)
	fmt.Fprintf(w, "|---|---:|---:|\n")
	fmt.Fprintf(w, "| application traffic (breakers opened within %v) | %s | %s |\n",
		p.Spread, num(p.Herd(p.Spread, 0)), num(p.Herd(p.Spread, p.BreakerJitter)))
	bw := p.BackgroundHerdWindow()
	fmt.Fprintf(w, "| background checks, breakers opened by traffic (within %v) | %s | %s |\n",
		p.Spread, num(p.Herd(bw, 0)), num(p.Herd(bw, p.BreakerJitter)))
	fmt.Fprintf(w, "| background checks, breakers opened by the checks (within one %v interval) | %s | %s |\n",
		p.Interval, num(p.Herd(p.Interval, 0)), num(p.Herd(p.Interval, p.BreakerJitter)))
	fmt.Fprintf(w, "| on-request checks (probes every %v) | %s | %s |\n", p.Period, num(p.Herd(p.Period, 0)), num(p.Herd(p.Period, p.BreakerJitter)))
	fmt.Fprintf(w, "\nWhile the dependency stays down, the trials made as soon as they are due (by traffic, and by background checks "+
		"if their interval is shorter than the open period) come in waves, "+
		"each one open period after the last; at jitter %.0f%% the waves peak at", p.BreakerJitter*100)
	for n := 1; n <= 4; n++ {
		fmt.Fprintf(w, " %s", num(p.HerdWave(n, p.BreakerJitter)))
		if n < 4 {
			fmt.Fprint(w, ",")
		}
	}
	fmt.Fprintf(w, " calls/s; without jitter every wave is the first.\n")
}

func printValidation(w io.Writer, p Params, v Validation, scale float64) {
	// Durations scale with time, rates inversely; connections held (rate
	// × duration) do not scale.
	unscaled := func(d time.Duration) string { return num(d.Seconds() / scale) }
	fmt.Fprintf(w, "Load during the outage:\n\n")
	fmt.Fprintf(w, "| scenario | calls seen | gap between a pod's calls: model | measured | fleet calls/s: model | measured | conns held: model | measured |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range Scenarios {
		got := v.Scenarios[s]
		modelGap := 1 / p.CallsPerPod(s, Blackhole)
		if got.Cycle == 0 {
			fmt.Fprintf(w, "| %v | %d | %s s | too few calls | | | | |\n", s, got.Calls, num(modelGap))
			continue
		}
		fmt.Fprintf(w, "| %v | %d | %s s | %s s | %s | %s | %s | %s |\n", s, got.Calls,
			num(modelGap), unscaled(got.Cycle),
			num(p.Calls(s, Blackhole)), num(got.CallsPerPod()*scale*float64(p.Pods)),
			num(p.Held(s, Blackhole)), num(got.HeldPerPod()*float64(p.Pods)))
	}

	fmt.Fprintf(w, "\nRecovery, each pod's at a random moment, seconds until its readiness passed:\n\n")
	fmt.Fprintf(w, "| scenario | pods back | left out | mean: model | measured | worst: model | measured |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range Scenarios {
		got := v.Scenarios[s]
		fmt.Fprintf(w, "| %v | %d | %d | %s | %s ± %s | %s | %s |\n", s, got.Recovered, got.Missed,
			num(p.RecoverMean(s, Blackhole)), unscaled(got.Recover), unscaled(got.RecoverErr),
			num(p.RecoverWithin(s, Blackhole)), unscaled(got.RecoverMax))
	}

	h := v.Herd
	lo, hi := p.Open.Seconds(), p.Open.Seconds()*(1+p.BreakerJitter)
	fmt.Fprintf(w, "\nHerd: breakers of background dependency checks opened at once by traffic; "+
		"delay of each pod's trial from the opening, seconds:\n\n")
	fmt.Fprintf(w, "| trials | min: model | measured | mean: model | measured | std dev: model | measured | max: model | measured |\n")
	fmt.Fprintf(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", h.Trials,
		num(lo), unscaled(h.Min), num((lo+hi)/2), unscaled(h.Mean), num((hi-lo)/math.Sqrt(12)), unscaled(h.StdDev), num(hi), unscaled(h.Max))
}

// num formats with three significant digits or so, as the tables need.
func num(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "∞"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
