package checks_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/probekit/probekit/checks"
)

func skipUnlessDiskSupported(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		requireFail(t, checks.Disk(t.TempDir(), 1).Check(testCtx(t)), "Disk")
		t.Skip("Disk is only supported on Linux and macOS")
	}
}

func TestDisk(t *testing.T) {
	skipUnlessDiskSupported(t)
	dir := t.TempDir()
	if err := checks.Disk(dir, 1).Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	err := checks.Disk(dir, math.MaxUint64).Check(testCtx(t))
	requireFail(t, err, "Disk")
	if !strings.Contains(err.Error(), dir+" has ") {
		t.Fatalf("got %v", err)
	}
	requirePass(t, checks.Disk(dir, 1))
}

func TestDiskMissingPath(t *testing.T) {
	skipUnlessDiskSupported(t)
	missing := filepath.Join(t.TempDir(), "missing")
	err := checks.Disk(missing, 1).Check(testCtx(t))
	requireFail(t, err, "Disk")
	if !strings.Contains(err.Error(), "statfs "+missing) {
		t.Fatalf("got %v", err)
	}
}

func TestDiskHonoursContext(t *testing.T) {
	skipUnlessDiskSupported(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := checks.Disk(t.TempDir(), 1).Check(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestDiskInvalidConfiguration(t *testing.T) {
	requireFail(t, checks.Disk("", 1).Check(testCtx(t)), "Disk")
	requireFail(t, checks.Disk(t.TempDir(), 0).Check(testCtx(t)), "Disk")
}
