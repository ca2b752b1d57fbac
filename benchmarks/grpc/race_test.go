//go:build race

package grpcbench_test

const raceEnabled = true
