package health

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const maxNameLen = 63

// Registry holds named checks in the three groups and serves them. Create
// one with New; the zero value is not usable. All methods are safe for
// concurrent use. Background checks (Every) run until Close is called or the
// WithContext context is done.
type Registry struct {
	logger       *slog.Logger
	details      func(*http.Request) bool
	detailsGuard guard
	parent       context.Context // values for check contexts (WithContext)
	parentDone   <-chan struct{} // of the WithContext context; nil if it never ends
	closed       atomic.Bool
	stopped      chan struct{} // closed by shutdown: Done

	// Written by every run, from every core: on cache lines of their own,
	// so that reading the fields around them costs no cache miss.
	_     cacheLinePad
	tasks tracker
	_     cacheLinePad

	subsMu  sync.Mutex                 // serialises changes of subs
	subs    atomic.Pointer[[]*mailbox] // the logger, hooks and observers; copy on write
	logbox  *mailbox                   // nil without a logger
	runSubs atomic.Int32               // how many subscribers want runs

	mu          sync.Mutex // registration
	byName      map[string]*check
	byGroup     [numGroups][]*check // in registration order
	latched     int                 // startup checks that have passed once
	startupDone atomic.Bool         // set under mu
	snap        atomic.Pointer[snapshot]

	tally        [numGroups]tally // checks failing and warning, per group
	ready, alive switchBox

	stateMu       sync.Mutex // orders announcements
	reportedGroup [numGroups]Status
	reportedOwn   [numOwnEntries]Status

	_        cacheLinePad
	version  atomic.Uint64                 // bumped at every change and background result
	notify   atomic.Pointer[chan struct{}] // closed and cleared at each change
	flightMu sync.Mutex
	flights  [numGroups]*flight // the default probe of each group in progress
	_        cacheLinePad

	cache [numGroups][numVariants]atomic.Pointer[rendered]
}

const numGroups = int(Startup) + 1

// cacheLinePad keeps fields that many cores write apart from the others.
type cacheLinePad [64]byte

// New returns an empty registry: liveness, readiness and startup all pass
// until checks are registered (or StartNotReady says otherwise). It
// announces the first status of every group and switch to the hooks and the
// logger.
func New(opts ...Option) *Registry {
	st := settings{logger: slog.New(slog.DiscardHandler), parent: context.Background()}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&st)
		}
	}
	r := &Registry{
		logger:  st.logger,
		details: st.details,
		parent:  st.parent,
		byName:  make(map[string]*check),
		stopped: make(chan struct{}),
	}
	r.tasks.init()
	r.ready.offErr, r.alive.offErr = ErrNotReady, ErrBroken
	var subs []*mailbox
	if r.logger.Handler() != slog.DiscardHandler {
		r.logbox = r.newMailbox("logger", r.logItem)
		subs = append(subs, r.logbox)
	}
	for _, hook := range st.hooks {
		subs = append(subs, r.newMailbox("hook", func(it *item) { hook(it.ev) }))
	}
	r.subs.Store(&subs)
	if st.notReady != nil {
		r.ready.set(false, *st.notReady)
	}
	r.parentDone = r.watchParent(r.parent)
	r.settle(nil) // announce the first statuses
	return r
}

// watchParent arranges for stop to run when parent is done, and returns
// parent's Done channel (nil if it never ends). parent is user code: its
// Done is called once, on a goroutine of its own and waited for at most
// ShowDetailsWait, and a Done that panics, calls runtime.Goexit or hangs is
// taken for a context that never ends, and logged. Neither Err nor Value is
// ever called, so a context that lies there cannot stop the watch.
func (r *Registry) watchParent(parent context.Context) <-chan struct{} {
	var failed *PanicError
	done := boundedCall(&guard{}, ShowDetailsWait, "the Done method of the WithContext context", (<-chan struct{})(nil),
		func() <-chan struct{} { return parent.Done() }, func(pe *PanicError) { failed = pe })
	if failed != nil {
		r.logf(slog.LevelError, "health: WithContext: the context's Done failed; the registry ignores the context", slog.String("panic", failed.msg))
	}
	if done == nil {
		return nil
	}
	go func() {
		select {
		case <-done:
			r.shutdown()
		case <-r.stopped:
		}
	}()
	return done
}

