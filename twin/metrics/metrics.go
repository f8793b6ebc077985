package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"twin/twin/disk"
	"twin/twin/ingest"
	"twin/twin/mes"
	"twin/twin/store"
)

// Options configure the metrics.
type Options struct {
	// Token, if set, is the bearer token /metrics requires of every
	// peer; empty, /metrics answers loopback peers only. It is never
	// logged or printed.
	Token string
	// NoRuntime leaves out the Go runtime's and the process's metrics
	// (go_*, process_*: memory, goroutines, CPU, open files), which are
	// in by default.
	NoRuntime bool
}

// Sources are where the figures are read at each scrape: each func
// returns a package's Stats() of the moment (nil: that part is not
// there, its metrics are left out).
type Sources struct {
	Ingest  func() ingest.Stats
	Store   func() store.Stats
	Feed    func() FeedStats
	Records func() mes.Stats
	Disk    func() disk.Stats
	// Throttle is the sign-in throttler's (twin/mes/api); nil until it
	// has a Stats().
	Throttle func() ThrottleStats
	// Connectors are added to those named before.
	Connectors []Connector
	// Checks are added to those of the connectors for /readyz: the
	// history open, the records open.
	Checks []Check
}

// Connector is one connection of the tag map, as the metrics read it.
type Connector struct {
	Kind  string // "mqtt", "opcua"
	Name  string // the broker's URL, the server's endpoint (without credentials)
	Stats func() ConnectorStats
}

// ConnectorStats are what a connector has counted (connectors/mqtt's and
// connectors/opcua's Stats, in one shape; a figure a kind does not keep
// stays 0).
type ConnectorStats struct {
	Connected  bool // the connection is up
	Subscribed bool // the source confirmed the subscriptions of this connection
	Connects   uint64
	Messages   uint64            // messages (MQTT) or value notifications (OPC UA) received
	Events     uint64            // events handed to ingest
	Malformed  map[string]uint64 // messages that could not be read, by reason
	Unassigned uint64            // messages on topics the tag map does not name
	Rebirths   uint64            // Sparkplug rebirth requests sent
	GapDropped uint64            // Sparkplug messages not folded after a sequence gap
	// StaleDeaths counts Sparkplug NDEATHs ignored for a bdSeq not of
	// the node's current birth.
	StaleDeaths uint64
}

// FeedStats are the WebSocket feed's counters (viz/feed.Stats).
type FeedStats struct {
	Clients int
	Sent    uint64 // messages sent to clients
	Dropped uint64 // clients disconnected for being too slow
	Frames  uint64 // scenes of the source sent on
	Made    uint64 // messages encoded
}

// ThrottleStats are the sign-in throttler's counters, for the hook
// Sources.Throttle.
type ThrottleStats struct {
	Throttled uint64 // sign-ins refused (429) because of earlier failures
	Lockouts  uint64 // lockouts begun (an account or a source)
	Locked    int    // accounts and sources locked now
}

// Check is one condition of readiness: NotReady returns "" when it
// holds, else what is wrong ("closed").
type Check struct {
	Name     string
	NotReady func() string
}

// Metrics are the twin's metrics: a registry of its own (no global
// state), the histograms the packages fill, and the sources read at
// each scrape. Its methods are safe for concurrent use.
type Metrics struct {
	// Fold, Append and Commit are the latency histograms to hand to
	// ingest.Options.FoldLatency, store.Options.AppendLatency and
	// store.Options.CommitLatency.
	Fold, Append, Commit prometheus.Histogram

	reg      *prometheus.Registry
	token    []byte
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	signIn   *prometheus.CounterVec

	mu  sync.Mutex
	src Sources
}

// New returns the metrics, with nothing to read yet (Watch adds it).
func New(opt Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), token: []byte(opt.Token)}
	hist := func(name string) prometheus.Histogram {
		d := table[name]
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: d.Help, Buckets: d.Buckets})
	}
	m.Fold, m.Append, m.Commit = hist(mFold), hist(mAppend), hist(mCommit)
	d := table[mRequests]
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: mRequests, Help: d.Help}, d.Labels)
	d = table[mDuration]
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: mDuration, Help: d.Help, Buckets: d.Buckets}, d.Labels)
	d = table[mSignInFailures]
	m.signIn = prometheus.NewCounterVec(prometheus.CounterOpts{Name: mSignInFailures, Help: d.Help}, d.Labels)
	for _, r := range []string{"bad_credentials", "throttled"} {
		m.signIn.WithLabelValues(r) // both series from the start, at 0
	}
	m.reg.MustRegister(m.Fold, m.Append, m.Commit, m.requests, m.duration, m.signIn, newCollector(m))
	if !opt.NoRuntime {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Watch adds what s names to the sources: its non-nil funcs replace
// those given before, its connectors and checks are added.
func (m *Metrics) Watch(s Sources) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.Ingest != nil {
		m.src.Ingest = s.Ingest
	}
	if s.Store != nil {
		m.src.Store = s.Store
	}
	if s.Feed != nil {
		m.src.Feed = s.Feed
	}
	if s.Records != nil {
		m.src.Records = s.Records
	}
	if s.Throttle != nil {
		m.src.Throttle = s.Throttle
	}
	if s.Disk != nil {
		m.src.Disk = s.Disk
	}
	m.src.Connectors = append(m.src.Connectors[:len(m.src.Connectors):len(m.src.Connectors)], s.Connectors...)
	m.src.Checks = append(m.src.Checks[:len(m.src.Checks):len(m.src.Checks)], s.Checks...)
}

// sources returns the sources of the moment (their slices are not
// changed afterwards: Watch appends to a copy).
func (m *Metrics) sources() Sources {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.src
}

// Registry returns the registry the metrics are in, for a test that
// gathers them or a caller that adds its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }
