package main

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// dial is the check pod runs: connect, say who it is, and wait for an
// answer, until the context's deadline. One byte is a healthy answer; a
// blackholed dependency never gives one.
func dial(connect DialFunc, pod int, live bool) func(context.Context) error {
	hello := strconv.Itoa(pod)
	if live {
		hello += " live"
	}
	msg := []byte(hello + "\n")
	return func(ctx context.Context) error {
		c, err := connect(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		if dl, ok := ctx.Deadline(); ok {
			_ = c.SetDeadline(dl)
		}
		if _, err := c.Write(msg); err != nil {
			return err
		}
		_, err = c.Read(make([]byte, 1))
		return err
	}
}

// prober probes like the kubelet: on a fixed ticker, after a random initial
// delay, each probe bounded by the probe timeout, until ctx is done.
func prober(ctx context.Context, wg *sync.WaitGroup, p Params, probe func(context.Context)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		first := time.NewTimer(rand.N(p.Period))
		defer first.Stop()
		select {
		case <-ctx.Done():
			return
		case <-first.C:
		}
		tick := time.NewTicker(p.Period)
		defer tick.Stop()
		for {
			pctx, cancel := context.WithTimeout(ctx, p.ProbeTimeout)
			probe(pctx)
			cancel()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}
