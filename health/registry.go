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

	"golang.org/x/sync/singleflight"
)

// Names the registry gives the entries it adds to reports; Register refuses
// them. "alive" is the liveness switch and "ready" the readiness switch;
// "liveness" and "startup" are readiness's view of those groups.
const (
	EntryAlive    = "alive"
	EntryReady    = "ready"
	EntryLiveness = "liveness"
	EntryStartup  = "startup"
)

const maxNameLen = 63

// Registry holds named checks in the three groups and serves them. Create
// one with New; the zero value is not usable. All methods are safe for
// concurrent use. Background checks (Every) run until Close is called or the
// WithContext context is done.
type Registry struct {
	logger  *slog.Logger
	logs    bool
	details func(*http.Request) bool
	parent  context.Context
	ctx     context.Context // parent of every check run; cancelled by Close
	cancel  context.CancelFunc
	tasks   tracker
	flight  singleflight.Group

	subsMu sync.Mutex
	subs   []*mailbox // the logger, hooks and observers; copy on write
	logbox *mailbox   // nil without a logger

	mu          sync.RWMutex
	byName      map[string]*check
	lists       [numGroups][]*check // copy-on-write, sorted by name
	startupDone atomic.Bool         // set under mu

	ready, alive switchBox
	draining     atomic.Bool // set by Drain: readiness stays off
	views        [numGroups]view

	notify atomic.Pointer[chan struct{}] // closed and cleared at each change

	stateMu       sync.Mutex // serialises transition detection
	reportedGroup [numGroups]Status
	reportedAlive Status
	reportedReady Status
}

const numGroups = int(Startup) + 1

// New returns an empty registry: liveness, readiness and startup all pass
// until checks are registered (or StartNotReady says otherwise).
func New(opts ...Option) *Registry {
	st := settings{logger: slog.New(slog.DiscardHandler), parent: context.Background()}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&st)
		}
	}
	r := &Registry{
		logger:  st.logger,
		byName:  make(map[string]*check),
		parent:  st.parent,
		details: st.details,
	}
	if r.logger.Handler() != slog.DiscardHandler {
		r.logbox = r.newMailbox("logger", r.logItem)
		r.subs = append(r.subs, r.logbox)
	}
	for _, hook := range st.hooks {
		r.subs = append(r.subs, r.newMailbox("hook", func(it *item) { hook(it.ev) }))
	}
	if st.notReady != nil {
		r.ready.set(false, *st.notReady)
	}
	r.logs = r.logger.Handler() != slog.DiscardHandler
	r.ctx, r.cancel = context.WithCancel(r.parent)
	r.reconcile() // announce the first statuses
	return r
}

// Register adds a check named name to group g. The name must be unique
// across all groups, 1 to 63 characters of [A-Za-z0-9._-] starting and
// ending with a letter or digit, and not one of EntryAlive, EntryReady,
// EntryLiveness or EntryStartup. Register never replaces a check: a
// duplicate name, an invalid name or group, a nil check, an invalid option,
// a dependency outside Readiness, a startup check after startup completed,
// or a closed registry each give an error (matching ErrDuplicateName and so
// on with errors.Is) and leave the registry unchanged.
//
// A background check (Every) starts running at once.
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
	c := &check{name: name, group: g, fn: fn, cfg: cfg}
	if cfg.dependency && c.background() {
		c.wake = make(chan struct{}, 1)
	}
	if cfg.dependency {
		c.breaker = newBreaker(name, cfg.breaker, func(ch BreakerChange) { r.breakerChanged(c, ch) })
	}

	r.mu.Lock()
	switch {
	case r.ctx.Err() != nil:
		r.mu.Unlock()
		return ErrClosed
	case r.byName[name] != nil:
		r.mu.Unlock()
		return ErrDuplicateName
	case g == Startup && r.startupDone.Load():
		r.mu.Unlock()
		return ErrStartupComplete
	}
	if c.background() && !r.tasks.add() {
		r.mu.Unlock()
		return ErrClosed
	}
	r.byName[name] = c
	list := append(slices.Clone(r.lists[g]), c)
	slices.SortFunc(list, func(a, b *check) int { return strings.Compare(a.name, b.name) })
	r.lists[g] = list
	r.mu.Unlock()

	if c.background() {
		go r.loop(c)
	}
	r.changed(g)
	return nil
}

