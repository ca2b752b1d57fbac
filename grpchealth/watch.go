package grpchealth

import (
	"context"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/health"
)

// msgShutdown is the message of the UNAVAILABLE status that ends Watch
// streams after Shutdown.
const msgShutdown = "grpchealth: server shutting down"

// notSent is the status last sent before any was.
const notSent healthpb.HealthCheckResponse_ServingStatus = -1

// Watch sends the status of the service named in req at once, then each
// change, until the client goes away, Shutdown, or the registry closes
// (see the package documentation). An unknown name gets SERVICE_UNKNOWN,
// and its status once a check of that name is registered. The stream
// queues no statuses: when flow control holds a send back (a client or a
// network slower than the changes), it sends the latest status once the
// send returns, not those in between.
//
// The stream waits for the registry's next change (health.Registry.Changed)
// and then reads the server's view of the registry, which one change
// rebuilds once for all watchers: an idle watcher costs the registry
// nothing. Only while it watches a service resting on checks that run on
// request does it also wake at Settings.WatchPoll, to have those checks
// run (at most once per WatchPoll for all watchers together), and its
// first message waits for their first verdicts.
func (s *Server) Watch(req *healthpb.HealthCheckRequest, stream grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	if s.isShutdown() || isClosed(s.reg.Done()) {
		return status.Error(codes.Unavailable, msgShutdown)
	}
	// ctx ends with the stream or at Shutdown (the registry's close wakes
	// the stream through Changed).
	ctx, cancel := context.WithCancel(stream.Context())
	defer context.AfterFunc(s.stop, cancel)()
	var polling errgroup.Group // a run of due checks that the stream does not wait for
	defer polling.Wait()
	defer cancel()
	polled := make(chan struct{}, 1) // that run ended
	var inPoll <-chan struct{}       // polled while the run goes on, nil otherwise
	var timer *time.Timer            // while name rests on checks that run on request
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	name := req.GetService()
	last := notSent
	for {
		v := s.view()
		if v.closed || s.isShutdown() {
			return s.endWatch(stream, last)
		}
		st := healthpb.HealthCheckResponse_SERVICE_UNKNOWN
		var poll <-chan time.Time
		if svc, i := v.lookup(name); svc != nil {
			due := v.due(svc)
			switch next, when := s.nextPoll(due); {
			case when == pollFirst:
				// A status resting on a check that never ran is only
				// assumed: send what its first run says instead.
				if err := s.refresh(ctx, due); err != nil && ctx.Err() != nil {
					if err := stream.Context().Err(); err != nil {
						return status.FromContextError(err).Err()
					}
				}
				continue
			case when == pollNow && inPoll == nil:
				inPoll = polled
				polling.Go(func() error {
					_ = s.refresh(ctx, due)
					polled <- struct{}{}
					return nil
				})
			case when == pollLater:
				if timer == nil {
					timer = time.NewTimer(time.Until(next))
				} else {
					timer.Reset(time.Until(next))
				}
				poll = timer.C
			}
			st = servingStatus(v.status[i])
		}
		if st != last {
			if err := stream.Send(response(st)); err != nil {
				return err
			}
			last = st
		}
		select {
		case <-v.changed:
		case <-poll:
		case <-inPoll:
			inPoll = nil
		case <-ctx.Done():
			if err := stream.Context().Err(); err != nil {
				return status.FromContextError(err).Err()
			}
			// Shutdown: the loop ends the stream.
		}
	}
}

// endWatch ends a stream at Shutdown or at the registry's close: with
// NOT_SERVING first, unless that was its last message.
func (s *Server) endWatch(stream grpc.ServerStreamingServer[healthpb.HealthCheckResponse], last healthpb.HealthCheckResponse_ServingStatus) error {
	if last != healthpb.HealthCheckResponse_NOT_SERVING {
		_ = stream.Send(response(healthpb.HealthCheckResponse_NOT_SERVING))
	}
	return status.Error(codes.Unavailable, msgShutdown)
}

// When checks that run on request are due to be run for watchers.
const (
	pollNever = iota // no such check
	pollLater        // at the time nextPoll returns
	pollNow          // WatchPoll after the latest verdict, or after the server last ran it
	pollFirst        // now, and one has never run
)

// nextPoll returns when the first of checks is due to be run for watchers,
// and whether that is now.
func (s *Server) nextPoll(checks []onRequest) (next time.Time, due int) {
	if len(checks) == 0 {
		return next, pollNever
	}
	now := time.Now()
	due = pollLater
	s.polls.mu.Lock()
	defer s.polls.mu.Unlock()
	for _, c := range checks {
		at := c.at
		if p := s.polls.at[c.name]; p.After(at) {
			at = p
		}
		switch t := at.Add(s.st.WatchPoll); {
		case at.IsZero():
			return now, pollFirst
		case !t.After(now):
			next, due = now, pollNow
		case due == pollLater && (next.IsZero() || t.Before(next)):
			next = t
		}
	}
	return next, due
}

// refresh runs, for watchers, those of checks that are due (see nextPoll),
// concurrently, and returns when each has a verdict or ctx is done. Each
// check is run by one watcher at a time: the others wait for its verdict.
func (s *Server) refresh(ctx context.Context, checks []onRequest) error {
	var g errgroup.Group
	for _, c := range checks {
		if _, due := s.nextPoll([]onRequest{c}); due == pollLater {
			continue
		}
		g.Go(func() error {
			done := s.polls.flight.DoChan(c.name, func() (any, error) { return nil, s.poll(ctx, c) })
			select {
			case r := <-done:
				return r.Err // the runner's error: if its stream ended, the next refresh runs c
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}
	return g.Wait()
}

// poll runs c unless its latest verdict, whoever's run took it (an HTTP
// probe's, say), is under WatchPoll old, and notes when.
func (s *Server) poll(ctx context.Context, c onRequest) error {
	at := time.Now()
	// By name: registrations since the view may have moved c's position.
	rep := s.reg.Latest(c.group)
	var res health.CheckResult
	if i, ok := slices.BinarySearchFunc(rep.Checks, c.name, func(r health.CheckResult, name string) int {
		return strings.Compare(r.Name, name)
	}); ok {
		res = rep.Checks[i]
	}
	if res.Time.IsZero() || at.Sub(res.Time) >= s.st.WatchPoll {
		if _, err := s.reg.Check(ctx, c.group, c.name); err != nil && ctx.Err() != nil {
			return err // not run for watchers: whoever refreshes next runs it
		}
		at = time.Now()
	} else {
		at = res.Time
	}
	s.polls.mu.Lock()
	if at.After(s.polls.at[c.name]) {
		s.polls.at[c.name] = at
	}
	s.polls.mu.Unlock()
	return nil
}
