package subject

import (
	"context"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// startProbekit registers the checks on a new Registry's readiness group,
// with health.CheckOptions{Every: BackgroundInterval} in Background mode,
// using only the stable public API. It returns how to wait for background
// results.
func startProbekit(sub *Subject, check func(context.Context) error) (settle func(context.Context) error) {
	reg := health.New()
	var opts health.CheckOptions
	if sub.Mode == Background {
		opts.Every = BackgroundInterval
	}
	for i := range sub.Checks {
		// Register fails only for a bad name or option, and both are fixed here.
		if err := reg.Register(health.Readiness, checkName(i), health.CheckFunc(check), opts); err != nil {
			panic("subject: probekit refused a fixed check: " + err.Error())
		}
	}
	sub.Handler = reg.Handler(health.Readiness)
	sub.close = func() { _ = reg.Close() }
	return func(ctx context.Context) error {
		_, err := healthtest.Wait(ctx, reg, health.Readiness, health.StatusPass)
		return err
	}
}
