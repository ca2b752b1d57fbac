package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/internal/hostile"
)

// hostileTimeout is the -timeout of the reproduction.
const hostileTimeout = 700 * time.Millisecond

// slack is what the process may take beyond its timeout on a loaded
// machine: starting, closing, killing children. It bounds the tests; it
// never decides a verdict.
const slack = 3 * time.Second

// runBinary runs the built healthprobe with args and returns its exit
// status and stderr, failing the test if it ran longer than
// hostileTimeout+slack. The test's own context kills it well after that.
func runBinary(t *testing.T, args ...string) (int, string) {
	t.Helper()
	// Built first: the build can take longer than the run's whole budget
	// on a loaded machine, and must not count against it.
	binary := buildBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), hostileTimeout+slack+5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	if took := time.Since(start); took > hostileTimeout+slack {
		t.Errorf("healthprobe %v took %v, more than its timeout %v plus %v", args, took, hostileTimeout, slack)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode(), stderr.String()
	}
	t.Fatalf("healthprobe %v: %v (stderr %q)", args, err, stderr.String())
	return -1, ""
}

// TestBinaryHostile: the built command exits within -timeout plus a little,
// with 1 for an unhealthy target, whatever the server does.
func TestBinaryHostile(t *testing.T) {
	t.Parallel()
	to := "-timeout=" + hostileTimeout.String()
	for _, b := range hostile.HTTPBehaviors {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			url := hostile.URL(t, b)
			want := 1
			if b.HTTP().Passes {
				want = 0
			}
			code, stderr := runBinary(t, to, "-insecure", url)
			assert.Equal(t, want, code, "stderr: %s", stderr)
			if b == hostile.SwitchProtocols {
				assert.Contains(t, stderr, "HTTP probe failed with statuscode: 101")
			}
		})
	}
	t.Run("tcp connect never completes", func(t *testing.T) {
		t.Parallel()
		code, stderr := runBinary(t, to, "tcp", hostile.ListenFull(t))
		assert.Equal(t, 1, code, "stderr: %s", stderr)
	})
}

// TestBinaryExecHostile: a command that ignores SIGTERM, or leaves a child
// in a session of its own holding stdout, does not keep healthprobe past
// its timeout.
func TestBinaryExecHostile(t *testing.T) {
	requireExecTools(t)
	t.Parallel()
	pidFile := t.TempDir() + "/escaped"
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	for name, script := range map[string]string{
		"ignores SIGTERM":           `trap "" TERM INT; sleep 30`,
		"child escapes with stdout": `setsid sh -c 'echo $$ > ` + pidFile + `; exec sleep 30' & trap "" TERM; sleep 30`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, stderr := runBinary(t, "-timeout="+hostileTimeout.String(), "exec", "--", "sh", "-c", script)
			assert.Equal(t, 1, code, "stderr: %s", stderr)
			assert.Contains(t, stderr, "failure: command timed out")
		})
	}
	t.Run("cannot start", func(t *testing.T) {
		t.Parallel()
		code, stderr := runBinary(t, "exec", "--", "/nonexistent")
		assert.Equal(t, 1, code)
		assert.True(t, strings.HasPrefix(stderr, "healthprobe: unknown: "), "stderr: %s", stderr)
	})
}

// TestBinaryBadArguments: exit 2, at once, for arguments that cannot work.
func TestBinaryBadArguments(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-timeout", "0", "http://127.0.0.1:1/"},
		{"-timeout", "-1s", "http://127.0.0.1:1/"},
		{"-header", "no colon", "http://127.0.0.1:1/"},
		{"-header", "X-A: b\r\nX-B: c", "http://127.0.0.1:1/"},
		{"-header", "X-Del: a\x7fb", "http://127.0.0.1:1/"}, // issue 20: exited 1
		{"-header", "Host: bad host", "http://127.0.0.1:1/"},
		{"http://127.0.0.1:99999/"},
		{"tcp", "127.0.0.1:0"},
	} {
		code, stderr := runBinary(t, args...)
		require.Equal(t, 2, code, "healthprobe %q: %s", args, stderr)
	}
}
