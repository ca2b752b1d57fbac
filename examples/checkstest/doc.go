// Package checkstest holds the tests of package checks that need a real
// database driver, which the probekit module itself must not require. It
// has no API.
//
// The tests use PostgreSQL at the DSN in PROBEKIT_POSTGRES_DSN, by default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable; a test that
// needs the server skips when it cannot connect (see package prereq).
package checkstest
