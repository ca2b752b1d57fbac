// Package readme keeps the Go snippets of the repository's README.md, and
// of the modules' READMEs, as code that compiles and runs: each test holds
// one snippet verbatim (internal/docsnippets checks that every snippet is
// in some Go file), with just enough around it to make it a real program.
package readme
