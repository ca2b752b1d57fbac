package grpchealth

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/health"
)

// Server serves grpc.health.v1.Health from a registry; register it with
// grpc_health_v1.RegisterHealthServer. Create it with NewServer; the zero
// value is not usable. All methods are safe for concurrent use, and any
// number of Servers may serve one registry. It keeps no goroutine of its
// own: Watch streams run on gRPC's, and what a stream starts ends with it.
type Server struct {
	healthpb.UnimplementedHealthServer

	reg *health.Registry
	st  Settings // resolved: defaults filled in

	mu     sync.Mutex // serialises rebuilds of cur
	cur    atomic.Pointer[view]
	builds atomic.Int64 // views built, for tests

	// unrecorded is set, for each group, while a Check answered from a
	// view would record a probe of it (health.Report.LastProbed); a timer
	// sets it again recordEvery after each recording.
	unrecorded [len(groups) + 1]atomic.Bool

	polls polls // watchers' runs of on-request checks

	stop     context.Context // done at Shutdown
	stopped  <-chan struct{} // stop.Done()
	shutdown context.CancelFunc
}

// recordEvery is how often, at most, a Check answered from the latest
// results records a probe of its group with the registry (see Check).
const recordEvery = time.Second

// NewServer returns a Server answering for reg as st says. It fails with
// an error matching ErrInvalidSettings if reg is nil or st holds a value
// outside its documented range; it runs nothing and starts no goroutine.
func NewServer(reg *health.Registry, st Settings) (*Server, error) {
	if reg == nil {
		return nil, fmt.Errorf("%w: nil registry", ErrInvalidSettings)
	}
	st, err := st.resolved()
	if err != nil {
		return nil, err
	}
	s := &Server{reg: reg, st: st, polls: polls{at: make(map[string]time.Time)}}
	for _, g := range groups {
		s.unrecorded[g].Store(true)
	}
	s.stop, s.shutdown = context.WithCancel(context.Background())
	s.stopped = s.stop.Done()
	return s, nil
}

// Check answers the status of the service named in req as the HTTP
// handler of the same group or check would (see the package
// documentation): SERVING for pass and warn, NOT_SERVING for fail, and the
// error NOT_FOUND for a name the server does not answer.
//
// A service that rests on checks that run on request is evaluated by
// health.Registry.Check, which runs them (sharing runs with concurrent
// probes of either protocol); if ctx ends first, Check fails with
// DEADLINE_EXCEEDED or CANCELLED, and the runs go on. A service that rests
// on background checks and switches only is answered from the registry's
// latest results, kept by the server until the registry's next change
// (health.Registry.Changed), without building a report; such answers
// record a probe of the group with the registry (health.Report.LastProbed)
// at most once a second. After Shutdown, or once the registry is closed,
// every known service is NOT_SERVING.
func (s *Server) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	name := req.GetService()
	v := s.view()
	svc, i := v.lookup(name)
	if svc == nil {
		return nil, unknownService(name)
	}
	if v.closed || s.isShutdown() {
		return response(healthpb.HealthCheckResponse_NOT_SERVING), nil
	}
	st := v.status[i]
	if v.mustRun(svc) || s.recordDue(svc.group) {
		rep, err := s.reg.Check(ctx, svc.group, svc.names()...)
		if err != nil {
			return nil, rpcError(ctx, err)
		}
		st = rep.Status
	}
	return response(servingStatus(st)), nil
}

// recordDue reports whether the probe of group g a Check answers now
// should be recorded with the registry: the first in recordEvery. It
// reads no clock, which costs a Check more than the rest of its answer.
func (s *Server) recordDue(g health.Group) bool {
	p := &s.unrecorded[g]
	if !p.Load() || !p.CompareAndSwap(true, false) {
		return false
	}
	time.AfterFunc(recordEvery, func() { p.Store(true) })
	return true
}

