package main

import (
	"bufio"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sink is a dependency that blackholes: it accepts every connection, never
// answers, and records which pod opened it (the pod's first line), when,
// and when the pod gave up. It answers a pod's calls made before
// healthyUntil or after the pod's own recovery moment: one byte, which the
// pod's check takes as a pass.
type sink struct {
	l    net.Listener
	dial DialFunc // reaches l
	wg   sync.WaitGroup

	mu           sync.Mutex
	closing      bool
	spans        []span
	open         map[net.Conn]int // index into spans
	healthyUntil time.Time
	recoverAt    map[int]time.Time // by pod
}

type span struct {
	pod        int
	live       bool      // made by a liveness probe (scenario (a'))
	start, end time.Time // end zero: still open
}

func newSink(nw Network, healthyUntil time.Time, recoverAt map[int]time.Time) (*sink, error) {
	l, dial, err := nw()
	if err != nil {
		return nil, err
	}
	s := &sink{l: l, dial: dial, open: make(map[net.Conn]int), healthyUntil: healthyUntil, recoverAt: recoverAt}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *sink) serve() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		start := time.Now()
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.spans = append(s.spans, span{pod: -1, start: start})
		s.open[c] = len(s.spans) - 1
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			pod, live := -1, false
			if line, err := bufio.NewReader(io.LimitReader(c, 32)).ReadString('\n'); err == nil {
				f := strings.Fields(line)
				if len(f) > 0 {
					pod, _ = strconv.Atoi(f[0])
				}
				live = len(f) > 1 && f[1] == "live"
			}
			s.mu.Lock()
			at, recovers := s.recoverAt[pod]
			answer := pod >= 0 && (start.Before(s.healthyUntil) || recovers && !start.Before(at))
			s.mu.Unlock()
			if answer {
				_, _ = c.Write([]byte{'+'})
			}
			_, _ = io.Copy(io.Discard, c) // until the client gives up or is done
			s.mu.Lock()
			if i, ok := s.open[c]; ok {
				s.spans[i].pod, s.spans[i].live, s.spans[i].end = pod, live, time.Now()
				delete(s.open, c)
			}
			s.mu.Unlock()
			_ = c.Close()
		}()
	}
}

// close stops accepting, closes the connections still open, and returns
// once every connection is recorded.
func (s *sink) close() {
	_ = s.l.Close()
	s.mu.Lock()
	s.closing = true
	for c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// measure returns the mean gap from a call of one pod to its next call,
// over calls that started within [from, to), and the mean hold of those
// of them that ended. The gap is the one that follows each such call,
// wherever it ends: requiring the next call to start within the window too
// would leave out more of the long gaps than of the short ones. A call
// made before the dependency recovers fails, and when the pod calls next
// is settled by then, so the recoveries after to do not bias the gaps; the
// caller measures once the next calls have been made.
func (s *sink) measure(from, to time.Time) Measured {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m Measured
	pending := make(map[int]time.Time) // by pod: the start of its last call within the window
	var gaps []float64
	var holds time.Duration
	var nHolds int
	for _, sp := range s.spans { // in order of acceptance
		if sp.pod < 0 {
			continue
		}
		if prev, ok := pending[sp.pod]; ok {
			gaps = append(gaps, sp.start.Sub(prev).Seconds())
			delete(pending, sp.pod)
		}
		if sp.start.Before(from) || !sp.start.Before(to) {
			continue
		}
		m.Calls++
		pending[sp.pod] = sp.start
		if !sp.end.IsZero() {
			holds += sp.end.Sub(sp.start)
			nHolds++
		}
	}
	mean, sd := meanStdDev(gaps)
	m.Cycle = secondsDuration(mean)
	if len(gaps) > 1 {
		m.CycleErr = secondsDuration(sd / math.Sqrt(float64(len(gaps))))
	}
	if nHolds > 0 {
		m.Hold = holds / time.Duration(nHolds)
	}
	return m
}
