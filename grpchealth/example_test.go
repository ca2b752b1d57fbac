package grpchealth_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/grpchealth"
	"github.com/probekit/probekit/health"
)

// startGRPC serves srv on a loopback port and returns a client connection
// to it; stop stops both.
func startGRPC(srv *grpc.Server) (conn *grpc.ClientConn, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() { _ = srv.Serve(ln) }()
	conn, err = grpc.NewClient("passthrough:///"+ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	return conn, func() { _ = conn.Close(); srv.Stop() }
}

// The health service of a gRPC server, answered from the registry that
// also serves the HTTP probes.
func Example() {
	reg := health.New(health.Options{StartNotReady: "warming up"})
	defer reg.Close()
	_ = reg.Register(health.Readiness, "cache", health.CheckFunc(func(context.Context) error { return nil }))

	hs, err := grpchealth.NewServer(reg, grpchealth.Settings{})
	if err != nil {
		panic(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	conn, stop := startGRPC(srv)
	defer stop()

	client := healthpb.NewHealthClient(conn)
	ask := func(service string) {
		resp, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			fmt.Printf("%q: %v\n", service, status.Code(err))
			return
		}
		fmt.Printf("%q: %v\n", service, resp.GetStatus())
	}
	ask("")
	ask("liveness")
	ask("cache")
	reg.MarkReady() // warm-up done
	ask("")
	ask("payments")
	// Output:
	// "": NOT_SERVING
	// "liveness": SERVING
	// "cache": SERVING
	// "": SERVING
	// "payments": NotFound
}

// Readiness that depends on another gRPC service's health, behind a
// circuit breaker.
func ExampleCheck() {
	upstreamReg := health.New() // stands in for the other service
	defer upstreamReg.Close()
	upstreamHS, _ := grpchealth.NewServer(upstreamReg, grpchealth.Settings{})
	upstream := grpc.NewServer()
	healthpb.RegisterHealthServer(upstream, upstreamHS)
	conn, stop := startGRPC(upstream)
	defer stop()

	reg := health.New()
	defer reg.Close()
	err := reg.Register(health.Readiness, "payments",
		grpchealth.Check(conn, "readiness"), health.CheckOptions{Timeout: time.Second})
	if err != nil {
		panic(err)
	}
	rep, _ := reg.Check(context.Background(), health.Readiness)
	fmt.Println(rep.Status)

	upstreamReg.MarkNotReady("maintenance")
	rep, _ = reg.Check(context.Background(), health.Readiness, "payments")
	res := rep.Checks[0]
	fmt.Println(res.Status, errors.Is(res.Err, grpchealth.ErrNotServing), res.Err)
	// Output:
	// pass
	// fail true grpchealth: service "readiness" is NOT_SERVING: service not serving
}

// Exposing only "" and the name of the application's own gRPC service,
// both answering as readiness, and nothing about the checks behind them.
func ExampleSettings() {
	reg := health.New()
	defer reg.Close()
	_ = reg.Register(health.Readiness, "postgres", health.CheckFunc(func(context.Context) error { return nil }))

	hs, _ := grpchealth.NewServer(reg, grpchealth.Settings{
		Services: map[string]grpchealth.Target{
			"":                   grpchealth.GroupTarget(health.Readiness),
			"helloworld.Greeter": grpchealth.GroupTarget(health.Readiness),
		},
		HideChecks: true,
	})
	list, _ := hs.List(context.Background(), &healthpb.HealthListRequest{})
	for _, name := range []string{"", "helloworld.Greeter", "postgres"} {
		fmt.Printf("%q: %v\n", name, list.GetStatuses()[name].GetStatus())
	}
	// Output:
	// "": SERVING
	// "helloworld.Greeter": SERVING
	// "postgres": UNKNOWN
}

// The SIGTERM sequence: Drain fails readiness at once while the server
// keeps serving; Shutdown then ends the Watch streams so that
// GracefulStop can return.
func ExampleServer_Shutdown() {
	reg := health.New()
	defer reg.Close()
	hs, _ := grpchealth.NewServer(reg, grpchealth.Settings{})
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	conn, stop := startGRPC(srv)
	defer stop()

	// A client watching, as gRPC's client-side health checking does.
	stream, err := healthpb.NewHealthClient(conn).Watch(context.Background(), &healthpb.HealthCheckRequest{Service: ""})
	if err != nil {
		panic(err)
	}
	resp, _ := stream.Recv()
	fmt.Println("watching:", resp.GetStatus())

	// SIGTERM:
	_ = reg.Drain(context.Background(), 0) // usually a few seconds, still serving
	resp, _ = stream.Recv()
	fmt.Println("draining:", resp.GetStatus())
	hs.Shutdown()
	srv.GracefulStop() // returns: no stream is left open
	_, err = stream.Recv()
	fmt.Println("stream ended:", status.Code(err))
	// Output:
	// watching: SERVING
	// draining: NOT_SERVING
	// stream ended: Unavailable
}
