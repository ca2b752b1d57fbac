//go:build !linux

package hostile

import "testing"

// ListenFull skips the test: filling an accept queue is done on Linux only.
func ListenFull(t testing.TB) string {
	t.Helper()
	t.Skip("hostile: ListenFull needs Linux")
	return ""
}
