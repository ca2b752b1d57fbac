// Package prereq skips a test whose machine lacks a program or a service
// the test needs, with a message that names it and says where to get it:
//
//	redis := prereq.LookPath(t, "redis-server", "redis-server")
//	...
//	if err := db.PingContext(ctx); err != nil {
//		prereq.Skip(t, "PostgreSQL at 127.0.0.1:5432 (set PROBEKIT_POSTGRES_DSN)", err)
//	}
//
// Every such message begins with Prefix. A user without redis-server can
// still run the rest of the suite; CI installs everything, and .ci/run
// fails when a test's output contains Prefix, so that CI cannot pass by
// skipping. Skips for any other reason must not use Prefix.
//
// It is meant for tests only.
package prereq

import (
	"fmt"
	"os/exec"
	"testing"
)

// Prefix begins the message of every skip for something the machine
// lacks, in every module of this repository.
const Prefix = "missing prerequisite: "

// Skip skips t with the message Prefix + what + ": " + err. what names the
// program or service and where it comes from, e.g. "redis-server (Debian
// package redis-server)"; err says what was tried.
func Skip(t testing.TB, what string, err error) {
	t.Helper()
	t.Skipf("%s%s: %v", Prefix, what, err)
}

// LookPath returns the path of the program file as exec.LookPath finds it
// on PATH, or skips t, naming file and debianPackage, the Debian package
// that installs it.
func LookPath(t testing.TB, file, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(file)
	if err != nil {
		Skip(t, fmt.Sprintf("%s (Debian package %s)", file, debianPackage), err)
	}
	return path
}
