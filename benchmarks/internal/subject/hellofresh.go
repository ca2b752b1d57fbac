package subject

import (
	"context"

	"github.com/hellofresh/health-go/v5"
)

// startHellofresh registers the checks on a new health-go container with
// its defaults (at most runtime.NumCPU checks at once, 2 s timeout). It has
// no background mode and nothing to stop.
func startHellofresh(sub *Subject, check func(context.Context) error) error {
	h, err := health.New()
	if err != nil {
		return err
	}
	for i := range sub.Checks {
		if err := h.Register(health.Config{Name: checkName(i), Check: check}); err != nil {
			return err
		}
	}
	sub.Handler = h.Handler()
	return nil
}
