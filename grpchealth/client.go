package grpchealth

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/redact"
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
// otherwise. Register it with health.Dependency, in readiness, so that an
// outage of the other server takes this one out of rotation without
// restarting it, and a hung one is answered at once by the open breaker:
//
//	reg.Register(health.Readiness, "payments",
//		grpchealth.Check(conn, "payments.v1.Payments"), health.Dependency())
//
// The check observes the call's latency in milliseconds. conn is used as
// it is (it is not closed, and its own reconnection and backoff apply; a
// *grpc.ClientConn fails calls at once while it cannot connect).
//
// Errors match ErrNotServing, ErrUnknownService, ErrNoHealthService or
// ErrRPC, and also the context's error when the run's context ended (and
// context.DeadlineExceeded whenever the call failed with DEADLINE_EXCEEDED);
// status.Code gives the call's gRPC code. Their text names the service, the
// code and the status message with credentials hidden: for a failed
// connection grpc-go quotes there the target and the errors of the dialer,
// the name resolver and the credentials, which can carry user names,
// passwords and tokens. The message goes through the repository's redactor
// (URL user info, secret key=value pairs, Authorization values), and the
// user info of conn's target (the part before its last '@', when conn
// has a Target method as *grpc.ClientConn does) is hidden wherever it
// appears. The original error is still reachable with errors.As, for code
// that needs it. A nil conn gives a check that Register refuses
// (health.ErrMisconfigured).
func Check(conn grpc.ClientConnInterface, service string) health.CheckFunc {
	if conn == nil || isNilPointer(conn) {
		return health.Misconfigured(errors.New("grpchealth: Check needs a connection, got nil"))
	}
	client := healthpb.NewHealthClient(conn)
	req := &healthpb.HealthCheckRequest{Service: service}
	userinfo := targetUserinfo(conn)
	return func(ctx context.Context) error {
		start := time.Now()
		resp, err := client.Check(ctx, req)
		health.Observe(ctx, float64(time.Since(start).Microseconds())/1000, "ms")
		if err != nil {
			return callError(ctx, service, userinfo, err)
		}
		if st := resp.GetStatus(); st != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("grpchealth: service %s is %v: %w", quote(service), st, ErrNotServing)
		}
		return nil
	}
}

// checkError is a failed call: Error gives the redacted text, Unwrap the
// kind, the original status error, and the context's error if it ended.
type checkError struct {
	msg  string
	errs []error
}

func (e *checkError) Error() string   { return e.msg }
func (e *checkError) Unwrap() []error { return e.errs }

func callError(ctx context.Context, service, userinfo string, err error) error {
	st := status.Convert(err)
	kind := ErrRPC
	switch st.Code() {
	case codes.NotFound:
		kind = ErrUnknownService
	case codes.Unimplemented:
		kind = ErrNoHealthService
	}
	msg := st.Message()
	if userinfo != "" {
		msg = strings.ReplaceAll(msg, userinfo, redact.Mask)
		if _, password, ok := strings.Cut(userinfo, ":"); ok && password != "" {
			msg = strings.ReplaceAll(msg, password, redact.Mask) // quoted alone
		}
	}
	e := &checkError{
		msg:  fmt.Sprintf("grpchealth: check of service %s: %v: %v: %s", quote(service), kind, st.Code(), redact.String(msg)),
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

// targetUserinfo returns the user info of conn's target: what precedes
// its last '@', after the scheme and authority ("passthrough:///app:pw@host"
// gives "app:pw"); "" if it has none or conn does not tell its target.
func targetUserinfo(conn grpc.ClientConnInterface) string {
	tc, ok := conn.(interface{ Target() string })
	if !ok {
		return ""
	}
	target := tc.Target()
	at := strings.LastIndex(target, "@")
	if at < 0 {
		return ""
	}
	return target[strings.LastIndex(target[:at], "/")+1 : at]
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
