package main

import (
	"bytes"
	"debug/elf"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/internal/prereq"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		removeBinary()
		os.Exit(code)
	}))
}

const secret = "password=hunter2"

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, secret)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost/", http.StatusFound)
	})
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0k" || r.Host != "svc.local" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type result struct {
	code           int
	stdout, stderr string
}

func runArgs(args ...string) result {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// lines counts the lines of s.
func lines(s string) int { return strings.Count(s, "\n") }

func TestRunProbes(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	down := closed.Addr().String()
	closed.Close()

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // a substring of the single stderr line; "" for none
		stdout string
	}{
		{"200", []string{srv.URL + "/ok"}, 0, "", ""},
		{"http subcommand", []string{"http", srv.URL + "/ok"}, 0, "", ""},
		{"verbose", []string{"-v", srv.URL + "/ok"}, 0, "", "success: HTTP probe succeeded with statuscode: 200"},
		{"503", []string{srv.URL + "/down"}, 1, "failure: HTTP probe failed with statuscode: 503", ""},
		{"302 elsewhere warns", []string{srv.URL + "/elsewhere"}, 0, "warning: HTTP probe terminated redirects with statuscode: 302", ""},
		{"refused", []string{"http://" + down + "/"}, 1, "connection refused", ""},
		{"headers", []string{"-header", "Authorization: Bearer t0k", "-header", "Host:svc.local", srv.URL + "/auth"}, 0, "", ""},
		{"headers missing", []string{srv.URL + "/auth"}, 1, "statuscode: 401", ""},
		{"flags after URL", []string{srv.URL + "/auth", "-header", "Authorization: Bearer t0k", "-header", "Host: svc.local"}, 0, "", ""},
		{"tcp", []string{"tcp", ln.Addr().String()}, 0, "", ""},
		{"tcp refused", []string{"-timeout", "500ms", "tcp", down}, 1, "connection refused", ""},
	}
	{
		tests = append(tests, []struct {
			name   string
			args   []string
			code   int
			stderr string
			stdout string
		}{
			{"exec true", []string{"exec", "true"}, 0, "", ""},
			{"exec with flags", []string{"exec", "sh", "-c", "exit 0"}, 0, "", ""},
			{"exec --", []string{"-timeout", "2s", "exec", "--", "sh", "-c", "echo " + secret + "; exit 7"}, 1, "status 7", ""},
			{"exec timeout", []string{"exec", "-timeout", "100ms", "sleep", "10"}, 1, "timed out after 100ms", ""},
			// The kubelet's "probe errored": the command could not start,
			// so there is no verdict (unknown), and the exit status is 1.
			{"exec not found", []string{"exec", "--", "/nonexistent"}, 1, "unknown: ", ""},
		}...)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.args[0] == "exec" {
				requireExecTools(t)
			}
			t.Parallel()
			// A generous default timeout: speed is not what is tested. A
			// -timeout in tc.args comes later and wins.
			r := runArgs(append([]string{"-timeout", "10s"}, tc.args...)...)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			if tc.stderr == "" {
				assert.Empty(t, r.stderr)
			} else {
				assert.Equal(t, 1, lines(r.stderr), "one line on stderr: %q", r.stderr)
				assert.Contains(t, r.stderr, tc.stderr)
				assert.True(t, strings.HasPrefix(r.stderr, "healthprobe: "))
			}
			assert.NotContains(t, r.stderr, secret, "no body or output in the message")
			if tc.stdout == "" {
				assert.Empty(t, r.stdout)
			} else {
				assert.Equal(t, tc.stdout+"\n", r.stdout)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for name, args := range map[string][]string{
		"no arguments":        nil,
		"two URLs":            {srv.URL, srv.URL},
		"not a URL":           {"127.0.0.1:8080/ready"},
		"bad scheme":          {"ftp://127.0.0.1/"},
		"unknown flag":        {"-retries", "3", srv.URL},
		"bad duration":        {"-timeout", "soon", srv.URL},
		"negative timeout":    {"-timeout", "-1s", srv.URL},
		"zero timeout":        {"-timeout", "0", srv.URL},
		"zero timeout, tcp":   {"-timeout", "0s", "tcp", "127.0.0.1:1"},
		"huge timeout":        {"-timeout", "2000h", srv.URL},
		"overflowing timeout": {"-timeout", "9999999999999h", srv.URL},
		"header with newline": {"-header", "X-A: b\r\nX-Injected: c", srv.URL},
		"header name spaced":  {"-header", "X A: b", srv.URL},
		"header name blank":   {"-header", " : b", srv.URL},
		"header no name":      {"-header", ":", srv.URL},
		"bad header":          {"-header", "no colon", srv.URL},
		"empty header name":   {"-header", ": v", srv.URL},
		"insecure and cacert": {"-insecure", "-cacert", "ca.pem", srv.URL},
		"missing cacert":      {"-cacert", filepath.Join(t.TempDir(), "none.pem"), srv.URL},
		"tcp without addr":    {"tcp"},
		"tcp without port":    {"tcp", "127.0.0.1"},
		"tcp with header":     {"-header", "A: b", "tcp", "127.0.0.1:1"},
		"exec without cmd":    {"exec"},
		"exec with insecure":  {"-insecure", "exec", "true"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := runArgs(args...)
			assert.Equal(t, 2, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stderr, "usage: healthprobe")
			assert.Empty(t, r.stdout)
		})
	}
	// Help is not a verdict: only a passing probe exits 0, so that a
	// HEALTHCHECK with a stray -h cannot pass.
	for _, args := range [][]string{{"-h"}, {"-help"}, {"-h=", "http://127.0.0.1:1/"}, {"http://127.0.0.1:1/", "--help"}} {
		r := runArgs(args...)
		assert.Equal(t, 2, r.code, "%q", args)
		assert.Contains(t, r.stderr, "usage: healthprobe")
	}
}

func TestRunTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))

	// Generous timeouts: a TLS handshake under -race on a busy machine can
	// take a while, and speed is not what is tested.
	r := runArgs("-timeout", "10s", srv.URL)
	assert.Equal(t, 1, r.code, "verifies by default, like curl")
	assert.Contains(t, r.stderr, "certificate")
	r = runArgs("-timeout", "10s", "-insecure", srv.URL)
	assert.Equal(t, 0, r.code, "like the kubelet: %s", r.stderr)
	r = runArgs("-timeout", "10s", "-cacert", ca, srv.URL)
	assert.Equal(t, 0, r.code, r.stderr)

	notPEM := filepath.Join(t.TempDir(), "x.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	assert.Equal(t, 2, runArgs("-cacert", notPEM, srv.URL).code)
}

