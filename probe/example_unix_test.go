//go:build unix

package probe_test

import (
	"context"
	"fmt"
	"time"

	"github.com/probekit/probekit/probe"
)

func ExampleExec() {
	out, err := probe.Exec{Command: []string{"sh", "-c", "echo degraded; exit 1"}}.
		Probe(context.Background(), time.Second)
	if err != nil {
		fmt.Println("could not run:", err)
		return
	}
	fmt.Println(out)
	fmt.Printf("%q\n", out.Body)
	// Output:
	// failure: command exited with status 1
	// "degraded\n"
}
