package grpchealth

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/health"
)

// msgShutdown is the message of the UNAVAILABLE status that ends Watch
// streams after Shutdown.
const msgShutdown = "grpchealth: server shutting down"

// Watch sends the status of the service named in req at once, then each
// change, until the client goes away or Shutdown (see the package
// documentation). An unknown name gets SERVICE_UNKNOWN, and its status
// once a check of that name is registered. A client that reads slowly gets
// the latest status when it reads, not every status in between. All
// watchers of a server share one evaluation of each service, and the
// server keeps a goroutine only while someone watches.
func (s *Server) Watch(req *healthpb.HealthCheckRequest, stream grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	if s.isShutdown() {
		return status.Error(codes.Unavailable, msgShutdown)
	}
	ctx := stream.Context()
	w := s.watch.subscribe(s, req.GetService())
	defer s.watch.unsubscribe(w)
	last := healthpb.HealthCheckResponse_ServingStatus(-1) // nothing sent yet
	for {
		select {
		case <-w.notify:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-s.shutdown:
			if last != healthpb.HealthCheckResponse_NOT_SERVING {
				_ = stream.Send(response(healthpb.HealthCheckResponse_NOT_SERVING))
			}
			return status.Error(codes.Unavailable, msgShutdown)
		}
		st, known := s.watch.current(w)
		if !known || st == last {
			continue
		}
		if err := stream.Send(response(st)); err != nil {
			return err
		}
		last = st
	}
}

// watchers are a server's open Watch streams, grouped by service name
// into feeds, and the hub goroutine that keeps the feeds' statuses
// current while there is at least one.
type watchers struct {
	mu     sync.Mutex
	feeds  map[string]*feed
	cancel context.CancelFunc // stops the running hub; nil if none runs
	wake   chan struct{}      // tells the running hub a feed was added
	// attempted is when the hub's last run of each check ended, so that a
	// check whose runs record no verdict (a closed registry) is not run
	// again before its next poll; inFlight holds the checks being run.
	attempted map[string]time.Time
	inFlight  map[string]bool
}

// feed is the status of one service name and who watches it.
type feed struct {
	subs   map[*watcher]struct{}
	known  bool // status has been computed
	status healthpb.HealthCheckResponse_ServingStatus
}

// watcher is one Watch stream. notify holds one token when its feed's
// status may differ from what the stream last sent: many changes while the
// stream is busy make one token, so a slow reader never builds a backlog.
type watcher struct {
	name   string
	feed   *feed
	notify chan struct{}
	primed bool // a refresh has given it a status to send; guarded by watchers.mu
}

func (ws *watchers) init() {
	ws.feeds = make(map[string]*feed)
	ws.attempted = make(map[string]time.Time)
	ws.inFlight = make(map[string]bool)
}

// subscribe adds a watcher of name, starting the hub if none runs.
func (ws *watchers) subscribe(s *Server, name string) *watcher {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	f := ws.feeds[name]
	if f == nil {
		f = &feed{subs: make(map[*watcher]struct{})}
		ws.feeds[name] = f
	}
	w := &watcher{name: name, feed: f, notify: make(chan struct{}, 1)}
	f.subs[w] = struct{}{} // the hub's next refresh, which poke asks for, sends it the current status
	if ws.cancel == nil {
		ctx, cancel := context.WithCancel(context.Background())
		ws.cancel, ws.wake = cancel, make(chan struct{}, 1)
		go s.hub(ctx, ws.wake)
	} else {
		poke(ws.wake)
	}
	return w
}

// unsubscribe removes w, and stops the hub if nobody watches any more.
func (ws *watchers) unsubscribe(w *watcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	delete(w.feed.subs, w)
	if len(w.feed.subs) == 0 {
		delete(ws.feeds, w.name)
	}
	if len(ws.feeds) == 0 && ws.cancel != nil {
		ws.cancel()
		ws.cancel, ws.wake = nil, nil
	}
}

// current returns the status of w's feed, and whether it has one yet.
func (ws *watchers) current(w *watcher) (healthpb.HealthCheckResponse_ServingStatus, bool) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return w.feed.status, w.feed.known
}

