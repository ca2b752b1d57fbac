package health

import (
	"sync"
	"time"
)

// run is one run of a check, and the context the check runs with: it is
// done at the run's deadline, when the registry closes, and when the check
// has returned. Observe records into it. Each run is a new value, so a
// context a check keeps after returning never sees a later run.
type run struct {
	c        *check
	start    time.Time
	deadline time.Time
	allow    func(error) // the breaker's report of this call; nil without one
	// flightTimed: the timer of the flight that started the run gives its
	// timeout verdict, not the check's own.
	flightTimed bool
	waiters     []*flight // probes waiting for the verdict; guarded by c.mu
	buf         [2]*flight

	mu       sync.Mutex
	done     chan struct{} // made by the first Done
	err      error
	obs      *Observation
	raw      []byte      // obs.Value as JSON, encoded by Observe
	obsPanic *PanicError // a MarshalJSON of an observed value panicked
	sealed   bool        // the verdict is taken: Observe is ignored
}

func (x *run) Deadline() (time.Time, bool) { return x.deadline, true }

func (x *run) Done() <-chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.done == nil {
		x.done = make(chan struct{})
		if x.err != nil {
			close(x.done)
		}
	}
	return x.done
}

func (x *run) Err() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.err
}

func (x *run) Value(key any) any {
	if key == (observationKey{}) {
		return x
	}
	return x.c.r.parent.Value(key)
}

func (x *run) cancel(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.err == nil {
		x.err = err
		if x.done != nil {
			close(x.done)
		}
	}
}

// observe records what Observe encoded, unless the verdict is taken.
func (x *run) observe(o *Observation, raw []byte, pe *PanicError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.sealed {
		return
	}
	if pe != nil {
		x.obsPanic = pe
		return
	}
	x.obs, x.raw = o, raw
}

// seal ends Observe for the run and returns what it recorded.
func (x *run) seal() (*Observation, []byte, *PanicError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.sealed = true
	return x.obs, x.raw, x.obsPanic
}
