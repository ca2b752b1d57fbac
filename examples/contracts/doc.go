// Package contracts checks every example program's -probe-contract flag
// (issue 17.2): each program, built and run with it, exits 0 without
// listening and prints a probe contract (package contract) that parses and
// lists the routes, checks, ports and shutdown budget the program really
// has; and that contract is, byte for byte, the probe-contract.json
// committed beside the program (and its manifest), which the k8sprobes
// linter reads. After changing a program's health wiring, regenerate them:
//
//	go test ./examples/contracts -update
//
// It has no code.
package contracts
