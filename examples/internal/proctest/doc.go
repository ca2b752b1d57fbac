// Package proctest builds the examples' main packages and runs them as
// processes of their own, for tests that need the real binary: its flags,
// its signal handling, its exit status and what it writes.
//
// Build compiles a package once per test binary; WithCleanup, in TestMain,
// removes what it built. Start runs a binary and returns once it has said
// where it listens; the process is killed when the test ends, and its
// output is logged if the test failed.
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(proctest.WithCleanup(m)) }
//
//	p := proctest.Start(t, proctest.Build(t, "."), "-addr", "127.0.0.1:0")
//	resp, err := http.Get("http://" + p.Addr() + "/ready")
//	...
//	p.Signal(syscall.SIGTERM)
//	require.NoError(t, p.Wait(10*time.Second))
//
// It is meant for tests only.
package proctest
