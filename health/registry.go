package health

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/probekit/probekit/internal/bound"
	"github.com/probekit/probekit/internal/tasks"
	"golang.org/x/sync/singleflight"
)

// Registry holds named checks in the three groups and serves them. Create
// one with New; the zero value is not usable. All methods are safe for
// concurrent use.
type Registry struct {
	logger       *slog.Logger
	showDetails  func(*http.Request) bool
	detailsBound bound.Bound
	base         context.Context // parent of every run's context; ends at Close
	cancelBase   context.CancelCauseFunc
	closed       atomic.Bool
	tasks        *tasks.Tracker     // the registry's goroutines, for Close
	flights      singleflight.Group // whole-group evaluations shared among probes

	mu          sync.Mutex // registration; lock order: mu, a check's, stateMu, a mailbox's
	byName      map[string]*check
	byGroup     [numGroups][]*check // in registration order
	latched     int                 // startup checks that have passed once
	startupDone atomic.Bool         // set under mu
	snap        atomic.Pointer[snapshot]
	mounted     []Route // what Mount registered, for Contract
	notReady    bool    // started not ready, for Contract

	tally        [numGroups]tally
	ready, alive switchBox

	stateMu       sync.Mutex // orders announcements
	reportedGroup [numGroups]Status
	reportedOwn   [numOwnEntries]Status

	version   atomic.Uint64                 // bumped at every change and background result
	notify    atomic.Pointer[chan struct{}] // closed and cleared at each change
	cache     [numGroups][numVariants]atomic.Pointer[rendered]
	lastProbe [numGroups]atomic.Int64 // unix nanoseconds

	subsMu sync.Mutex             // serialises changes of subs
	subs   atomic.Pointer[[]*box] // the logger and the observers; copy on write
	logbox *box                   // nil without a logger

	watchdog  *time.Timer // notices probes that never come (watchdog.go)
	everReady atomic.Bool // readiness has passed at least once
}

// Options configures a Registry; pass it to New. Zero fields take the
// defaults documented on each. Given several, each one's non-zero fields
// override the earlier ones'; so it is for CheckOptions and MountOptions.
type Options struct {
	// Logger receives status changes, failure reasons and panic stacks,
	// on a goroutine of the registry's, never a probe's; a panic in it is
	// recovered. Nil logs nothing.
	Logger *slog.Logger
	// ShowDetails decides per request whether failure reasons appear in
	// HTTP responses. Nil means never: error strings leak host names and
	// credentials. Reasons always reach the logger and observers. It must
	// be safe for concurrent use; if it panics, calls runtime.Goexit or
	// does not answer within 100 ms, the request gets no details and the
	// logger hears why, and while a call that did not answer has not
	// returned, later requests get none without a call.
	ShowDetails func(*http.Request) bool
	// StartNotReady, if not empty, starts the readiness switch off for
	// that reason, as MarkNotReady would: readiness fails until MarkReady,
	// so that a pod takes no traffic before it is warm.
	StartNotReady string
}

func (o Options) merge(later []Options) Options {
	for _, l := range later {
		o.Logger, o.StartNotReady = cmp.Or(l.Logger, o.Logger), cmp.Or(l.StartNotReady, o.StartNotReady)
		if l.ShowDetails != nil {
			o.ShowDetails = l.ShowDetails
		}
	}
	return o
}

// New returns an empty registry: every group passes until checks are
// registered (or StartNotReady says otherwise).
func New(opts ...Options) *Registry {
	o := Options{}.merge(opts)
	r := &Registry{logger: o.Logger, showDetails: o.ShowDetails, byName: make(map[string]*check), tasks: tasks.New()}
	r.base, r.cancelBase = context.WithCancelCause(context.Background())
	r.ready.offErr, r.alive.offErr = ErrNotReady, ErrBroken
	var subs []*box
	if r.logger != nil {
		r.logbox = r.newBox(r.logItem, nil) // it cannot report its own failure
		subs = append(subs, r.logbox)
	}
	r.subs.Store(&subs)
	if o.StartNotReady != "" {
		r.ready.set(false, o.StartNotReady, false)
		r.notReady = true
	}
	r.settle(nil) // announce the first statuses
	r.startWatchdog()
	return r
}

// Register adds a check named name to group g. The name must be unique
// across all groups, 1 to 63 characters of [A-Za-z0-9._-] starting and
// ending with a letter or digit, and not one of the registry's own entries
// ("alive", "ready", "liveness", "startup"). A DependencyFunc may only join
// Readiness, where it runs behind a circuit breaker; any other Checker may
// join any group.
//
// Register never replaces a check, and runs no user code: an invalid or
// taken name (ErrInvalidName), an invalid group, a nil check, an invalid
// option, a startup check registered after startup completed
// (ErrInvalidOption), a check made by Misconfigured (ErrMisconfigured), a
// dependency outside Readiness (ErrDependencyGroup), or a closed registry
// (ErrClosed) gives an error and leaves the registry unchanged. A
// background check (CheckOptions.Every) starts running at once; one that
// runs on request first runs at the next probe.
func (r *Registry) Register(g Group, name string, check Checker, opts ...CheckOptions) error {
	if err := r.register(g, name, check, CheckOptions{}.merge(opts)); err != nil {
		return fmt.Errorf("health: register %s check %q: %w", g, clipName(name), err)
	}
	return nil
}

