// Command quickstart is the README's quick start as a program you can run:
// a service whose liveness is a heartbeat of its work loop and whose
// readiness depends on PostgreSQL, starting not ready and draining on
// SIGTERM.
//
//	DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres go run ./examples/quickstart -addr :8080
//
// With -probe-contract it prints its probe contract (probe-contract.json)
// instead of listening.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/contract"
	"github.com/probekit/probekit/examples/internal/cli"
	"github.com/probekit/probekit/health"
)

func main() {
	addr := flag.String("addr", ":8080", "listen on this address")
	var printContract bool
	cli.ContractFlag(flag.CommandLine, &printContract)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	reg := health.New(health.Options{StartNotReady: "warming up"}) // readiness fails until MarkReady()
	defer reg.Close()

	hb := checks.NewHeartbeat(time.Minute) // hb.Beat() from the work loop
	if err := reg.Register(health.Liveness, "worker", hb.Check()); err != nil {
		log.Fatal(err) // a bad name, option or check is refused here, at start-up
	}
	if err := reg.Register(health.Readiness, "postgres", checks.SQL(db), // a dependency: behind a breaker
		health.CheckOptions{Every: 10 * time.Second}); err != nil { // in the background
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	if err := reg.Mount(mux); err != nil { // "/", "/ready", "/livez", "/readyz", "/startupz", one path per check
		log.Fatal(err)
	}
	if printContract { // the drain and shutdown below; no manifest, so no preStop
		extra := cli.Extra{HTTPPort: cli.ListenPort(*addr), Shutdown: contract.Shutdown{
			Drain: contract.Duration(5 * time.Second), Timeout: contract.Duration(10 * time.Second)}}
		if err := cli.PrintContract(os.Stdout, reg, extra); err != nil {
			log.Fatal(err)
		}
		return
	}

	go work(ctx, hb)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("quickstart listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	reg.MarkReady() // warm-up done

	<-ctx.Done()                                   // SIGTERM
	reg.Drain(context.Background(), 5*time.Second) // readiness fails, liveness passes, still serving
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil { // stop accepting, finish in-flight requests
		log.Print(err)
	}
	// The deferred reg.Close stops the background checks.
}

// work stands for the service's work loop: each round beats the heartbeat,
// so liveness fails if the loop wedges for more than a minute.
func work(ctx context.Context, hb *checks.Heartbeat) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		hb.Beat()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
