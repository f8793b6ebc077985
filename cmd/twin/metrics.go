package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"

	"twin/twin/mes"
	"twin/twin/metrics"
	"twin/viz/feed"
)

// The twin's metrics (twin/metrics): /metrics, /healthz and /readyz on
// the web view's address, for twin serve and twin demo.

// metricsTokenFlag is the --metrics-token of the commands that serve
// /metrics; call the result after fs.Parse. The token's value is read
// from the environment after parsing, so -h never shows it.
func metricsTokenFlag(fs *flag.FlagSet) func() *metrics.Metrics {
	tok := fs.String("metrics-token", "", "bearer `token` /metrics requires of every peer (default $TWIN_METRICS_TOKEN; without one /metrics answers only on loopback)")
	return func() *metrics.Metrics {
		t := *tok
		if t == "" {
			t = os.Getenv("TWIN_METRICS_TOKEN")
		}
		return metrics.New(metrics.Options{Token: t})
	}
}

// watch hands the live twin's figures to m: ingest, the history, each
// connector; the history open is a condition of readiness.
func (l *live) watch(m *metrics.Metrics) {
	s := metrics.Sources{Ingest: l.in.Stats, Store: l.st.Stats, Disk: l.disk.Stats,
		Checks: []metrics.Check{{Name: "history", NotReady: func() string {
			if l.st.Closed() {
				return "closed"
			}
			return ""
		}}, {Name: "disk", NotReady: func() string {
			if s := l.disk.Stats(); s.Full {
				return fmt.Sprintf("full: %d MiB free, %d MiB reserve", s.FreeBytes>>20, s.Reserve>>20)
			}
			return ""
		}}}}
	for i, c := range l.mqtts {
		s.Connectors = append(s.Connectors, metrics.Connector{Kind: "mqtt", Name: noCredentials(l.p.Tags.MQTT[i].URL), Stats: func() metrics.ConnectorStats {
			st := c.Stats()
			return metrics.ConnectorStats{Connected: c.Connected(), Subscribed: st.Subscribed, Connects: st.Connects, Messages: st.Messages,
				Events: st.Events, Malformed: st.Reasons, Unassigned: st.Unassigned, Rebirths: st.Rebirths, GapDropped: st.GapDropped, StaleDeaths: st.StaleDeaths}
		}})
	}
	for i, c := range l.opcuas {
		s.Connectors = append(s.Connectors, metrics.Connector{Kind: "opcua", Name: noCredentials(l.p.Tags.OPCUA[i].Endpoint), Stats: func() metrics.ConnectorStats {
			st := c.Stats()
			// an OPC UA client has no connection state of its own apart
			// from its session's subscription: up while subscribed
			return metrics.ConnectorStats{Connected: st.Subscribed, Subscribed: st.Subscribed, Connects: st.Connects,
				Messages: st.Values + st.Malformed, Events: st.Values, Malformed: map[string]uint64{"value": st.Malformed}}
		}})
	}
	m.Watch(s)
}

// watchRecords hands the records' scan counts to m; the records open is
// a condition of readiness.
func watchRecords(m *metrics.Metrics, recs *mes.DB) {
	m.Watch(metrics.Sources{Records: recs.Stats, Checks: []metrics.Check{{Name: "records", NotReady: func() string {
		if recs.Closed() {
			return "closed"
		}
		return ""
	}}}})
	// TODO(sign-in throttling): when twin/mes/api's throttler has a
	// Stats(), hand it here: m.Watch(metrics.Sources{Throttle: func()
	// metrics.ThrottleStats { s := th.Stats(); return metrics.ThrottleStats{…} }}).
}

// watchFeed hands the feed's counters to m.
func watchFeed(m *metrics.Metrics, fd *feed.Feed) {
	m.Watch(metrics.Sources{Feed: func() metrics.FeedStats {
		s := fd.Stats()
		return metrics.FeedStats{Clients: s.Clients, Sent: s.Sent, Dropped: s.Dropped, Frames: s.Frames, Made: s.Made}
	}})
}

// noCredentials is a connector's address without a user or password in
// it, for a label.
func noCredentials(addr string) string {
	u, err := url.Parse(addr)
	if err != nil || u.User == nil {
		return addr
	}
	u.User = nil
	return u.String()
}
