package prommetrics

import (
	"math"
	"runtime"
	"sync/atomic"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/metricspec"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// observer records runs and changes as the registry reports them, on the
// registry's delivery goroutine, one call at a time. What is recorded is
// metricspec's rule, shared with otelmetrics. Recording a run costs a map
// lookup and a few atomic additions, and allocates nothing once the check
// has its entry.
type observer struct{ c *Collector }

func (o observer) ObserveRun(r health.Run) {
	ri := metricspec.ResultIndex(r.Result)
	if ri < 0 {
		return
	}
	st := o.c.entries.Check(metricspec.Key{Group: r.Group, Name: r.Check}).stats
	if st == nil {
		return
	}
	st.begin()
	if metricspec.Timed(r) {
		seconds := r.Duration.Seconds()
		st.buckets[metricspec.Bucket(seconds)].Add(1)
		st.sum.Store(math.Float64bits(math.Float64frombits(st.sum.Load()) + seconds))
	}
	if r.Result == health.RunPass {
		metricspec.StoreMax(&st.lastSuccess, metricspec.RunEnd(r))
	}
	st.runs[ri].Add(1)
	st.end()
}

func (o observer) ObserveEvent(ev health.Event) {
	switch {
	case ev.Breaker != nil:
		if bi := metricspec.BreakerIndex(ev.Breaker.State); bi >= 0 {
			st := o.c.entries.Check(metricspec.Key{Group: ev.Group, Name: ev.Check}).stats
			if st == nil {
				return
			}
			st.begin()
			st.breakerChanges[bi].Add(1)
			st.end()
		}
	case metricspec.IsTransition(ev):
		o.c.transitions[ev.Group-health.Liveness][metricspec.StatusIndex(ev.To)].Add(1)
	}
}

// stats is what the observer records of one check, with the label pairs
// of its counters and histogram. One goroutine writes it (the observer's),
// between begin and end, where nothing can panic; scrapes read a
// consistent copy (read), so that a scrape that counts a run also has its
// duration, and a histogram's count always matches its buckets.
type stats struct {
	results [6][]*dto.LabelPair // group, name, result (metricspec.Results)
	name    []*dto.LabelPair    // name
	to      [3][]*dto.LabelPair // name, to (metricspec.BreakerStates)
	created *timestamppb.Timestamp

	seq            atomic.Uint64 // odd while the observer writes
	runs           [6]atomic.Uint64
	buckets        [bucketsLen]atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum            atomic.Uint64             // math.Float64bits of the seconds
	breakerChanges [3]atomic.Uint64
	lastSuccess    atomic.Int64 // Unix nanoseconds; 0 if none. Only moves forward.
}

const bucketsLen = 15 // len(metricspec.DurationBuckets) + 1

func (st *stats) begin() { st.seq.Add(1) }
func (st *stats) end()   { st.seq.Add(1) }

// counts is a consistent copy of a check's stats.
type counts struct {
	runs           [6]uint64
	buckets        [bucketsLen]uint64
	sum            float64
	breakerChanges [3]uint64
	lastSuccess    int64
}

// read copies st between two writes of the observer's. A write is a few
// atomic additions, so a read that meets one retries at once.
func (st *stats) read() (c counts) {
	for {
		seq := st.seq.Load()
		if seq&1 == 0 {
			for i := range c.runs {
				c.runs[i] = st.runs[i].Load()
			}
			for i := range c.buckets {
				c.buckets[i] = st.buckets[i].Load()
			}
			c.sum = math.Float64frombits(st.sum.Load())
			for i := range c.breakerChanges {
				c.breakerChanges[i] = st.breakerChanges[i].Load()
			}
			c.lastSuccess = st.lastSuccess.Load()
			if st.seq.Load() == seq {
				return c
			}
		}
		runtime.Gosched()
	}
}
