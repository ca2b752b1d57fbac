//go:build linux || darwin

package checks

import "syscall"

const diskSupported = true

func freeBytes(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, err
	}
	// Bavail, not Bfree: the blocks reserved for root are no use to a
	// service that does not run as root.
	return st.Bavail * uint64(st.Bsize), nil
}
