//go:build linux

package hostile

import (
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"
)

// ListenFull returns the address of a loopback listener that never accepts
// and whose accept queue is full, so that a new connection to it is never
// established: the kernel drops its SYNs and the client's connect waits
// until its own deadline. It is the one server against which even a TCP
// connect probe must time out. Linux only; the listener is closed when the
// test ends.
func ListenFull(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("hostile: socket: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("hostile: bind: %v", err)
	}
	// A backlog of 0 leaves room for one connection that nobody accepts.
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatalf("hostile: listen: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("hostile: getsockname: %v", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// Fill the queue until a connect no longer completes. A loopback
	// connect into a queue with room completes inside the kernel, so only
	// a full queue makes one time out; the first must succeed.
	for i := range 8 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil && i > 0 {
			return addr
		}
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	t.Fatalf("hostile: could not fill the accept queue of %s", addr)
	return ""
}
