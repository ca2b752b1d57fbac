//go:build unix

package probe_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/probekit/probekit/probe"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pkg/probe/exec/exec.go:50-79 (v1.37.2): exit 0 is Success, another exit
// status Failure, a timeout Failure; output is capped at 10 KiB; a command
// that cannot run is Unknown with an error.
func TestExec(t *testing.T) {
	requireExecTools(t)
	t.Parallel()
	tests := []struct {
		name string
		cmd  []string
		want probe.Result
		msg  string
		body string
	}{
		{name: "true", cmd: []string{"true"}, want: probe.Success, msg: "status 0"},
		{name: "false", cmd: []string{"false"}, want: probe.Failure, msg: "status 1"},
		{name: "output and status", cmd: []string{"sh", "-c", "echo out; echo err >&2; exit 3"},
			want: probe.Failure, msg: "status 3", body: "out\nerr\n"},
		{name: "killed by a signal", cmd: []string{"sh", "-c", "kill -SEGV $$"},
			want: probe.Failure, msg: "signal"},
		{name: "too slow", cmd: []string{"sleep", "30"}, want: probe.Failure, msg: "timed out after 200ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			timeout := generous
			if tc.name == "too slow" {
				timeout = 200 * time.Millisecond
			}
			out, err := probe.Exec{Command: tc.cmd}.Probe(testCtx(t), timeout)
			require.NoError(t, err)
			assert.Equal(t, tc.want, out.Result, out.Message)
			assert.Contains(t, out.Message, tc.msg)
			assert.Equal(t, tc.body, string(out.Body))
		})
	}
}

func TestExecOutputCapped(t *testing.T) {
	requireExecTools(t)
	t.Parallel()
	// 100 KiB, more than a pipe buffer: the command must not block on it.
	out, err := probe.Exec{Command: []string{"sh", "-c", `i=0; while [ $i -lt 1600 ]; do echo 0123456789012345678901234567890123456789012345678901234567890123; i=$((i+1)); done`}}.
		Probe(testCtx(t), 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, probe.Success, out.Result, out.Message)
	assert.Len(t, out.Body, probe.MaxBody)
	assert.True(t, out.Truncated)
}

// TestExecKillsProcessGroup: on timeout the shell and the child it started
// die together, and the probe does not wait for anything holding its pipe.
func TestExecKillsProcessGroup(t *testing.T) {
	requireExecTools(t)
	t.Parallel()
	pidFile := t.TempDir() + "/pid"
	// The background sleep inherits the shell's stdout, so only the kill
	// of the whole group (or WaitDelay) lets the probe return.
	out, err := probe.Exec{Command: []string{"sh", "-c", "sleep 30 & echo $! > " + pidFile + "; wait"}}.
		Probe(testCtx(t), 3*time.Second) // ample for the shell to write its pid file, on any machine
	require.NoError(t, err)
	assert.Equal(t, probe.Failure, out.Result)
	assert.Contains(t, out.Message, "timed out")

	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	// The grandchild was SIGKILLed with its group; it may linger briefly as
	// a zombie until its new parent reaps it, so poll, bounded.
	ctx := testCtx(t)
	for processAlive(pid) {
		select {
		case <-ctx.Done():
			t.Fatalf("grandchild %d survived the timeout", pid)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return runtime.GOOS != "linux" // no /proc to tell a zombie apart
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

// TestExecOrphanHoldingPipe: a command that exits 0 but leaves a child
// holding its output open (here one that escaped into its own session, so
// no group kill reaches it) still passes, promptly.
func TestExecOrphanHoldingPipe(t *testing.T) {
	requireExecTools(t)
	t.Parallel()
	done := make(chan struct{})
	var out probe.Outcome
	var err error
	go func() {
		defer close(done)
		// The timeout is far longer than the test's own deadline: only
		// WaitDelay can make this return in time.
		out, err = probe.Exec{Command: []string{"sh", "-c", "setsid sleep 3 & echo started"}}.
			Probe(context.Background(), time.Minute)
	}()
	select {
	case <-done:
	case <-time.After(2500 * time.Millisecond):
		t.Fatal("probe waited for the orphan that holds its pipe")
	}
	require.NoError(t, err)
	assert.Equal(t, probe.Success, out.Result, out.Message)
	assert.Equal(t, "started\n", string(out.Body))
}

func TestExecCannotRun(t *testing.T) {
	requireExecTools(t)
	t.Parallel()
	ctx := testCtx(t)
	out, err := probe.Exec{Command: []string{"/nonexistent/healthcheck"}}.Probe(ctx, 0)
	require.Error(t, err)
	assert.NotErrorIs(t, err, probe.ErrInvalid)
	assert.Equal(t, probe.Unknown, out.Result)

	for _, cmd := range [][]string{nil, {}, {""}} {
		_, err := probe.Exec{Command: cmd}.Probe(ctx, 0)
		assert.ErrorIs(t, err, probe.ErrInvalid)
	}
	_, err = probe.Exec{Command: []string{"true"}}.Probe(ctx, -time.Millisecond)
	assert.ErrorIs(t, err, probe.ErrInvalid)
}

// TestExecCanceled: the caller's cancellation kills the command and is
// not a verdict.
func TestExecCanceled(t *testing.T) {
	requireExecTools(t)
	t.Parallel()
	fifo := t.TempDir() + "/started"
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	go func() {
		// Opening a FIFO blocks until the command opens its other end.
		if f, err := os.Open(fifo); err == nil {
			_, _ = f.Read(make([]byte, 1))
			f.Close()
		}
		cancel()
	}()
	out, err := probe.Exec{Command: []string{"sh", "-c", "echo > " + fifo + "; sleep 30"}}.Probe(ctx, time.Minute)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, probe.Unknown, out.Result)
}

// requireExecTools skips an exec test unless sh, setsid and the coreutils it
// runs are installed.
func requireExecTools(t *testing.T) {
	t.Helper()
	requireTools(t, "sh", "setsid", "sleep", "true", "false")
}

// TestExecHostile: commands that fight their timeout still end the probe
// within it, as a Failure.
func TestExecHostile(t *testing.T) {
	requireExecTools(t)
	t.Parallel()
	pidFile := t.TempDir() + "/escaped"
	t.Cleanup(func() { killPIDFile(pidFile) })
	for name, script := range map[string]string{
		"ignores SIGTERM":                  `trap "" TERM; sleep 30`,
		"ignores SIGTERM and SIGINT, busy": `trap "" TERM INT HUP; while :; do :; done`,
		// The child starts a session of its own, out of reach of the
		// group kill, and keeps the probe's output pipe open.
		"child escapes with stdout": `setsid sh -c 'echo $$ > ` + pidFile + `; exec sleep 30' & sleep 30`,
		"grandchildren hold stdout": `(sleep 30 &) ; (sleep 30 &) ; sleep 30`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var out probe.Outcome
			var err error
			within(t, hostileTimeout, func() {
				out, err = probe.Exec{Command: []string{"sh", "-c", script}}.Probe(testCtx(t), hostileTimeout)
			})
			require.NoError(t, err)
			assert.Equal(t, probe.Failure, out.Result, out.Message)
			assert.Contains(t, out.Message, "timed out")
		})
	}
}

// killPIDFile kills the process whose ID is in file, if any: the escaped
// child of TestExecHostile, which no group kill reaches.
func killPIDFile(file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
