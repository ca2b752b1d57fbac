package subject

import (
	"context"
	"fmt"
	"time"

	"github.com/alexliesenfeld/health"
)

// startAlexliesenfeld builds a Checker with its cache disabled (without
// that, on-request checks would run at most once a second and the
// comparison would measure the cache), adding the checks as synchronous
// checks in OnRequest mode and as periodic ones (no initial delay) in
// Background mode. It returns how to wait for periodic results.
func startAlexliesenfeld(sub *Subject, check func(context.Context) error) (settle func(context.Context) error) {
	opts := []health.CheckerOption{health.WithDisabledCache()}
	for i := range sub.Checks {
		c := health.Check{Name: checkName(i), Check: check}
		if sub.Mode == Background {
			opts = append(opts, health.WithPeriodicCheck(BackgroundInterval, 0, c))
		} else {
			opts = append(opts, health.WithCheck(c))
		}
	}
	checker := health.NewChecker(opts...) // starts it, periodic checks included
	sub.Handler = health.NewHandler(checker)
	sub.close = checker.Stop
	return func(ctx context.Context) error {
		poll := time.NewTicker(time.Millisecond)
		defer poll.Stop()
		for {
			res := checker.Check(ctx)
			if res.Status == health.StatusUp {
				return nil
			}
			select {
			case <-poll.C:
			case <-ctx.Done():
				return fmt.Errorf("status still %q: %w", res.Status, ctx.Err())
			}
		}
	}
}