// poke leaves a token in ch, a channel of capacity 1, unless one is there.
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// hub keeps the watched feeds current until ctx ends: it re-reads the
// registry's latest results at each change and publishes the statuses that
// moved, and it re-runs the on-request checks the feeds rest on once their
// latest verdict is older than WatchPoll, on goroutines of their own so that
// a slow run never delays a change pushed meanwhile.
func (s *Server) hub(ctx context.Context, wake <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var polls sync.WaitGroup
	defer func() {
		timer.Stop()
		polls.Wait() // at once: their runs end with ctx
	}()
	for {
		changed := s.reg.Changed()
		due, next := s.refresh(ctx)
		if len(due) > 0 {
			polls.Go(func() { s.poll(ctx, due) })
		}
		var tick <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			tick = timer.C
		}
		select {
		case <-changed:
		case <-wake:
		case <-tick:
		case <-ctx.Done():
			return
		}
		timer.Stop()
	}
}

// refresh publishes the status of every feed from the registry's latest
// results. It returns the on-request checks the feeds rest on that are due
// to run, marked in flight, and when the next one will be due.
func (s *Server) refresh(ctx context.Context) (due []health.CheckInfo, next time.Time) {
	ws := &s.watch
	ix := s.index()
	ws.mu.Lock()
	names := make([]string, 0, len(ws.feeds))
	for name := range ws.feeds {
		names = append(names, name)
	}
	last := make(map[string]time.Time, len(ws.attempted))
	for name, at := range ws.attempted {
		last[name] = at
	}
	inFlight := make(map[string]bool, len(ws.inFlight))
	for name := range ws.inFlight {
		inFlight[name] = true
	}
	ws.mu.Unlock()

	targets := make(map[string]Target, len(names))
	for _, name := range names {
		if t, ok := s.resolve(name, ix); ok {
			targets[name] = t
		}
	}
	reports := s.latest(targets)
	startupPassed := false
	if rep, ok := reports[health.Startup]; ok {
		startupPassed = rep.Status == health.StatusPass
	}
	now := time.Now()
	held := make(map[string]bool) // a feed some of whose checks never ran
	for name, t := range targets {
		for _, c := range onRequest(t, ix, startupPassed) {
			at := last[c.Name]
			if res, ok := entry(reports[c.Group], c.Name); ok && res.Time.After(at) {
				at = res.Time
			}
			if at.IsZero() {
				held[name] = true
			}
			switch at = at.Add(s.st.WatchPoll); {
			case inFlight[c.Name]: // its end wakes the hub
			case !at.After(now):
				inFlight[c.Name] = true
				due = append(due, c)
			case next.IsZero() || at.Before(next):
				next = at
			}
		}
	}

	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ctx.Err() != nil {
		return nil, time.Time{} // a stopped hub publishes and runs nothing
	}
	for _, c := range due {
		ws.inFlight[c.Name] = true
	}
	for _, name := range names {
		f := ws.feeds[name]
		if f == nil || held[name] {
			continue
		}
		st := healthpb.HealthCheckResponse_SERVICE_UNKNOWN
		if t, ok := targets[name]; ok {
			hs, ok := statusIn(t, reports)
			if !ok {
				continue // a report older than the index: the next change brings it
			}
			st = servingStatus(hs)
		}
		changed := !f.known || f.status != st
		f.known, f.status = true, st
		for w := range f.subs {
			// A new watcher gets the status as of this refresh, never the
			// feed's status from before the change that woke the hub.
			if changed || !w.primed {
				w.primed = true
				poke(w.notify)
			}
		}
	}
	return due, next
}

// poll runs the due checks, notes when each attempt ended, and wakes the
// running hub.
func (s *Server) poll(ctx context.Context, due []health.CheckInfo) {
	s.runChecks(ctx, due)
	now := time.Now()
	ws := &s.watch
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, c := range due {
		delete(ws.inFlight, c.Name)
		if ctx.Err() == nil {
			ws.attempted[c.Name] = now
		}
	}
	if ws.wake != nil {
		poke(ws.wake)
	}
}
