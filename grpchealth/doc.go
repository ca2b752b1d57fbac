// Package grpchealth serves the gRPC health protocol (grpc.health.v1.Health:
// Check, Watch and List) from a *health.Registry, the same registry that
// answers the HTTP probes, so that a gRPC probe and an HTTP probe of the same
// group never disagree and never double the work. It also provides Check,
// a dependency check (a health.DependencyFunc) that asks another gRPC server
// about its health, and Server.Contract, the names it serves for the probe
// contract.
//
// It is a module of its own, so that the probekit module requires nothing of
// gRPC.
//
//	reg := health.New()
//	hs, err := grpchealth.NewServer(reg, grpchealth.Settings{})
//	if err != nil { ... }
//	healthpb.RegisterHealthServer(grpcServer, hs) // google.golang.org/grpc/health/grpc_health_v1
//
// # Service names
//
// By default (Settings.Services nil) the server answers these names:
//
//	""           the server as a whole: answers as readiness does
//	             (may this process take traffic?)
//	"liveness"   the liveness group
//	"readiness"  the readiness group
//	"startup"    the startup group
//	"<check>"    each registered check by its own name, alone, whatever its
//	             group (check names are unique across groups), including
//	             checks registered after NewServer
//
// Anything else is unknown: Check fails with NOT_FOUND and Watch sends
// SERVICE_UNKNOWN (and keeps the stream open, in case the name appears).
// Settings.Services replaces the first four names with any names mapped to
// any groups or checks (GroupTarget, CheckTarget), and Settings.HideChecks
// stops serving checks under their own names, so a server can expose only ""
// or add the fully-qualified name of its own gRPC service. A name in
// Services wins over a check of the same name.
//
// # Statuses
//
// Pass and warn are SERVING; fail is NOT_SERVING, as HTTP answers 200 and
// 503. A check that has no result yet answers as over HTTP (it fails, except
// in liveness). After Shutdown, or once the registry is closed, every
// service is NOT_SERVING.
//
// # Check, Watch and List
//
// Check evaluates exactly as the HTTP handler of the same group or check
// (health.Registry.Check): on-request checks run, sharing runs with
// concurrent probes of either protocol, with the same timeouts and circuit
// breakers; background checks give their latest result. The caller's
// deadline ends the wait, not the runs. A service that rests on background
// checks and switches only is answered from a status the server keeps
// until the registry's next change (health.Registry.Changed), as cheaply as
// grpc-go's own health server answers from its map.
//
// Watch sends the current status at once and then each change. Changes of
// switches, breakers, background checks and registrations are pushed as
// they happen (health.Registry.Changed), and an idle watcher costs the
// registry nothing. Checks that run on request change only when something
// runs them, so while anyone watches a service that rests on them the
// server re-runs each such check whose latest verdict (by anyone's run,
// HTTP probes included) is older than Settings.WatchPoll: one run per check
// per interval whatever the number of watchers. The server queues no
// statuses for a stream: when flow control holds a send back (a client or
// a network slower than the changes), the stream sends the latest status
// once it moves, not those in between; and a watcher that goes away leaves
// nothing running behind it.
//
// List answers every service name with its status, evaluated as Check
// would (each on-request check run once), and fails with RESOURCE_EXHAUSTED
// past Settings.MaxList services.
//
// # The probe contract
//
// Server.Contract lists the names the server answers, for the probe
// contract the application prints (package contract), so that tools such as
// the k8sprobes linter check a manifest's grpc probes against them:
//
//	c := reg.Contract()
//	g := hs.Contract(9090) // the gRPC server's port
//	c.GRPC = &g
//
// # Shutdown
//
// health.Registry.Drain makes "" and "readiness" NOT_SERVING at once (and
// pushes it to watchers), while the server keeps serving, as HTTP readiness.
// grpc.Server.GracefulStop waits for every open stream, and a Watch stream
// stays open for as long as the client likes: call Shutdown before
// GracefulStop to end them.
//
//	<-sigCtx.Done()                              // SIGTERM
//	reg.Drain(context.Background(), 5*time.Second) // NOT_SERVING, still serving
//	hs.Shutdown()                                // ends Watch streams
//	grpcServer.GracefulStop()                    // now returns
//	reg.Close()
package grpchealth
