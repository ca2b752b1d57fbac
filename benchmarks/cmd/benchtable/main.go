// Command benchtable turns benchmark results into the Markdown tables of
// benchmarks/README.md:
//
//	go run ./cmd/benchtable results/inprocess.txt results/loopback.txt          # prints the tables
//	go run ./cmd/benchtable -readme README.md results/inprocess.txt results/loopback.txt
//
// The inputs are Go benchmark output (go test -bench, or cmd/loopback)
// with the configuration lines benchall writes (date, machine, go,
// probekit, command, load); the tables name the machine and the command
// from them. With -readme it replaces the section between the README's
// benchtable markers instead of printing. cmd/benchall runs it for you.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/probekit/probekit/benchmarks/internal/benchtable"
)

func main() {
	readme := flag.String("readme", "", "splice the tables into this file's benchtable section instead of printing them")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: benchtable [-readme FILE] RESULTS...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*readme, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(readme string, names []string) error {
	files, err := benchtable.ReadFiles(names)
	if err != nil {
		return err
	}
	md, _, err := benchtable.Render(files)
	if err != nil {
		return err
	}
	if readme == "" {
		_, err := os.Stdout.Write(md)
		return err
	}
	return benchtable.SpliceFile(readme, md)
}
