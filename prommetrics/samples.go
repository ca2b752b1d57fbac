package prommetrics

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The samples are the prometheus.Metric values one scrape sends: a value
// taken at collection, its family's descriptor and its label pairs (made
// once per entry, shared by scrapes as client_golang's own metrics share
// theirs), with the protobuf messages Write fills in place. A scrape makes
// each kind in one slice (a slab), so that the thousands of
// series of a large registry cost a handful of allocations, not several
// per series.

type gaugeSample struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	value  float64
	out    dto.Gauge
}

func (s *gaugeSample) Desc() *prometheus.Desc { return s.desc }

func (s *gaugeSample) Write(m *dto.Metric) error {
	s.out.Value = &s.value
	m.Label, m.Gauge = s.labels, &s.out
	return nil
}

type counterSample struct {
	desc    *prometheus.Desc
	labels  []*dto.LabelPair
	value   float64
	created *timestamppb.Timestamp
	out     dto.Counter
}

func (s *counterSample) Desc() *prometheus.Desc { return s.desc }

func (s *counterSample) Write(m *dto.Metric) error {
	s.out.Value, s.out.CreatedTimestamp = &s.value, s.created
	m.Label, m.Counter = s.labels, &s.out
	return nil
}

type histogramSample struct {
	desc    *prometheus.Desc
	labels  []*dto.LabelPair
	count   uint64
	sum     float64
	created *timestamppb.Timestamp
	buckets []*dto.Bucket // filled by the scrape, cumulative
	out     dto.Histogram
}

func (s *histogramSample) Desc() *prometheus.Desc { return s.desc }

func (s *histogramSample) Write(m *dto.Metric) error {
	s.out.SampleCount, s.out.SampleSum, s.out.Bucket, s.out.CreatedTimestamp = &s.count, &s.sum, s.buckets, s.created
	m.Label, m.Histogram = s.labels, &s.out
	return nil
}

// slab holds the samples of one scrape, taken from the front as it sends
// them.
type slab struct {
	ch         chan<- prometheus.Metric
	gauges     []gaugeSample
	counters   []counterSample
	histograms []histogramSample
	buckets    []dto.Bucket
	bucketPtrs []*dto.Bucket
	cumulative []uint64
	bounds     []float64
}

// size is how many samples of each kind a scrape may send.
type size struct{ gauges, counters, histograms int }

func newSlab(ch chan<- prometheus.Metric, n size, bounds []float64) *slab {
	return &slab{
		ch:         ch,
		gauges:     make([]gaugeSample, n.gauges),
		counters:   make([]counterSample, n.counters),
		histograms: make([]histogramSample, n.histograms),
		buckets:    make([]dto.Bucket, n.histograms*len(bounds)),
		bucketPtrs: make([]*dto.Bucket, n.histograms*len(bounds)),
		cumulative: make([]uint64, n.histograms*len(bounds)),
		bounds:     append([]float64(nil), bounds...),
	}
}

func (s *slab) gauge(d *prometheus.Desc, labels []*dto.LabelPair, v float64) {
	g := &s.gauges[0]
	s.gauges = s.gauges[1:]
	g.desc, g.labels, g.value = d, labels, v
	s.ch <- g
}

func (s *slab) counter(d *prometheus.Desc, labels []*dto.LabelPair, v uint64, created *timestamppb.Timestamp) {
	c := &s.counters[0]
	s.counters = s.counters[1:]
	c.desc, c.labels, c.value, c.created = d, labels, float64(v), created
	s.ch <- c
}

// histogram sends a histogram of per-bucket (not cumulative) counts, the
// last of which is the +Inf bucket's.
func (s *slab) histogram(d *prometheus.Desc, labels []*dto.LabelPair, perBucket []uint64, sum float64, created *timestamppb.Timestamp) {
	h := &s.histograms[0]
	s.histograms = s.histograms[1:]
	n := len(s.bounds)
	bs, ptrs, cum := s.buckets[:n:n], s.bucketPtrs[:n:n], s.cumulative[:n:n]
	s.buckets, s.bucketPtrs, s.cumulative = s.buckets[n:], s.bucketPtrs[n:], s.cumulative[n:]
	var total uint64
	for i := range n {
		total += perBucket[i]
		cum[i] = total
		bs[i].CumulativeCount, bs[i].UpperBound = &cum[i], &s.bounds[i]
		ptrs[i] = &bs[i]
	}
	total += perBucket[n]
	h.desc, h.labels, h.count, h.sum, h.created, h.buckets = d, labels, total, sum, created, ptrs
	s.ch <- h
}
