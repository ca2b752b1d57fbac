package checks

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// boundedCall runs calls to a client that may ignore its context (a Ping
// method, a database driver) so that a check still returns when its
// context ends. The call runs on a goroutine of its own; if the context ends
// first, the check returns at once and the goroutine is left to finish when
// the client returns. At most one such call is in flight per check: while
// an abandoned call is still running, further runs fail at once instead of
// piling up goroutines behind a hung client. The zero value is ready to use
// and it is safe for concurrent use.
type boundedCall struct {
	running atomic.Bool
}

// errStillRunning fails a run while an abandoned call has not returned.
var errStillRunning = errors.New("the previous call has not returned since its context ended: the client ignores its context")

// do calls call(ctx) and returns its error, or an error wrapping ctx's
// cause if ctx ends first.
func (b *boundedCall) do(ctx context.Context, call func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if !b.running.CompareAndSwap(false, true) {
		return errStillRunning
	}
	done := make(chan error, 1) // buffered: an abandoned call must not block
	go func() {
		defer b.running.Store(false)
		done <- call(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer before the context ended: %w", context.Cause(ctx))
	}
}
