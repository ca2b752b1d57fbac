// Command hello is the process proctest's tests run: it listens on -addr,
// says so the way the examples do, and exits on SIGTERM.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// greeting is set with -ldflags=-X=main.greeting=... to show that Build
// passes its environment to go build.
var greeting = "hello"

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	exitEarly := flag.Int("exit-early", -1, "if not -1, exit with this status before listening")
	exitCode := flag.Int("exit", 0, "exit status after SIGTERM")
	flag.Parse()

	fmt.Fprintf(os.Stderr, "%s starting\n", greeting)
	if *exitEarly >= 0 {
		fmt.Fprintln(os.Stderr, "exiting before listening")
		os.Exit(*exitEarly)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("hello listening on %s\n", ln.Addr())
	fmt.Fprintf(os.Stderr, "addr=%s\n", ln.Addr())
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "%s\n", greeting)
			_ = c.Close()
		}
	}()
	<-sig
	fmt.Fprintln(os.Stderr, "got SIGTERM")
	_ = ln.Close()
	fmt.Fprint(os.Stderr, "bye, no newline")
	os.Exit(*exitCode)
}
