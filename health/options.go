package health

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Defaults of the per-check options.
const (
	// DefaultTimeout is half the kubelet's default 1 s probe timeout, so
	// that a check's verdict (even "timed out") reaches the kubelet with
	// room to spare for scheduling delays under CPU throttling, which is
	// exactly when probes start timing out.
	DefaultTimeout = 500 * time.Millisecond
	// DefaultJitter is the fraction of the interval by which each wait of a
	// background check is randomly lengthened or shortened, so that pods
	// started together drift apart instead of checking a shared dependency
	// in lock-step.
	DefaultJitter = 0.1
	// minInterval keeps a typo (Every(time.Nanosecond)) from spinning a core.
	minInterval = time.Millisecond
)

// An Option configures a Registry; pass options to New. Options are made by
// the functions of this package (WithLogger, OnStatusChange, ...) and only
// record settings: none of them runs user code or touches a registry, so an
// option can be built once and passed to any number of New calls. The zero
// Option is ignored.
type Option struct{ apply func(*settings) }

// settings is what the registry options configure, before New builds the
// registry from it.
type settings struct {
	logger   *slog.Logger
	hooks    []func(Event)
	notReady *string // StartNotReady's reason
	details  func(*http.Request) bool
	parent   context.Context
}

// WithLogger sends status changes, failure reasons and panic stacks to l.
// The default (and a nil l) logs nothing. The logger is called on a
// goroutine of the registry's, never on a probe's, so a slow or blocking
// handler delays only the log; a panic in it is recovered.
func WithLogger(l *slog.Logger) Option {
	return Option{func(s *settings) {
		if l != nil {
			s.logger = l
		}
	}}
}

// OnStatusChange calls hook for every Event: a status change of a check or
// a group, or a state change of a dependency's circuit breaker. Each hook
// runs on a goroutine of the registry's (never on a probe request and never
// under a lock), one event at a time and in order, so a slow hook delays its
// own later events but no probe and no other hook. A hook that falls more
// than DefaultQueueLen events behind loses the oldest ones (counted and
// logged) rather than holding memory without bound, and so ends with the
// latest state once it catches up. A panic or
// runtime.Goexit in a hook is recovered and logged, and the hook still gets
// later events. The option may be given several times; every hook is
// called. A nil hook is ignored.
func OnStatusChange(hook func(Event)) Option {
	return Option{func(s *settings) {
		if hook != nil {
			s.hooks = append(s.hooks, hook)
		}
	}}
}

// StartNotReady makes the registry start with the readiness switch off, as
// if MarkNotReady(reason) had been called: readiness fails until SetReady(true).
func StartNotReady(reason string) Option {
	return Option{func(s *settings) { s.notReady = &reason }}
}

// ShowDetailsWait is how long a handler waits for the ShowDetails function
// to decide before it withholds the details.
const ShowDetailsWait = 100 * time.Millisecond

// ShowDetails decides per request whether failure reasons appear in HTTP
// responses. By default (and with a nil show) they never do: error strings
// leak hostnames, DSNs and credentials, and health endpoints are often
// reachable by anyone who can reach the pod. Reasons always go to the logger
// and the hooks. show must be safe for concurrent use; if it panics, calls
// runtime.Goexit or does not answer within ShowDetailsWait, the request gets
// no details.
func ShowDetails(show func(*http.Request) bool) Option {
	return Option{func(s *settings) { s.details = show }}
}

// WithContext ties the registry's lifetime to ctx: when ctx is done, the
// registry stops as if Close had been called (background checks stop,
// on-request checks report ErrClosed; Close is still the way to wait for
// its goroutines). A nil ctx is ignored.
func WithContext(ctx context.Context) Option {
	return Option{func(s *settings) {
		if ctx != nil {
			s.parent = ctx
		}
	}}
}

// A CheckOption configures one check; pass options to Register. An option
// given an out-of-range value makes Register fail with ErrInvalidOption, as
// does the zero CheckOption. Options only record settings; they run no user
// code.
type CheckOption struct{ apply func(*checkConfig) error }

// MaxDuration bounds every duration an option takes (Timeout, Every,
// InitialDelay, the breaker's periods): a longer one is refused with
// ErrInvalidOption rather than overflowing the arithmetic of schedules and
// jitter into a busy loop. A year is longer than any period a health check
// has a use for.
const MaxDuration = 365 * 24 * time.Hour

// maxBreakerBuckets bounds gobreaker's rolling window (Interval /
// BucketPeriod buckets): it allocates them all at once.
const maxBreakerBuckets = 1000

type checkConfig struct {
	timeout      time.Duration
	interval     time.Duration // 0: run on request
	initialDelay time.Duration
	jitter       float64
	nonCritical  bool
	dependency   bool
	breaker      *gobreaker.Settings

	setDelay, setJitter bool
}

func defaultCheckConfig() checkConfig {
	return checkConfig{timeout: DefaultTimeout, jitter: DefaultJitter}
}

func (c *checkConfig) validate() error {
	if c.interval == 0 && (c.setDelay || c.setJitter) {
		return fmt.Errorf("%w: InitialDelay and Jitter apply to background checks only; add Every", ErrInvalidOption)
	}
	if c.breaker != nil && !c.dependency {
		return fmt.Errorf("%w: WithBreaker applies to dependency checks only; add Dependency", ErrInvalidOption)
	}
	return nil
}

