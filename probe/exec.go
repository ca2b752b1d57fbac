package probe

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync/atomic"
	"time"
)

// waitDelay bounds how long a probe waits for its command's output pipes to
// close once the command has exited or been killed. Without it, a
// grandchild that escaped the kill (or was left running in the background)
// would hold the pipe open and hang the probe until it exits.
const waitDelay = 250 * time.Millisecond

// Exec probes by running a command, as a Kubernetes exec probe does: exit
// status 0 is a Success, any other a Failure. A command still running when
// the timeout expires is killed, with every process in its process group on
// Unix, and is a Failure. Its combined standard output and error, up to
// MaxBody bytes, is kept in [Outcome.Body]; standard input is empty. Its
// zero value is not usable: Command is required.
//
// Unlike the kubelet, which runs the command inside the container through
// the container runtime, Exec runs it on the local system, with this
// process's environment and working directory.
type Exec struct {
	// Command is the program and its arguments; no shell is involved.
	// Command[0] is looked up in PATH unless it contains a slash.
	Command []string
}

// Probe implements [Action]. A command that cannot be started (not found,
// not executable) is an error with an Unknown outcome, as in the kubelet.
func (e Exec) Probe(ctx context.Context, timeout time.Duration) (Outcome, error) {
	timeout, err := resolveTimeout(timeout)
	if err != nil {
		return Outcome{}, err
	}
	if len(e.Command) == 0 || e.Command[0] == "" {
		return Outcome{}, invalidf("Exec.Command is empty")
	}

	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(tctx, e.Command[0], e.Command[1:]...)
	var out capWriter
	cmd.Stdout = &out // the same comparable writer: exec serialises Writes
	cmd.Stderr = &out
	cmd.WaitDelay = waitDelay
	setProcessGroup(cmd)
	var killed atomic.Bool
	cmd.Cancel = func() error {
		killed.Store(true)
		return killProcessGroup(cmd)
	}

	err = cmd.Run()
	o := Outcome{Body: out.buf, Truncated: out.truncated}
	switch {
	case ended(ctx):
		return canceled(ctx)
	case killed.Load():
		o.Result = Failure
		o.Message = fmt.Sprintf("command timed out after %v", timeout)
		return o, nil
	case err == nil:
		o.Result = Success
		o.Message = "command exited with status 0"
		return o, nil
	case errors.Is(err, exec.ErrWaitDelay):
		// The command exited 0; only a leftover child kept the pipes open.
		o.Result = Success
		o.Message = "command exited with status 0 (a child process kept its output open)"
		return o, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		o.Result = Failure
		if code := ee.ExitCode(); code >= 0 {
			o.Message = fmt.Sprintf("command exited with status %d", code)
		} else {
			o.Message = "command " + ee.Error() // e.g. "signal: segmentation fault"
		}
		return o, nil
	}
	return Outcome{Result: Unknown, Message: err.Error()}, fmt.Errorf("probe: %w", err)
}
