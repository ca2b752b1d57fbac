package health_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

func TestMisconfiguredCheckIsRefusedAtRegister(t *testing.T) {
	r := openRegistry(t)
	reason := errors.New("checks: Goroutines: limit must be positive, got 0")
	err := r.Register(health.Liveness, "goroutines", health.Misconfigured(reason))
	require.ErrorIs(t, err, health.ErrMisconfigured)
	require.ErrorIs(t, err, reason)
	assert.Contains(t, err.Error(), "limit must be positive")
	assert.Empty(t, report(t, r, health.Liveness).Checks[0].Err, "nothing was registered but the switch")

	// Called directly, it fails every run with the same error.
	run := health.Misconfigured(reason)(context.Background())
	assert.ErrorIs(t, run, health.ErrMisconfigured)
	assert.ErrorIs(t, run, reason)
	assert.ErrorIs(t, health.Misconfigured(nil)(context.Background()), health.ErrMisconfigured)

	// A check that merely returns the same kind of error is registered.
	require.NoError(t, r.Register(health.Liveness, "plain", func(context.Context) error { return reason }))
}