func validateName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case len(s) > maxNameLen:
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidName, maxNameLen)
	case s == EntryAlive || s == EntryReady || s == EntryLiveness || s == EntryStartup:
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

// lists returns the registered checks of every group. The slices are never
// modified after publication, so they can be read without the lock.
func (r *Registry) checkLists() [numGroups][]*check {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.lists
}

// Breaker returns the circuit breaker of the dependency check named name,
// so that the application can send its real calls to the dependency through
// it (see Breaker.Execute and Call): then failures of real traffic open the
// same breaker that readiness reports on, and a breaker opened by traffic
// spares the dependency the probes' calls too.
func (r *Registry) Breaker(name string) (*Breaker, error) {
	r.mu.RLock()
	c := r.byName[name]
	r.mu.RUnlock()
	switch {
	case c == nil:
		return nil, fmt.Errorf("health: breaker %q: %w", name, ErrUnknownCheck)
	case c.breaker == nil:
		return nil, fmt.Errorf("health: breaker %q: %w", name, ErrNotDependency)
	}
	return c.breaker, nil
}

// SetReady turns the readiness switch on or off. While it is off, readiness
// fails (the entry "ready" reports ErrNotReady) whatever the checks say: use
// it to take the process out of rotation during warm-up, maintenance or
// graceful shutdown, and in tests. Once Drain has been called, the switch
// stays off: SetReady(true) is ignored (and logged), so that a late warm-up
// cannot put a process that is shutting down back into rotation.
func (r *Registry) SetReady(ready bool) {
	if ready && r.draining.Load() {
		r.logf(slog.LevelWarn, "health: SetReady(true) ignored: the registry is draining")
		return
	}
	r.ready.set(ready, "")
	r.changed(Readiness)
}

// MarkNotReady turns the readiness switch off, recording reason. The reason
// is shown only to requests allowed details (see ShowDetails) and is logged.
func (r *Registry) MarkNotReady(reason string) {
	r.ready.set(false, reason)
	r.changed(Readiness)
}

// SetAlive turns the liveness switch on or off. While it is off, liveness
// (and therefore readiness) fails, and the kubelet will restart the
// container.
func (r *Registry) SetAlive(alive bool) {
	r.alive.set(alive, "")
	r.changed(Liveness)
}

// MarkBroken turns the liveness switch off, recording reason: the process
// declares itself in a state it cannot recover from (a wedged worker, a
// corrupted cache) and asks to be restarted.
func (r *Registry) MarkBroken(reason string) {
	r.alive.set(false, reason)
	r.changed(Liveness)
}

// Close stops background checks, cancels the contexts of running checks,
// and waits for the registry's goroutines to return. A check that ignores
// its context is waited for up to the longest check timeout; if it is still
// running then, Close returns an error naming it (its goroutine exits when
// the check returns). After Close, handlers serve the last results; checks
// that run on request report ErrClosed. Close is idempotent.
func (r *Registry) Close() error {
	r.cancel()
	idle := r.tasks.close()
	grace := 100 * time.Millisecond
	for _, list := range r.checkLists() {
		for _, c := range list {
			grace = max(grace, c.cfg.timeout)
		}
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-idle:
		return nil
	case <-t.C:
	}
	var hung []string
	for _, list := range r.checkLists() {
		for _, c := range list {
			c.mu.Lock()
			if c.running {
				hung = append(hung, c.name)
			}
			c.mu.Unlock()
		}
	}
	if len(hung) == 0 {
		return fmt.Errorf("health: close: status hooks still running after %v", grace)
	}
	return fmt.Errorf("health: close: checks still running after cancellation: %s", strings.Join(hung, ", "))
}

// switchBox is an on/off switch with a reason; the zero value is on.
type switchBox struct {
	p atomic.Pointer[switchState]
}

type switchState struct {
	off    bool
	reason string
	since  time.Time
}

func (s *switchBox) set(on bool, reason string) {
	s.p.Store(&switchState{off: !on, reason: reason, since: time.Now()})
}

func (s *switchBox) result(name string, offErr error) CheckResult {
	st := s.p.Load()
	if st == nil {
		return CheckResult{Name: name, Status: StatusPass}
	}
	res := CheckResult{Name: name, Status: StatusPass, Time: st.since}
	if st.off {
		res.Status = StatusFail
		res.Err = offErr
		if st.reason != "" {
			res.Err = fmt.Errorf("%w: %s", offErr, st.reason)
		}
	}
	return res
}
