package grpchealth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/health"
)

// Server serves grpc.health.v1.Health from a registry; register it with
// grpc_health_v1.RegisterHealthServer. Create it with NewServer; the zero value
// is not usable. All methods are safe for concurrent use, and any number
// of Servers may serve one registry.
type Server struct {
	healthpb.UnimplementedHealthServer

	reg *health.Registry
	st  Settings // resolved: defaults filled in

	idx atomic.Pointer[index]

	shutdown     chan struct{} // closed by Shutdown
	shutdownOnce sync.Once

	watch watchers
}

// NewServer returns a Server answering for reg as st says. It fails with
// an error matching ErrInvalidSettings if reg is nil or st holds a value
// outside its documented range; it runs nothing and starts no goroutine
// (watchers do, while there are any).
func NewServer(reg *health.Registry, st Settings) (*Server, error) {
	if reg == nil {
		return nil, fmt.Errorf("%w: nil registry", ErrInvalidSettings)
	}
	st, err := st.resolved()
	if err != nil {
		return nil, err
	}
	s := &Server{reg: reg, st: st, shutdown: make(chan struct{})}
	s.watch.init()
	return s, nil
}

// Check answers the status of the service named in req, evaluated as the
// HTTP handler of the same group or check would (see the package
// documentation): SERVING for pass and warn, NOT_SERVING for fail, and the
// error NOT_FOUND for a name the server does not answer. If ctx ends before
// the checks have their verdicts, Check fails with DEADLINE_EXCEEDED or
// CANCELLED; the runs go on and their verdicts are recorded. After Shutdown
// every known service is NOT_SERVING.
func (s *Server) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	name := req.GetService()
	t, ok := s.resolve(name, s.index())
	if !ok {
		return nil, unknownService(name)
	}
	if s.isShutdown() {
		return response(healthpb.HealthCheckResponse_NOT_SERVING), nil
	}
	var st health.Status
	var err error
	if t.check == "" {
		var rep health.Report
		rep, err = s.reg.Check(ctx, t.group)
		st = rep.Status
	} else {
		var res health.CheckResult
		res, err = s.reg.CheckEntry(ctx, t.group, t.check)
		st = res.Status
	}
	if err != nil {
		return nil, rpcError(ctx, err)
	}
	return response(servingStatus(st)), nil
}

// List answers every service name the server answers, with its status
// evaluated as Check would (each check that runs on request is run once).
// It fails with RESOURCE_EXHAUSTED, running nothing, when there are more
// than Settings.MaxList names, and as Check does when ctx ends first.
func (s *Server) List(ctx context.Context, _ *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	ix := s.index()
	names := s.names(ix)
	if len(names) > s.st.MaxList {
		return nil, status.Errorf(codes.ResourceExhausted,
			"grpchealth: %d services exceed the List limit of %d: use Check or Watch on each", len(names), s.st.MaxList)
	}
	out := &healthpb.HealthListResponse{Statuses: make(map[string]*healthpb.HealthCheckResponse, len(names))}
	if s.isShutdown() {
		for _, name := range names {
			out.Statuses[name] = response(healthpb.HealthCheckResponse_NOT_SERVING)
		}
		return out, nil
	}
	targets := make(map[string]Target, len(names))
	var due []health.CheckInfo
	startupPassed := s.reg.Latest(health.Startup).Status == health.StatusPass
	for _, name := range names {
		t, _ := s.resolve(name, ix)
		targets[name] = t
		due = append(due, onRequest(t, ix, startupPassed)...)
	}
	s.runChecks(ctx, due)
	if err := ctx.Err(); err != nil {
		return nil, rpcError(ctx, err)
	}
	reports := s.latest(targets)
	for name, t := range targets {
		st, ok := statusIn(t, reports)
		if !ok {
			continue // registered after the reports were taken: next time
		}
		out.Statuses[name] = response(servingStatus(st))
	}
	return out, nil
}

// Shutdown ends every open Watch stream, so that grpc.Server.GracefulStop
// can return: each gets NOT_SERVING (unless that was its last message) and
// then ends with UNAVAILABLE, which gRPC clients take as "retry elsewhere,
// with backoff". Watch calls made afterwards end with UNAVAILABLE at once,
// and Check and List answer NOT_SERVING for every service, for good: the
// server is going away. Call it after health.Registry.Drain has kept the
// process in service, failing readiness, for its delay, and just before
// GracefulStop. Shutdown does not wait for the streams to end; calling it
// more than once is harmless.
func (s *Server) Shutdown() {
	s.shutdownOnce.Do(func() { close(s.shutdown) })
}

func (s *Server) isShutdown() bool {
	select {
	case <-s.shutdown:
		return true
	default:
		return false
	}
}

// runChecks runs each of checks once (concurrently, sharing runs with
// concurrent probes) and returns when all have a verdict or ctx is done.
// A check listed twice runs once.
func (s *Server) runChecks(ctx context.Context, checks []health.CheckInfo) {
	var wg sync.WaitGroup
	seen := make(map[string]bool, len(checks))
	for _, c := range checks {
		if seen[c.Name] {
			continue
		}
		seen[c.Name] = true
		wg.Go(func() { _, _ = s.reg.CheckEntry(ctx, c.Group, c.Name) })
	}
	wg.Wait()
}

// latest returns the latest report of each group targets rest on, running
// nothing.
func (s *Server) latest(targets map[string]Target) map[health.Group]health.Report {
	reports := make(map[health.Group]health.Report, 3)
	for _, t := range targets {
		for _, g := range groupsOf(t) {
			if _, ok := reports[g]; !ok {
				reports[g] = s.reg.Latest(g)
			}
		}
	}
	return reports
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
// if it ended, INTERNAL otherwise (a registry that refuses a valid group
// or a registered check is a bug here).
func rpcError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	if errors.Is(err, health.ErrUnknownCheck) {
		return status.Error(codes.NotFound, "grpchealth: unknown service")
	}
	return status.Errorf(codes.Internal, "grpchealth: %v", err)
}