func (r *Registry) register(g Group, name string, checker Checker, o CheckOptions) error {
	if !g.valid() {
		return fmt.Errorf("%w: %v is not Liveness, Readiness or Startup", ErrInvalidOption, g)
	}
	if err := validateName(name); err != nil {
		return err
	}
	dep, isDep := checker.(DependencyFunc)
	if m, ok := checker.(misconfigured); ok {
		return m.err
	}
	if f, ok := checker.(CheckFunc); checker == nil || ok && f == nil || isDep && dep == nil {
		return fmt.Errorf("%w: nil check", ErrInvalidOption)
	}
	dependency := isDep
	if dependency && g != Readiness {
		return fmt.Errorf("%w: a failing dependency must take the pod out of rotation, not restart it "+
			"(a restart never fixes a database outage, and every pod would restart at once); "+
			"register it in Readiness, or check process-local state in %s instead", ErrDependencyGroup, g)
	}
	o, err := o.config(dependency)
	if err != nil {
		return err
	}
	c := &check{r: r, name: name, group: g, checker: checker, opts: o}
	if dependency {
		c.breaker = newBreaker(c, o.Breaker)
	}
	c.execNext = c.exec

	r.mu.Lock()
	switch {
	case r.closed.Load():
		r.mu.Unlock()
		return ErrClosed
	case r.byName[name] != nil:
		r.mu.Unlock()
		return fmt.Errorf("%w: a check named %q is already registered", ErrInvalidName, name)
	case g == Startup && r.startupDone.Load():
		r.mu.Unlock()
		return fmt.Errorf("%w: startup has already completed, and it latches", ErrInvalidOption)
	}
	r.byName[name] = c
	r.byGroup[g] = append(r.byGroup[g], c)
	r.snap.Store(nil)
	c.mu.Lock()
	c.recount() // the pending status, counted in the group's tally
	c.mu.Unlock()
	r.mu.Unlock()

	if c.background() {
		c.schedule(0)
	}
	return nil
}

const maxNameLen = 63

func validateName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case len(s) > maxNameLen:
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidName, maxNameLen)
	case ownEntry(s) != nil:
		return fmt.Errorf("%w: %q is reserved for the registry's own entries", ErrInvalidName, s)
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		alnum := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
		if !alnum && !((b == '.' || b == '_' || b == '-') && i > 0 && i < len(s)-1) {
			return fmt.Errorf("%w: must be letters, digits, '.', '_' or '-', starting and ending with a letter or digit", ErrInvalidName)
		}
	}
	return nil
}

func clipName(name string) string {
	if len(name) > maxNameLen {
		return name[:maxNameLen] + "…"
	}
	return name
}

// Breaker returns the circuit breaker of the dependency check named name
// (ErrUnknownCheck if there is none), through which the application can
// send its own calls to the dependency (Breaker.Execute).
func (r *Registry) Breaker(name string) (*Breaker, error) {
	r.mu.Lock()
	c := r.byName[name]
	r.mu.Unlock()
	if c == nil || c.breaker == nil {
		return nil, fmt.Errorf("health: breaker %q: %w: no dependency check has that name", clipName(name), ErrUnknownCheck)
	}
	return c.breaker, nil
}

// latch counts n more startup checks as passed, completing startup when
// all have (n = 0 from a probe completes a startup without checks: they
// may be registered late, but not after something saw startup pass).
func (r *Registry) latch(n int) {
	if n == 0 && r.startupDone.Load() {
		return
	}
	r.mu.Lock()
	r.latched += n
	done := !r.startupDone.Load() && r.latched == len(r.byGroup[Startup])
	if done {
		r.startupDone.Store(true)
	}
	if n > 0 || done {
		r.snap.Store(nil) // a latched check is no longer due
	}
	r.mu.Unlock()
	if done {
		r.settle(nil)
	}
}

// Close stops the registry: background checks stop, the contexts of
// running checks are done, and checks that run on request report ErrClosed
// from then on (background checks keep their last results). It then waits
// for the registry's goroutines (running checks, observers, the logger)
// for as long as the longest check timeout, at least a second and at most
// 10 s, and returns an error naming the checks (or saying that observers
// or the logger are) still running then. Close is idempotent.
func (r *Registry) Close() error {
	wait := time.Second // time for observers and the logger to catch up
	r.mu.Lock()
	if !r.closed.Swap(true) {
		r.watchdog.Stop()
		for _, c := range r.byName {
			wait = max(wait, c.opts.Timeout)
			c.mu.Lock()
			if c.scheduled != nil {
				c.scheduled.Stop()
			}
			c.mu.Unlock()
		}
		r.cancelBase(ErrClosed)
		r.tasks.Close()
		r.wake()
	}
	r.mu.Unlock()
	select {
	case <-r.tasks.Idle():
		return nil
	case <-time.After(min(wait, 10*time.Second)): // collected once it is unreachable (Go 1.23)
	}
	var hung []string
	r.mu.Lock()
	for _, c := range r.byName {
		c.mu.Lock()
		if c.runs.Busy() || c.cur != nil {
			hung = append(hung, c.name)
		}
		c.mu.Unlock()
	}
	r.mu.Unlock()
	slices.Sort(hung)
	return fmt.Errorf("health: close: still running after %v: checks [%s] (or else observers or the logger)",
		min(wait, 10*time.Second), strings.Join(hung, ", "))
}

// Done returns a channel closed when Close is called, for consumers (watch
// streams, say) to end with the registry.
func (r *Registry) Done() <-chan struct{} { return r.base.Done() }
