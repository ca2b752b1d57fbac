package probe

import (
	"fmt"

	"github.com/probekit/probekit/internal/httpprobe"
)

// Result is the verdict of one probe, in the kubelet's vocabulary. It is
// also the state a [Prober] reports, which is only ever [Unknown],
// [Success] or [Failure]. The zero value is Unknown.
type Result uint8

const (
	// Unknown means no verdict: the probe could not run, or (as a Prober
	// state) a startup probe has not yet reached a threshold.
	Unknown Result = iota
	// Success means the target is healthy.
	Success
	// Warning means healthy, with something worth a look: an HTTP 3xx that
	// was not followed. The kubelet counts it as a success, and so does
	// Passed.
	Warning
	// Failure means the target is unhealthy, or did not answer in time.
	Failure
)

// String returns "unknown", "success", "warning" or "failure", the strings
// the kubelet uses.
func (r Result) String() string {
	switch r {
	case Unknown:
		return "unknown"
	case Success:
		return "success"
	case Warning:
		return "warning"
	case Failure:
		return "failure"
	}
	return fmt.Sprintf("Result(%d)", uint8(r))
}

// Passed reports whether r counts as a success for the kubelet: Success or
// Warning.
func (r Result) Passed() bool { return r == Success || r == Warning }

// MaxBody is how many bytes of an HTTP response body, or of an exec
// command's output, a probe keeps. Anything longer is read no further
// (HTTP) or discarded (exec), and is not a failure. The kubelet uses the
// same 10 KiB cap.
const MaxBody = httpprobe.MaxBody

// Outcome is what one probe found. Its zero value is an Unknown outcome
// with no details.
type Outcome struct {
	// Result is the verdict.
	Result Result
	// Message says why, in one line, for humans and logs. It never contains
	// the HTTP response body, which may hold secrets (kubernetes#99425).
	Message string
	// StatusCode is the HTTP status of the last response, or 0 when there
	// was none or the probe is not an HTTPGet.
	StatusCode int
	// Body is what the target sent: for HTTPGet the response body, for
	// Exec the combined standard output and error; at most MaxBody bytes.
	// It is for callers that want it; nothing in this package shows it.
	Body []byte
	// Truncated reports that there was more than MaxBody bytes of Body.
	Truncated bool
}

// String returns "result: message".
func (o Outcome) String() string {
	if o.Message == "" {
		return o.Result.String()
	}
	return o.Result.String() + ": " + o.Message
}
