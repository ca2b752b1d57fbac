// Package grpcbench measures probekit's gRPC health service (module
// grpchealth) beside grpc-go's own (google.golang.org/grpc/health) and
// beside probekit's HTTP handler for the same registry, in one run:
//
//	go test -run '^$' -bench . -benchmem -count 5 . > grpc.txt
//	go tool benchstat -col /lib grpc.txt
//
// BenchmarkCheck and BenchmarkList call the servers' methods in-process,
// not over a socket, so that only the health service is measured;
// BenchmarkWatchUpdate drives Watch streams in-process too.
// TestWatchFanOut and cmd/watchfanout put 10,000 Watch streams over
// loopback. ../README.md ("gRPC health") has the figures and the commands.
package grpcbench
