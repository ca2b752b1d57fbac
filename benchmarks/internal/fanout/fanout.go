// Package fanout puts many Watch streams of grpc.health.v1 on one gRPC
// health server over loopback, makes one change, and measures what the
// streams cost: memory per idle stream, CPU while nothing changes, and the
// time and CPU for one change to reach every stream. grpchealth (probekit)
// and grpc-go's own health server are measured the same way, so that the
// difference is what grpchealth adds to gRPC's own stream.
package fanout

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	gohealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/health"
)

// Subject is a health server under measurement.
type Subject struct {
	// Name is "grpchealth" or "grpc-go".
	Name string
	// register serves the subject on a grpc.Server; set changes the
	// status of "" (true for SERVING); close frees it.
	register func(*grpc.Server)
	set      func(serving bool)
	close    func()
}

// GRPCHealth is probekit's grpchealth for a registry of checks background
// checks in readiness, whose status "" reports; the change is
// MarkNotReady.
func GRPCHealth(checks int) (*Subject, error) {
	reg := health.New()
	for i := range checks {
		err := reg.Register(health.Readiness, fmt.Sprintf("check-%02d", i),
			health.CheckFunc(func(context.Context) error { return nil }), health.CheckOptions{Every: 10 * time.Second})
		if err != nil {
			_ = reg.Close()
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for reg.Latest(health.Readiness).Status != health.StatusPass { // background checks' first results
		select {
		case <-reg.Changed():
		case <-ctx.Done():
			_ = reg.Close()
			return nil, errors.New("fanout: readiness never passed")
		}
	}
	hs, err := grpchealth.NewServer(reg, grpchealth.Settings{})
	if err != nil {
		_ = reg.Close()
		return nil, err
	}
	return &Subject{
		Name:     "grpchealth",
		register: func(s *grpc.Server) { healthpb.RegisterHealthServer(s, hs) },
		set: func(serving bool) {
			if serving {
				reg.MarkReady()
			} else {
				reg.MarkNotReady("fan-out")
			}
		},
		close: func() { hs.Shutdown(); _ = reg.Close() },
	}, nil
}

// GRPCGo is grpc-go's health server, "" set by hand.
func GRPCGo() *Subject {
	hs := gohealth.NewServer()
	return &Subject{
		Name:     "grpc-go",
		register: func(s *grpc.Server) { healthpb.RegisterHealthServer(s, hs) },
		set: func(serving bool) {
			st := healthpb.HealthCheckResponse_NOT_SERVING
			if serving {
				st = healthpb.HealthCheckResponse_SERVING
			}
			hs.SetServingStatus("", st)
		},
		close: hs.Shutdown,
	}
}

// Result is what one fan-out measured.
type Result struct {
	Subject  string
	Watchers int
	// BytesPerWatcher is the growth of the heap and goroutine stacks in
	// use (runtime.MemStats HeapInuse + StackInuse, after a GC) from
	// before the streams opened to when every stream had its first
	// message, divided by Watchers: client and server side of each
	// stream, both in this process.
	BytesPerWatcher float64
	// GoroutinesPerWatcher is the growth of the goroutine count, per
	// stream.
	GoroutinesPerWatcher float64
	// IdleCPU is the CPU time the process used during Idle with every
	// stream open and nothing changing.
	Idle, IdleCPU time.Duration
	// Change is the time from the change to the last stream receiving it,
	// and ChangeCPU the CPU time the process used meanwhile.
	Change, ChangeCPU time.Duration
	// Received counts the streams that received the change as their next
	// message; every one must.
	Received int
}

// Run serves sub on a loopback port, opens watchers Watch streams of ""
// over conns connections, waits until each has its first message
// (SERVING), measures memory, stays idle for idle, then makes "" NOT_SERVING
// and waits until every stream has received it, or ctx ends. It closes sub.
func Run(ctx context.Context, sub *Subject, watchers, conns int, idle time.Duration) (Result, error) {
	defer sub.close()
	res := Result{Subject: sub.Name, Watchers: watchers, Idle: idle}
	srv := grpc.NewServer()
	sub.register(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		srv.Stop()
		<-served
	}()
	clients := make([]healthpb.HealthClient, conns)
	for i := range clients {
		conn, err := grpc.NewClient("passthrough:///"+ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return res, err
		}
		defer conn.Close()
		clients[i] = healthpb.NewHealthClient(conn)
		if _, err := clients[i].Check(ctx, &healthpb.HealthCheckRequest{}); err != nil { // connects
			return res, fmt.Errorf("fanout: connection %d: %w", i, err)
		}
	}

	heap0, g0 := inUse()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	streams := make([]grpc.ServerStreamingClient[healthpb.HealthCheckResponse], watchers)
	for i := range streams {
		streams[i], err = clients[i%conns].Watch(sctx, &healthpb.HealthCheckRequest{Service: ""})
		if err != nil {
			return res, fmt.Errorf("fanout: stream %d: %w", i, err)
		}
	}
	if err := expect(streams, healthpb.HealthCheckResponse_SERVING, nil); err != nil {
		return res, err
	}
	heap1, g1 := inUse()
	res.BytesPerWatcher = float64(heap1-heap0) / float64(watchers)
	res.GoroutinesPerWatcher = float64(g1-g0) / float64(watchers)

	cpu0 := cpuTime()
	select {
	case <-time.After(idle):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	res.IdleCPU = cpuTime() - cpu0

	cpu0, start := cpuTime(), time.Now()
	sub.set(false)
	err = expect(streams, healthpb.HealthCheckResponse_NOT_SERVING, &res.Received)
	res.Change, res.ChangeCPU = time.Since(start), cpuTime()-cpu0
	return res, err
}

// expect receives the next message of every stream, counting in n those
// that are want, and fails unless all are.
func expect(streams []grpc.ServerStreamingClient[healthpb.HealthCheckResponse], want healthpb.HealthCheckResponse_ServingStatus, n *int) error {
	var bad error
	for i, s := range streams {
		resp, err := s.Recv()
		switch {
		case err != nil:
			bad = fmt.Errorf("fanout: stream %d: %w", i, err)
		case resp.GetStatus() != want:
			bad = fmt.Errorf("fanout: stream %d sent %v, want %v", i, resp.GetStatus(), want)
		case n != nil:
			*n++
		}
	}
	return bad
}

// inUse returns the heap and stack bytes in use after a GC, and the
// number of goroutines.
func inUse() (uint64, int) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse, runtime.NumGoroutine()
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