// parentEnded reports whether the WithContext context has ended, without
// calling into it, and stops the registry if so: a probe that comes right
// after the context ended must not get the checks' last passes.
func (r *Registry) parentEnded() bool {
	if r.parentDone == nil {
		return false
	}
	select {
	case <-r.parentDone:
		r.shutdown()
		return true
	default:
		return false
	}
}

// Register adds a check named name to group g. The name must be unique
// across all groups, 1 to 63 characters of [A-Za-z0-9._-] starting and
// ending with a letter or digit, and not the name of one of the registry's
// own entries (EntryAlive, EntryReady, EntryLiveness, EntryStartup).
// Register never replaces a check: a duplicate name, an invalid name or
// group, a nil check, a check made by Misconfigured, an invalid option, a
// dependency outside Readiness, a startup check after startup completed, or
// a closed registry each give an error (matching ErrDuplicateName and so on
// with errors.Is) and leave the registry unchanged. Register runs no user
// code.
//
// A background check (Every) starts running at once (or after its
// InitialDelay). A check that runs on request first runs at the next probe.
func (r *Registry) Register(g Group, name string, check CheckFunc, opts ...CheckOption) error {
	if err := r.register(g, name, check, opts); err != nil {
		return fmt.Errorf("health: register %s check %q: %w", g, name, err)
	}
	return nil
}

