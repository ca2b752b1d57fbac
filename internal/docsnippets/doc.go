// Package docsnippets holds the test that keeps the documentation honest:
// every Go snippet in README.md, docs/ and the modules' READMEs must appear,
// line for line, in a Go file of the repository, where the compiler and the
// tests check it. A snippet is a fenced block marked ```go; blocks of other
// languages (```text, ```sh, ```yaml) are not Go and are not checked.
package docsnippets
