package k8sprobes

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// shutdownRules: the grace period against the preStop wait and, with a
// contract, the app's shutdown budget (PK060, PK061).
func shutdownRules(s *subject) {
	spec := s.p.spec
	grace := seconds(defaultGraceSeconds)
	graceWhat := "the default terminationGracePeriodSeconds of 30"
	graceLine := s.p.line(s.p.path...)
	if g := spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
		graceWhat = fmt.Sprintf("terminationGracePeriodSeconds %d", *g)
		graceLine = s.p.line(append(clonePath(s.p.path), "terminationGracePeriodSeconds")...)
	}
	preStop, known := preStopOf(s.cc.c)
	preStopLine := s.line("lifecycle", "preStop")
	if s.app == nil || s.app.c.Shutdown.Total() == 0 {
		if known && preStop > 0 && preStop >= grace {
			s.report(idGracePeriod, Error, "", graceLine,
				fmt.Sprintf("the preStop wait of %v is not shorter than %s, which counts from before preStop: SIGKILL comes before the app even gets SIGTERM", preStop, graceWhat),
				fmt.Sprintf("terminationGracePeriodSeconds: %d or more (preStop plus the app's own shutdown)", int64(preStop.Seconds())+15))
		}
		return
	}
	sd := s.app.c.Shutdown
	if declared := time.Duration(sd.PreStop); known && preStop < declared {
		what := "no preStop wait"
		if preStop > 0 {
			what = "a preStop wait of " + preStop.String()
		}
		s.report(idMissingPreStop, Warning, "", preStopLine,
			fmt.Sprintf("the app's shutdown budget expects a preStop wait of %v, and the container has %s: after SIGTERM, proxies still send requests while the pod's removal from the endpoints spreads", declared, what),
			fmt.Sprintf("lifecycle: {preStop: {sleep: {seconds: %d}}} (Kubernetes 1.32 or later)", int64(math.Ceil(declared.Seconds()))))
	}
	if !known {
		preStop = time.Duration(sd.PreStop) // an HTTP hook, or a command not read: trust the contract
	}
	var longest time.Duration
	for _, ch := range s.app.c.Checks {
		longest = max(longest, time.Duration(ch.Timeout))
	}
	budget := preStop + time.Duration(sd.Drain) + time.Duration(sd.Timeout) + longest
	if grace > budget {
		return
	}
	s.report(idGracePeriod, Error, "", graceLine,
		fmt.Sprintf("%s does not exceed the shutdown budget of %v (preStop %v + drain %v + shutdown %v + longest check timeout %v), which counts from before preStop: SIGKILL cuts in-flight requests off",
			graceWhat, budget, preStop, time.Duration(sd.Drain), time.Duration(sd.Timeout), longest),
		fmt.Sprintf("terminationGracePeriodSeconds: %d", graceFor(budget)))
}

// graceFor is the grace period Generate gives a budget: the budget rounded
// up to a second, plus 5 s for the kubelet and a loaded node.
func graceFor(budget time.Duration) int64 {
	return int64(math.Ceil(budget.Seconds())) + 5
}

var scriptSleep = regexp.MustCompile(`\bsleep\s+(\d+(?:\.\d+)?)(s|m)?\b`)

// preStopOf returns how long c's preStop hook waits, and whether it could
// be read: no hook (0), a sleep action, or an exec of sleep, directly or in
// a shell script (the sleeps added up). An HTTP hook, or a command without
// a sleep, cannot be read.
func preStopOf(c *corev1.Container) (time.Duration, bool) {
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
		return 0, true
	}
	h := c.Lifecycle.PreStop
	switch {
	case h.Sleep != nil:
		return seconds(int32(min(h.Sleep.Seconds, math.MaxInt32))), true
	case h.Exec == nil || len(h.Exec.Command) == 0:
		return 0, false
	}
	cmd := h.Exec.Command
	if path.Base(cmd[0]) == "sleep" && len(cmd) == 2 {
		return parseSleep(cmd[1], "")
	}
	script, _, ok := shellScript(cmd)
	if !ok {
		return 0, false
	}
	var total time.Duration
	found := false
	for _, m := range scriptSleep.FindAllStringSubmatch(script, -1) {
		if d, ok := parseSleep(m[1], m[2]); ok {
			total += d
			found = true
		}
	}
	return total, found
}

// parseSleep reads sleep's argument: seconds, with an optional s or m.
func parseSleep(arg, unit string) (time.Duration, bool) {
	if unit == "" && len(arg) > 0 && (arg[len(arg)-1] == 's' || arg[len(arg)-1] == 'm') {
		arg, unit = arg[:len(arg)-1], arg[len(arg)-1:]
	}
	f, err := strconv.ParseFloat(arg, 64)
	if err != nil || f < 0 || f > 1e6 {
		return 0, false
	}
	d := time.Duration(f * float64(time.Second))
	if unit == "m" {
		d *= 60
	}
	return d, true
}
