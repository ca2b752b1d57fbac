package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

func TestFlags(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, &config{addr: ":8080", drainDelay: 5 * time.Second, shutdownTimeout: 10 * time.Second, workTime: 20 * time.Millisecond}, cfg)

	var stderr bytes.Buffer
	_, err = parseFlags([]string{"-h"}, &stderr)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, stderr.String(), "-drain-delay")
	for _, args := range [][]string{
		{"-drain-delay", "-1s"},
		{"-shutdown-timeout", "0s"},
		{"-work-time", "soon"},
		{"extra"},
	} {
		_, err := parseFlags(args, io.Discard)
		assert.Error(t, err, "%q", args)
	}
}

// TestShutdownTimeoutCutsOffStuckRequests shows the other end of the
// budget: a request still running when -shutdown-timeout expires is cut
// off, and shutdown reports it.
func TestShutdownTimeoutCutsOffStuckRequests(t *testing.T) {
	entered := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done() // stuck until its connection is closed
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	stuck := make(chan error, 1)
	go func() {
		_, _, _, err := get(context.Background(), "http://"+ln.Addr().String()+"/", nil)
		stuck <- err
	}()
	<-entered

	var logs bytes.Buffer
	cfg := &config{shutdownTimeout: 50 * time.Millisecond}
	reg := health.New()
	err = shutdown(srv, reg, served, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Error(t, <-stuck, "the stuck request was cut off")
	assert.Contains(t, logs.String(), "requests still in flight at the timeout")
	rep, err := reg.Check(t.Context(), health.Readiness)
	require.NoError(t, err)
	assert.Equal(t, health.StatusFail, rep.Status, "readiness stays failed after the shutdown")
}

func TestRunFailsOnBusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = run(t.Context(), []string{"-addr", ln.Addr().String()}, io.Discard, io.Discard)
	assert.ErrorIs(t, err, syscall.EADDRINUSE)
}