// TestBinary builds the real command as the docs say (CGO_ENABLED=0) and
// checks that it is static, depends on the standard library only, and
// exits 0, 1 and 2 as promised against a real loopback server.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Parallel()
	bin := buildBinary(t)
	goTool := prereq.LookPath(t, "go", "golang-go, or Go from go.dev")
	if fi, err := os.Stat(bin); err == nil {
		t.Logf("stripped binary: %d bytes", fi.Size())
	}

	list := exec.CommandContext(t.Context(), goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
	list.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := list.Output()
	require.NoError(t, err)
	assert.ElementsMatch(t,
		[]string{"github.com/probekit/probekit/probe", "github.com/probekit/probekit/internal/httpprobe", "github.com/probekit/probekit/cmd/healthprobe"},
		strings.Fields(string(out)), "only the standard library besides probe and its HTTP prober")

	if runtime.GOOS == "linux" {
		f, err := elf.Open(bin)
		require.NoError(t, err)
		defer f.Close()
		for _, p := range f.Progs {
			assert.NotEqual(t, elf.PT_INTERP, p.Type, "a static binary has no program interpreter")
		}
		libs, err := f.ImportedLibraries()
		require.NoError(t, err)
		assert.Empty(t, libs, "a static binary needs no shared library")
	}

	srv := newServer(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{srv.URL + "/ok"}, 0},
		{[]string{srv.URL + "/down"}, 1},
		{[]string{"ftp://127.0.0.1/"}, 2},
		{nil, 2},
	} {
		cmd := exec.CommandContext(t.Context(), bin, tc.args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors := err; errors != nil {
			require.ErrorAs(t, err, &ee)
			code = ee.ExitCode()
		}
		assert.Equal(t, tc.code, code, "healthprobe %v: %s", tc.args, stderr.String())
	}
}
