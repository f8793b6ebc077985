package metrics

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"twin/twin/ingest"
)

// collector reads the sources at each scrape: each Stats() once, every
// metric of it from that one reading.
type collector struct {
	m     *Metrics
	descs map[string]*prometheus.Desc
}

// collected are the metrics of the table the collector makes (the
// histograms and the API's counters are client_golang's own).
func collected() []string {
	var names []string
	for name, d := range table {
		if d.From != "Instrument" && d.Kind != histogram {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func newCollector(m *Metrics) *collector {
	c := &collector{m: m, descs: map[string]*prometheus.Desc{}}
	for _, name := range collected() {
		d := table[name]
		c.descs[name] = prometheus.NewDesc(name, d.Help, d.Labels, nil)
	}
	return c
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// put sends one value of the metric name.
func (c *collector) put(ch chan<- prometheus.Metric, name string, v float64, labels ...string) {
	t := prometheus.GaugeValue
	if table[name].Kind == counter {
		t = prometheus.CounterValue
	}
	ch <- prometheus.MustNewConstMetric(c.descs[name], t, v, labels...)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.m.sources()
	if s.Ingest != nil {
		st := s.Ingest()
		c.put(ch, mIngestEvents, float64(st.Events))
		c.put(ch, mIngestFaults, float64(st.Faults))
		c.put(ch, mIngestStored, float64(st.Stored))
		c.put(ch, mIngestFailed, float64(st.Failed))
		c.put(ch, mIngestBatches, float64(st.Batches))
		c.put(ch, mIngestQueueFull, float64(st.QueueFull))
		c.put(ch, mIngestSubDropped, float64(st.SubscriberDropped))
		c.put(ch, mIngestHeld, float64(st.Held))
		for _, r := range ingest.Reasons() {
			c.put(ch, mQuarantined, float64(st.Quarantined[r.String()]), r.String())
		}
	}
	if s.Store != nil {
		st := s.Store()
		c.put(ch, mStoreSeq, float64(st.Seq))
		c.put(ch, mStoreLSM, float64(st.LSMBytes))
		c.put(ch, mStoreVLog, float64(st.VLogBytes))
		c.put(ch, mStorePasses, float64(st.Passes))
		c.put(ch, mStoreDropped, float64(st.Dropped))
		c.put(ch, mStoreLate, float64(st.Late))
		c.put(ch, mStoreUnreadable, float64(st.Unreadable))
		c.put(ch, mStoreRepeats, float64(st.Repeats))
	}
	if s.Disk != nil {
		st := s.Disk()
		c.put(ch, mDiskFull, b2f(st.Full))
		c.put(ch, mDiskFree, float64(st.FreeBytes))
		c.put(ch, mDiskReserve, float64(st.Reserve))
		c.put(ch, mDiskRefused, float64(st.Refused))
	}
	for _, k := range s.Connectors {
		st := k.Stats()
		l := []string{k.Kind, k.Name}
		c.put(ch, mConnUp, b2f(st.Connected), l...)
		c.put(ch, mConnSubscribed, b2f(st.Subscribed), l...)
		c.put(ch, mConnConnects, float64(st.Connects), l...)
		c.put(ch, mConnMessages, float64(st.Messages), l...)
		c.put(ch, mConnEvents, float64(st.Events), l...)
		for r, n := range st.Malformed {
			c.put(ch, mConnMalformed, float64(n), k.Kind, k.Name, r)
		}
		c.put(ch, mConnUnassigned, float64(st.Unassigned), l...)
		c.put(ch, mConnRebirths, float64(st.Rebirths), l...)
		c.put(ch, mConnGapDropped, float64(st.GapDropped), l...)
		c.put(ch, mConnStaleDeaths, float64(st.StaleDeaths), l...)
		c.put(ch, mReady, b2f(st.Connected && st.Subscribed), k.Kind+" "+k.Name)
	}
	if s.Feed != nil {
		st := s.Feed()
		c.put(ch, mFeedClients, float64(st.Clients))
		c.put(ch, mFeedSent, float64(st.Sent))
		c.put(ch, mFeedDropped, float64(st.Dropped))
		c.put(ch, mFeedFrames, float64(st.Frames))
		c.put(ch, mFeedMade, float64(st.Made))
	}
	if s.Records != nil {
		st := s.Records()
		c.put(ch, mScans, float64(st.Started), "started")
		c.put(ch, mScans, float64(st.Confirmed), "confirmed")
		c.put(ch, mScans, float64(st.Duplicates), "duplicate")
		c.put(ch, mScans, float64(st.Refused), "refused")
	}
	if s.Throttle != nil {
		st := s.Throttle()
		c.put(ch, mThrottleThrottled, float64(st.Throttled))
		c.put(ch, mThrottleLockouts, float64(st.Lockouts))
		c.put(ch, mThrottleLocked, float64(st.Locked))
	}
	for _, k := range s.Checks {
		c.put(ch, mReady, b2f(k.NotReady() == ""), k.Name)
	}
}
