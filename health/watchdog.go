package health

import (
	"log/slog"
	"strings"
	"time"

	"github.com/probekit/probekit/internal/redact"
)

// The watchdog notices probes that never come, a mistake a manifest makes
// and the registry can see at run time: a pod without probes, or whose
// probes point elsewhere, is never restarted when it wedges and takes
// traffic before it is ready. It runs only with a logger. A minute after
// New, if Mount was called and nothing has probed any group yet (an HTTP
// request to a handler, or Check), it logs that once; and every minute
// while readiness has not passed once since start, it logs which entries
// hold it back (a MarkReady that never comes, a dependency that never
// answers). It costs a timer, no goroutine.
var watchdogPeriod = time.Minute

func (r *Registry) startWatchdog() {
	start, warnedUnprobed := time.Now(), false
	r.watchdog = time.AfterFunc(watchdogPeriod, func() {
		r.mu.Lock()
		mounted := len(r.mounted) > 0
		r.mu.Unlock()
		probed := r.lastProbe[Liveness].Load()+r.lastProbe[Readiness].Load()+r.lastProbe[Startup].Load() != 0
		since := slog.Duration("since", time.Since(start).Round(time.Second))
		if mounted && !probed && !warnedUnprobed {
			warnedUnprobed = true
			r.logf(slog.LevelWarn, "health: no probe has reached the registry since it started: "+
				"does the pod's manifest have probes, pointing at the paths Mount serves?", since)
		}
		if r.everReady.Load() {
			if warnedUnprobed || probed || !mounted {
				return // both questions are answered for good
			}
		} else {
			var holding []string
			for _, c := range r.Latest(Readiness).Checks {
				if c.Status == StatusFail {
					holding = append(holding, c.Name+": "+redact.Line(c.Reason, maxReason))
				}
			}
			r.logf(slog.LevelWarn, "health: readiness has not passed since the registry started",
				since, slog.String("failing", strings.Join(holding, "; ")))
		}
		if !r.closed.Load() {
			r.watchdog.Reset(watchdogPeriod)
		}
	})
	if r.logbox == nil {
		r.watchdog.Stop() // nothing to log to
	}
}
