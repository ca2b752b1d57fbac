package healthtest_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

func TestWaitRefusesStatusesAGroupNeverHas(t *testing.T) {
	reg := health.New()
	closeReg(t, reg)
	for _, want := range []health.Status{health.StatusUnknown, health.Status(9)} {
		_, err := healthtest.Wait(context.Background(), reg, health.Readiness, want)
		assert.ErrorContains(t, err, "only ever pass, warn or fail", want)
	}
	_, err := healthtest.Wait(context.Background(), reg, health.Group(0), health.StatusPass)
	assert.ErrorIs(t, err, health.ErrInvalidOption, "Check's error, at once")
}

// Wait follows background checks through Changed, and checks that run on
// request by running them (they change only when something does).
func TestWaitFollowsBothKindsOfCheck(t *testing.T) {
	reg := health.New()
	closeReg(t, reg)
	var bg healthtest.Switch
	bg.Set(healthtest.ErrSwitchedOff)
	require.NoError(t, reg.Register(health.Liveness, "bg", &bg, health.CheckOptions{Every: time.Millisecond}))

	ctx, cancel := context.WithTimeout(context.Background(), healthtest.DefaultWait)
	defer cancel()
	rep, err := healthtest.Wait(ctx, reg, health.Liveness, health.StatusFail)
	require.NoError(t, err)
	assert.Equal(t, health.StatusFail, rep.Status)

	// Nothing probes readiness but Wait itself: the on-request check
	// passes from its fourth run, and Wait must run it again to see that.
	bg.Set(nil)
	var runs atomic.Int32
	require.NoError(t, reg.Register(health.Readiness, "db", health.CheckFunc(func(context.Context) error {
		if runs.Add(1) < 4 {
			return errors.New("down")
		}
		return nil
	})))
	rep, err = healthtest.Wait(ctx, reg, health.Readiness, health.StatusPass)
	require.NoError(t, err)
	assert.Equal(t, health.StatusPass, rep.Status)
	assert.Equal(t, int32(4), runs.Load())
}

func TestWaitNamesWhatFailsWhenCtxEnds(t *testing.T) {
	reg := health.New()
	closeReg(t, reg)
	require.NoError(t, reg.Register(health.Readiness, "db", healthtest.Fixed(errors.New("connection refused"))))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	rep, err := healthtest.Wait(ctx, reg, health.Readiness, health.StatusPass)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "db fail")
	assert.NotContains(t, err.Error(), "liveness", "passing entries are not named")
	assert.Equal(t, health.StatusFail, rep.Status, "the last report seen")
}

// Once the registry is closed nothing changes any more (and Changed stays
// closed): Wait returns at once with ErrClosed instead of spinning until
// ctx ends.
func TestWaitReturnsWhenTheRegistryCloses(t *testing.T) {
	reg := health.New()
	require.NoError(t, reg.Register(health.Readiness, "bg", healthtest.Fixed(nil), health.CheckOptions{Every: time.Hour}))
	healthtest.WaitStatus(t, reg, health.Readiness, health.StatusPass)
	done := make(chan error, 1)
	go func() {
		_, err := healthtest.Wait(context.Background(), reg, health.Readiness, health.StatusFail)
		done <- err
	}()
	require.NoError(t, reg.Close())
	select {
	case err := <-done:
		assert.ErrorIs(t, err, health.ErrClosed)
	case <-time.After(healthtest.DefaultWait):
		t.Fatal("Wait did not return when the registry closed")
	}
	rep, err := healthtest.Wait(context.Background(), reg, health.Readiness, health.StatusPass)
	assert.NoError(t, err, "a status the closed registry has is still found")
	assert.Equal(t, health.StatusPass, rep.Status)
}
