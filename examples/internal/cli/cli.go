// Package cli is what the examples' main packages share: Main runs the
// program until SIGTERM or SIGINT and lets a second signal kill it at once;
// ContractFlag and PrintContract give every program its -probe-contract
// flag.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main calls run with a context that ends at the first SIGTERM or SIGINT,
// the program's arguments and its standard output and error. After the
// first signal, a second one kills the process at once instead of waiting
// for the drain. An error other than flag.ErrHelp is printed after name and
// exits 1; flag.ErrHelp exits 0, the flag package having printed the usage.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	os.Exit(main(name, run, os.Args[1:], os.Stderr))
}

func main(name string, run func(context.Context, []string, io.Writer, io.Writer) error, args []string, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills at once instead of waiting for the drain
	}()
	err := run(ctx, args, os.Stdout, stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintln(stderr, name+":", err)
	return 1
}