// List answers every service name the server answers, with its status
// evaluated as Check would (each check that runs on request is run once,
// however many names rest on it). It fails with RESOURCE_EXHAUSTED,
// running nothing, when there are more than Settings.MaxList names, and as
// Check does when ctx ends first.
func (s *Server) List(ctx context.Context, _ *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	v := s.view()
	names := v.ix.names
	if len(names) > s.st.MaxList {
		return nil, status.Errorf(codes.ResourceExhausted,
			"grpchealth: %d services exceed the List limit of %d: use Check or Watch on each", len(names), s.st.MaxList)
	}
	// The names share one message per status: the response is marshalled
	// once, and answering 100 names costs no 100 allocations.
	var byStatus [healthpb.HealthCheckResponse_SERVICE_UNKNOWN + 1]*healthpb.HealthCheckResponse
	answer := func(st healthpb.HealthCheckResponse_ServingStatus) *healthpb.HealthCheckResponse {
		if byStatus[st] == nil {
			byStatus[st] = response(st)
		}
		return byStatus[st]
	}
	out := &healthpb.HealthListResponse{Statuses: make(map[string]*healthpb.HealthCheckResponse, len(names))}
	if v.closed || s.isShutdown() {
		for _, name := range names {
			out.Statuses[name] = answer(healthpb.HealthCheckResponse_NOT_SERVING)
		}
		return out, nil
	}
	var due []onRequest
	var seen []bool
	for i := range v.ix.services {
		for _, j := range v.ix.services[i].due {
			if v.runs[j].latched || seen != nil && seen[j] {
				continue
			}
			if seen == nil {
				seen = make([]bool, len(v.ix.onRequest))
			}
			seen[j] = true
			due = append(due, v.ix.onRequest[j])
		}
	}
	if len(due) > 0 {
		if err := s.run(ctx, due); err != nil {
			return nil, rpcError(ctx, err)
		}
		v = s.view() // as the runs left it: the same names, or more
	}
	for i, name := range names {
		if v.ix.names[i] != name { // registrations during the runs
			i = v.ix.byName[name]
		}
		out.Statuses[name] = answer(servingStatus(v.status[i]))
	}
	return out, nil
}

// run runs each of checks once, concurrently (sharing runs with
// concurrent probes), and returns when all have a verdict or ctx is done.
func (s *Server) run(ctx context.Context, checks []onRequest) error {
	var g errgroup.Group
	for _, c := range checks {
		g.Go(func() error {
			_, err := s.reg.Check(ctx, c.group, c.name)
			return err
		})
	}
	return g.Wait()
}

// Shutdown ends every open Watch stream, so that grpc.Server.GracefulStop
// can return: each gets NOT_SERVING (unless that was its last message) and
// then ends with UNAVAILABLE, which gRPC clients take as "retry elsewhere,
// with backoff". Watch calls made afterwards end with UNAVAILABLE at once,
// and Check and List answer NOT_SERVING for every service, for good: the
// server is going away. Closing the registry does the same. Call it after
// health.Registry.Drain has kept the process in service, failing
// readiness, for its delay, and just before GracefulStop. Shutdown does
// not wait for the streams to end (GracefulStop does); calling it more than
// once is harmless.
func (s *Server) Shutdown() { s.shutdown() }

func (s *Server) isShutdown() bool { return isClosed(s.stopped) }

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// polls are the runs of on-request checks made for watchers (watch.go):
// one at a time per check for all of them, at most one per WatchPoll.
type polls struct {
	flight singleflight.Group
	mu     sync.Mutex
	// at is, per check, when the server last ran it for watchers or found
	// its latest verdict fresh, whichever is later.
	at map[string]time.Time
}

// servingStatus maps a registry status to the protocol's.
func servingStatus(st health.Status) healthpb.HealthCheckResponse_ServingStatus {
	switch st {
	case health.StatusPass, health.StatusWarn:
		return healthpb.HealthCheckResponse_SERVING
	case health.StatusFail:
		return healthpb.HealthCheckResponse_NOT_SERVING
	}
	return healthpb.HealthCheckResponse_UNKNOWN
}

func response(st healthpb.HealthCheckResponse_ServingStatus) *healthpb.HealthCheckResponse {
	return &healthpb.HealthCheckResponse{Status: st}
}

// maxQuoted bounds how much of a service name an error echoes.
const maxQuoted = 64

func unknownService(name string) error {
	return status.Errorf(codes.NotFound, "grpchealth: unknown service %s", quote(name))
}

// rpcError turns an error of the registry into a status error: ctx's own
// if it ended, INTERNAL otherwise (the registry refusing a registered
// check or a valid group would be a bug here).
func rpcError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	return status.Errorf(codes.Internal, "grpchealth: %v", err)
}