// duration checks that d is in (0, MaxDuration] (or [0, MaxDuration] when
// zero is allowed).
func duration(option string, d time.Duration, zeroOK bool) error {
	switch {
	case d < 0 || d == 0 && !zeroOK:
		return fmt.Errorf("%w: %s must be positive, got %v", ErrInvalidOption, option, d)
	case d > MaxDuration:
		return fmt.Errorf("%w: %s must be at most %v (MaxDuration), got %v", ErrInvalidOption, option, MaxDuration, d)
	}
	return nil
}

// Timeout bounds each run of the check. When it fires, the check's context
// is cancelled and the check is reported failed with ErrTimeout at once,
// whether or not the check returns. d must be in (0, MaxDuration]; the
// default is DefaultTimeout.
func Timeout(d time.Duration) CheckOption {
	return CheckOption{func(c *checkConfig) error {
		if err := duration("Timeout", d, false); err != nil {
			return err
		}
		c.timeout = d
		return nil
	}}
}

// Every runs the check in the background, once right away (or after
// InitialDelay) and then every interval (± Jitter), and serves probes from
// its latest result, so that probes cost nothing and a flood of probe
// requests never reaches what the check checks. interval must be in
// [1 ms, MaxDuration]. Without Every, the check runs when a probe asks for
// it; concurrent probes share one run.
//
// Until its first run completes, a background check counts as passing in
// the liveness group (as the kubelet assumes of liveness) and as failing
// elsewhere (ErrPending).
func Every(interval time.Duration) CheckOption {
	return CheckOption{func(c *checkConfig) error {
		if interval < minInterval {
			return fmt.Errorf("%w: Every needs an interval of at least %v, got %v", ErrInvalidOption, minInterval, interval)
		}
		if err := duration("Every", interval, false); err != nil {
			return err
		}
		c.interval = interval
		return nil
	}}
}

// InitialDelay postpones the first run of a background check by d, which
// must be in [0, MaxDuration]. The default is 0: the first run starts at
// once.
func InitialDelay(d time.Duration) CheckOption {
	return CheckOption{func(c *checkConfig) error {
		if err := duration("InitialDelay", d, true); err != nil {
			return err
		}
		c.initialDelay, c.setDelay = d, true
		return nil
	}}
}

// Jitter sets the fraction f of the interval by which each wait of a
// background check is randomly lengthened or shortened: with Every(10s) and
// Jitter(0.1), waits are uniform in [9s, 11s]. f must be in [0, 0.5]; the
// default is DefaultJitter.
func Jitter(f float64) CheckOption {
	return CheckOption{func(c *checkConfig) error {
		if !(f >= 0 && f <= 0.5) { // also rejects NaN
			return fmt.Errorf("%w: Jitter must be in [0, 0.5], got %v", ErrInvalidOption, f)
		}
		c.jitter, c.setJitter = f, true
		return nil
	}}
}

// NonCritical makes a failure of the check report warn instead of fail: the
// group still answers 200. Use it for what the application can live without
// (a cache behind a fallback, a certificate that expires next month).
func NonCritical() CheckOption {
	return CheckOption{func(c *checkConfig) error {
		c.nonCritical = true
		return nil
	}}
}

// Dependency marks the check as checking something outside the process
// (a database, a cache, another service). A dependency check may only join
// Readiness, since restarting a pod never fixes its database, and it runs
// behind a circuit breaker (see Breaker and DefaultBreakerSettings): after
// repeated failures the check stops calling the dependency and answers at
// once from the open breaker until a trial call is due.
func Dependency() CheckOption {
	return CheckOption{func(c *checkConfig) error {
		c.dependency = true
		return nil
	}}
}

// WithBreaker replaces the default settings of a dependency's circuit
// breaker. Zero fields take the defaults of DefaultBreakerSettings, not
// gobreaker's. Name is ignored (the check's name is used). IsExcluded is
// combined with the built-in exclusion of context.Canceled.
//
// Durations must be in [0, MaxDuration], and Interval / BucketPeriod may
// make at most 1000 buckets; anything else is refused with
// ErrInvalidOption. The callbacks are contained: a panic or runtime.Goexit
// in ReadyToTrip, IsSuccessful or IsExcluded fails the run that caused the
// call (ErrPanic) and is otherwise taken as "false"; OnStateChange runs on
// a goroutine of the registry's, after the change and outside every lock,
// like an OnStatusChange hook, so it may call the breaker. ReadyToTrip,
// IsSuccessful and IsExcluded run under gobreaker's lock and must not
// block: while one of them has not returned for a second, the check fails
// with an error saying so instead of waiting for the lock.
func WithBreaker(st gobreaker.Settings) CheckOption {
	return CheckOption{func(c *checkConfig) error {
		for _, d := range []struct {
			name string
			d    time.Duration
		}{{"WithBreaker Timeout", st.Timeout}, {"WithBreaker Interval", st.Interval}, {"WithBreaker BucketPeriod", st.BucketPeriod}} {
			if err := duration(d.name, d.d, true); err != nil {
				return err
			}
		}
		if st.Interval > 0 && st.BucketPeriod > 0 && (st.Interval+st.BucketPeriod-1)/st.BucketPeriod > maxBreakerBuckets {
			return fmt.Errorf("%w: WithBreaker Interval %v / BucketPeriod %v makes more than %d buckets",
				ErrInvalidOption, st.Interval, st.BucketPeriod, maxBreakerBuckets)
		}
		c.breaker = &st
		return nil
	}}
}
