package checks

import (
	"context"
	"runtime"

	"github.com/probekit/probekit/health"
)

// Disk returns a check that fails when the file system holding path has
// fewer than minFree bytes available to unprivileged users (the space a
// non-root process can still write, which excludes the blocks reserved for
// root). The check observes the available bytes, in "bytes".
//
// Disk works on Linux and macOS. Elsewhere, and when path is empty or
// minFree is 0, the check is a misconfiguration: Register refuses it with an
// error matching health.ErrMisconfigured and starting "checks: Disk:".
//
// Disk is a check of process-local state, a health.CheckFunc. It suits
// readiness: a pod that cannot write should take no traffic. Put it in
// liveness only when a restart frees the space (scratch files in the
// container's own file system, not a volume). The underlying statfs call
// cannot be cancelled: on a hung network file system the check overruns its
// timeout, which the registry reports as a failure, starting no other run
// of the check until the call returns.
func Disk(path string, minFree uint64) health.Checker {
	switch {
	case !diskSupported:
		return misconfigured("Disk", "free space is only available on Linux and macOS, not %s", runtime.GOOS)
	case path == "":
		return misconfigured("Disk", "empty path")
	case minFree == 0:
		return misconfigured("Disk", "minimum free space must be positive")
	}
	return health.CheckFunc(func(ctx context.Context) error {
		if err := ctx.Err(); err != nil {
			return failf("Disk", "%s: %w", path, err)
		}
		free, err := freeBytes(path)
		if err != nil {
			return failf("Disk", "statfs %s: %w", path, err)
		}
		if free < minFree {
			return failf("Disk", "%s has %s free, below the minimum of %s", path, formatBytes(free), formatBytes(minFree))
		}
		return nil
	})
}
