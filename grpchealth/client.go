package grpchealth

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/health"
)

// Errors of the check made by Check, beside the context's own; test for
// them with errors.Is.
var (
	// ErrNotServing: the server answered, with a status other than SERVING
	// (NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN).
	ErrNotServing = errors.New("service not serving")
	// ErrUnknownService: the server does not know the service name
	// (NOT_FOUND).
	ErrUnknownService = errors.New("service unknown to the server")
	// ErrNoHealthService: the server does not implement grpc.health.v1
	// (UNIMPLEMENTED).
	ErrNoHealthService = errors.New("server does not implement grpc.health.v1.Health")
	// ErrRPC: the call failed for any other reason: the connection, the
	// name resolver, credentials, or an error status of the server's.
	ErrRPC = errors.New("health rpc failed")
)

// Check returns a check of another gRPC server's health, for
// health.Registry.Register: each run calls grpc.health.v1.Health/Check on
// conn for service ("" asks about the server as a whole), with the run's
// context, so the check's timeout is the call's deadline. It passes when
// the answer is SERVING, as the kubelet's gRPC probe does, and fails
// otherwise.
//
// It is a dependency check, a health.DependencyFunc: Register accepts it
// only in readiness (elsewhere it fails with health.ErrDependencyGroup),
// so that an outage of the other server takes this one out of rotation
// without restarting it, and runs it behind a circuit breaker, so that a
// hung server is answered at once by the open breaker:
//
//	reg.Register(health.Readiness, "payments",
//		grpchealth.Check(conn, "payments.v1.Payments"), health.CheckOptions{Timeout: time.Second})
//
// The check observes the call's latency in milliseconds. conn is used as
// it is (it is not closed, and its own reconnection and backoff apply; a
// *grpc.ClientConn fails calls at once while it cannot connect).
//
// Errors match ErrNotServing, ErrUnknownService, ErrNoHealthService or
// ErrRPC, and also the context's error when the run's context ended (and
// context.DeadlineExceeded whenever the call failed with DEADLINE_EXCEEDED);
// status.Code gives the call's gRPC code. Their text names the service, the
// code and the status message as grpc-go gives it: for a failed connection
// that quotes the target and the errors of the dialer, the name resolver
// and the credentials, which can carry user names, passwords and tokens.
// The check does not hide them itself: the health engine redacts every
// reason that it logs or serves. Code that shows the error anywhere else
// must redact it. A nil conn gives a check that Register refuses
// (health.ErrMisconfigured).
func Check(conn grpc.ClientConnInterface, service string) health.Checker {
	if conn == nil || isNilPointer(conn) {
		return health.Misconfigured(errors.New("grpchealth: Check needs a connection, got nil"))
	}
	client := healthpb.NewHealthClient(conn)
	req := &healthpb.HealthCheckRequest{Service: service}
	return health.DependencyFunc(func(ctx context.Context) error {
		resp, err := client.Check(ctx, req)
		if err != nil {
			return callError(ctx, service, err)
		}
		if st := resp.GetStatus(); st != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("grpchealth: service %s is %v: %w", quote(service), st, ErrNotServing)
		}
		return nil
	})
}

// checkError is a failed call: Error gives its text, Unwrap the
// kind, the original status error, and the context's error if it ended.
type checkError struct {
	msg  string
	errs []error
}

func (e *checkError) Error() string   { return e.msg }
func (e *checkError) Unwrap() []error { return e.errs }

func callError(ctx context.Context, service string, err error) error {
	st := status.Convert(err)
	kind := ErrRPC
	switch st.Code() {
	case codes.NotFound:
		kind = ErrUnknownService
	case codes.Unimplemented:
		kind = ErrNoHealthService
	}
	e := &checkError{
		msg:  fmt.Sprintf("grpchealth: check of service %s: %v: %v: %s", quote(service), kind, st.Code(), st.Message()),
		errs: []error{kind, err},
	}
	cerr := ctx.Err()
	if cerr == nil && st.Code() == codes.DeadlineExceeded {
		// The server saw the propagated deadline pass a moment before
		// the client did.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil {
		// The breaker must see cancellation as such, not as a failure.
		if !strings.Contains(e.msg, cerr.Error()) {
			e.msg += ": " + cerr.Error()
		}
		e.errs = append(e.errs, cerr)
	}
	return e
}

// quote quotes a service name for a message, shortened if long.
func quote(name string) string {
	if len(name) > maxQuoted {
		name = name[:maxQuoted] + "…"
	}
	return strconv.Quote(name)
}

// isNilPointer reports whether v holds a nil pointer, such as a nil
// *grpc.ClientConn, which would make every run panic.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