func (r *Registry) register(g Group, name string, fn CheckFunc, opts []CheckOption) error {
	if !g.valid() {
		return ErrInvalidGroup
	}
	if err := validateName(name); err != nil {
		return err
	}
	if fn == nil {
		return ErrNilCheck
	}
	if err := misconfiguration(fn); err != nil {
		return err
	}
	cfg := defaultCheckConfig()
	for i, o := range opts {
		if o.apply == nil {
			return fmt.Errorf("%w: option %d is the zero CheckOption", ErrInvalidOption, i)
		}
		if err := o.apply(&cfg); err != nil {
			return err
		}
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.dependency && g != Readiness {
		return fmt.Errorf("%w: a failing dependency must take the pod out of rotation, not restart it "+
			"(a restart never fixes a database outage, and every pod would restart at once); "+
			"register it in Readiness, or check process-local state in %s instead", ErrDependencyGroup, g)
	}
	c := newCheck(r, g, name, fn, cfg)

	r.mu.Lock()
	switch {
	case r.closed.Load():
		r.mu.Unlock()
		return ErrClosed
	case r.byName[name] != nil:
		r.mu.Unlock()
		return ErrDuplicateName
	case g == Startup && r.startupDone.Load():
		r.mu.Unlock()
		return ErrStartupComplete
	}
	r.byName[name] = c
	r.byGroup[g] = append(r.byGroup[g], c)
	r.snap.Store(nil)
	c.mu.Lock()
	c.announce() // the pending status, counted in the group's tally
	c.mu.Unlock()
	r.mu.Unlock()

	if c.background() {
		c.schedule(c.cfg.initialDelay)
	}
	return nil
}

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

// Breaker returns the circuit breaker of the dependency check named name,
// so that the application can send its real calls to the dependency through
// it (see Breaker.Execute and Call): then failures of real traffic open the
// same breaker that readiness reports on, and a breaker opened by traffic
// spares the dependency the probes' calls too.
func (r *Registry) Breaker(name string) (*Breaker, error) {
	r.mu.Lock()
	c := r.byName[name]
	r.mu.Unlock()
	switch {
	case c == nil:
		return nil, fmt.Errorf("health: breaker %q: %w", name, ErrUnknownCheck)
	case c.breaker == nil:
		return nil, fmt.Errorf("health: breaker %q: %w", name, ErrNotDependency)
	}
	return c.breaker, nil
}

// startupLatched records that a startup check has passed for the first
// time, and completes startup when every startup check has.
func (r *Registry) startupLatched() {
	r.mu.Lock()
	r.latched++
	done := !r.startupDone.Load() && r.latched == len(r.byGroup[Startup])
	if done {
		r.startupDone.Store(true)
	}
	r.snap.Store(nil) // the latched check is no longer due
	r.mu.Unlock()
	if done {
		r.settle(nil)
	}
}

// completeEmptyStartup completes a startup group that has no checks when a
// probe looks at it: startup checks may be registered after other checks,
// but not after something has seen startup pass.
func (r *Registry) completeEmptyStartup() {
	if r.startupDone.Load() {
		return
	}
	r.mu.Lock()
	done := !r.startupDone.Load() && len(r.byGroup[Startup]) == 0
	if done {
		r.startupDone.Store(true)
		r.snap.Store(nil)
	}
	r.mu.Unlock()
	if done {
		r.settle(nil)
	}
}

// Close stops the registry: background checks stop, the contexts of
// running checks are cancelled, and checks that run on request report
// ErrClosed from then on (background checks keep their last results). It
// then waits for the registry's goroutines (running checks, hooks,
// observers, the logger) to return, for as long as the longest check
// timeout, at least a second and at most 10 s; if some are still running then, Close
// returns an error naming the checks (or saying that hooks, observers or
// the logger are still busy). Those goroutines end when the code they are
// in returns; nothing waits for them. Use CloseContext to choose the wait.
// Close is idempotent.
func (r *Registry) Close() error {
	grace := time.Second // time for hooks, observers and the logger to catch up
	r.mu.Lock()
	for _, c := range r.byName {
		grace = max(grace, c.cfg.timeout)
	}
	r.mu.Unlock()
	grace = min(grace, closeWaitMax)
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := r.CloseContext(ctx)
	if err != nil {
		return fmt.Errorf("%w after %v", err, grace)
	}
	return nil
}

// closeWaitMax bounds Close's wait: a Timeout may be long (up to
// MaxDuration), and a shutdown must not hang on a check that ignores its
// context.
const closeWaitMax = 10 * time.Second

// CloseContext is Close with the wait bounded by ctx instead: it returns
// nil once every goroutine of the registry has returned, or an error naming
// what is still running when ctx ends.
func (r *Registry) CloseContext(ctx context.Context) error {
	r.shutdown()
	select {
	case <-r.tasks.idle:
		return nil
	case <-ctx.Done():
	}
	var hung []string
	r.mu.Lock()
	for _, c := range r.byName {
		if c.running() {
			hung = append(hung, c.name)
		}
	}
	r.mu.Unlock()
	if len(hung) == 0 {
		return fmt.Errorf("health: close: hooks, observers or the logger still running")
	}
	slices.Sort(hung)
	return fmt.Errorf("health: close: checks still running after cancellation: %s", strings.Join(hung, ", "))
}

// shutdown stops everything without waiting; it runs once.
func (r *Registry) shutdown() {
	if r.closed.Swap(true) {
		return
	}
	r.mu.Lock()
	checks := make([]*check, 0, len(r.byName))
	for _, c := range r.byName {
		checks = append(checks, c)
	}
	r.mu.Unlock()
	for _, c := range checks {
		c.stop()
	}
	r.tasks.close()
	close(r.stopped)
	r.wake()
}

// Done returns a channel that is closed when the registry stops: when
// Close or CloseContext is called, or the context of WithContext ends.
// Consumers that serve the registry's state (watch streams, say) can end
// with it.
func (r *Registry) Done() <-chan struct{} { return r.stopped }
