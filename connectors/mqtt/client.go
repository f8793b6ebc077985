// Package mqtt connects the twin to a plant's MQTT broker: it subscribes to
// the topics of the plant's tag map (plain JSON on named topics, and
// Sparkplug B) and turns every message into events.
//
// Delivery: the client subscribes with QoS 1 on a persistent session (a
// stable client id, clean session off), so the broker keeps what arrives
// while the twin is away. Acknowledgement is manual: a message is
// acknowledged (PUBACK) only after the sink has accepted its events, and
// with the twin's ingest that means after the history store has them on
// disk. A message the twin never acknowledged is sent again by the broker.
//
// Every message is handled and acknowledged, also one that arrives before
// the client has (re)subscribed (a persistent session hands its backlog
// over right after the connection is accepted) and one on a topic the tag
// map no longer names: a message left unacknowledged stays in the
// broker's in-flight window until the next reconnect, and with
// mosquitto's default window of 20 a few of them stop the stream.
//
// A malformed message (bad JSON, an unknown state, a corrupt Sparkplug
// payload) is counted, logged with its topic, reported as a Fault event and
// acknowledged: it is never retried, and it never stops ingest.
//
// A clean stop (Run's ctx ending) hands nothing more on, waits until
// what was handed on is durable and acknowledged (Options.StopWait) and
// then disconnects, so the next start gets nothing again that the
// history holds.
//
// Redelivery: QoS 1 is at least once. A message the broker sends again
// after a crash (stored, not yet acknowledged) is stored once: a reading
// with its own timestamp is the same event again, which the history
// store recognises; a reading without one is recognised by the broker's
// message identity, kept in the session journal (Options.SessionDir;
// see journal): the DUP flag, the packet identifier, which the broker
// must keep for a redelivery and may not give another message until it
// has our acknowledgement (MQTT 3.1.1 §4.4, MQTT-2.3.1-2/3), and a hash
// of topic and payload. Not covered, because nothing in the protocol
// tells them apart from new messages: a publisher that sends a message
// again itself (a gateway's own QoS 1 retry reaches the twin as a new
// message with a new identifier), a session the broker lost (restart
// without persistence, expiry), QoS 0 (never redelivered), a power loss
// just after a message arrived (the journal is written, not fsynced,
// per message), and a broker that does not set DUP.
//
// Time: a reading without a timestamp is stamped with the receive clock
// (Options.Clock, the twin's ingest's). A reading stamped beyond the
// clock's bounds (years ahead, or 1970) is quarantined here, where the
// payload is known: the client hands on its Fault (ingest.Quarantine)
// with the topic and payload (or the Sparkplug metric) it came in.
package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"twin/connectors/signal"
	"twin/connectors/sparkplug"
	"twin/plant"
	"twin/plant/event"
	"twin/twin/ingest"
)

// Options configure a client.
type Options struct {
	Logger *slog.Logger
	// Clock is the receive clock and the bounds of readings' own times:
	// give the ingest's (ingest.Ingest.Clock). Its Now stamps readings
	// that carry no time; the zero Clock is time.Now with the default
	// bounds.
	Clock ingest.Clock
	// StopWait bounds a clean stop (Run's ctx ending): how long the
	// client waits for the sink to make durable what it has handed on,
	// and for those acknowledgements to leave, before it disconnects.
	// 0: DefaultStopWait.
	StopWait time.Duration
	// SessionDir is where the client keeps the journal of its
	// persistent session (a file per broker and client id; the twin's
	// data directory's mqtt/): the receive time it gave each message
	// without a timestamp of its own, by packet identifier, so that the
	// broker's redelivery of such a message after a crash is stored once
	// (see journal). "": no journal, and a redelivered reading without a
	// timestamp gets a second receive time.
	SessionDir string
}

// DefaultStopWait is how long a clean stop waits at most for the
// acknowledgements of what the client has handed on.
const DefaultStopWait = 10 * time.Second

// Stats count what the client has seen.
type Stats struct {
	Messages   uint64            `json:"messages"`
	Events     uint64            `json:"events"`
	Malformed  uint64            `json:"malformed"`
	Reasons    map[string]uint64 `json:"malformed_by_reason,omitempty"`
	Connects   uint64            `json:"connects"`
	Subscribed bool              `json:"subscribed"` // the broker confirmed the subscriptions of the current connection
	Rebirths   uint64            `json:"rebirth_requests"`
	// LeftAtStop counts messages a clean stop handed back to the broker:
	// received after the stop began, never handed on nor acknowledged
	// (the broker sends them again on the next start).
	LeftAtStop uint64 `json:"left_at_stop"`
	// Redelivered counts messages the broker sent again (DUP) that the
	// session journal recognised: their readings without a timestamp took
	// the receive time of the first delivery (the history holds them
	// once).
	Redelivered uint64 `json:"redelivered_recognised"`
	// UnackedAtStop counts messages handed on whose acknowledgement had
	// not been sent when the stop's wait (Options.StopWait) ended: the
	// broker sends them again (the store recognises those it holds).
	UnackedAtStop uint64 `json:"unacked_at_stop"`
	Unassigned    uint64 `json:"unassigned"` // messages on topics the tag map does not name
	// GapDropped counts Sparkplug messages not folded because their
	// node's session was lost to a sequence gap (the message with the
	// gap and every one after it until the node's NBIRTH).
	GapDropped uint64 `json:"dropped_for_gap"`
	// StaleDeaths counts NDEATHs ignored because their bdSeq is not the
	// one of the node's current NBIRTH (an earlier session's will).
	StaleDeaths uint64 `json:"stale_deaths"`
}

// Client is a connection to one broker of the tag map.
type Client struct {
	cfg   plant.MQTTBroker
	sink  signal.Sink
	log   *slog.Logger
	clock ingest.Clock
	c     paho.Client

	topics  map[string][]plant.TopicTag
	devices map[[2]string]*plant.SparkplugDevice // edge node, device

	hostMu sync.Mutex
	host   *sparkplug.Host
	asked  map[[2]string]int64 // group, edge node → when a rebirth was last requested (receive clock, ns)

	// the goroutines that wait for the broker's answer to a subscribe;
	// Run waits for them before it returns
	watchMu  sync.Mutex
	stopped  bool // Run has returned: no more watchers
	quit     chan struct{}
	watchers sync.WaitGroup

	// the messages handed on to the sink whose acknowledgement has not
	// been sent: a clean stop waits for them (Run)
	pendMu   sync.Mutex
	pending  int
	stopping bool          // a clean stop has begun: handle hands nothing more on
	drained  chan struct{} // closed once stopping and pending is 0
	stopWait time.Duration
	// lingering: the client is disconnecting; closing the connection
	// waits for the broker's end first (lingerConn)
	lingering atomic.Bool

	messages, events, malformed, connects, rebirths, unassigned atomic.Uint64
	gapDropped, staleDeaths, leftAtStop, unackedAtStop          atomic.Uint64
	redelivered, journalFailed                                  atomic.Uint64
	sessionDir, clientID                                        string
	journal                                                     *journal // nil: none (Options.SessionDir "")
	subscribed                                                  signal.Ready
	reasonMu                                                    sync.Mutex
	reasons                                                     map[string]uint64
}

// RebirthRetry is how long the client waits for the NBIRTH it asked a
// node for before it asks again (the NCMD is QoS 0 and may be lost, or
// the node may have missed it).
const RebirthRetry = 5 * time.Second

// New prepares a client for broker cfg; Run connects it.
func New(cfg plant.MQTTBroker, sink signal.Sink, opt Options) (*Client, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	c := &Client{cfg: cfg, sink: sink, log: opt.Logger.With("broker", cfg.URL), clock: opt.Clock.WithDefaults(),
		topics: map[string][]plant.TopicTag{}, devices: map[[2]string]*plant.SparkplugDevice{},
		host: sparkplug.NewHost(), asked: map[[2]string]int64{}, reasons: map[string]uint64{}, quit: make(chan struct{}),
		drained: make(chan struct{}), stopWait: opt.StopWait, sessionDir: opt.SessionDir}
	if c.stopWait <= 0 {
		c.stopWait = DefaultStopWait
	}
	for _, t := range cfg.Topics {
		c.topics[t.Topic] = append(c.topics[t.Topic], t)
	}
	if sp := cfg.Sparkplug; sp != nil {
		for i := range sp.Devices {
			d := &sp.Devices[i]
			c.devices[[2]string{d.EdgeNode, d.Device}] = d
		}
	}
	po := paho.NewClientOptions().AddBroker(brokerURL(cfg.URL))
	id := cfg.ClientID
	if id == "" {
		h, _ := os.Hostname()
		id = "twin-" + h
	}
	c.clientID = id
	po.SetClientID(id).SetCleanSession(false).SetResumeSubs(true).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(5 * time.Second).SetKeepAlive(10 * time.Second).
		SetAutoAckDisabled(true).SetOrderMatters(true).SetMessageChannelDepth(10000).
		SetConnectTimeout(5 * time.Second).
		// a persistent session delivers its backlog as soon as the
		// broker accepts the connection, before onConnect has
		// subscribed (paho runs it on a goroutine of its own), and
		// the session keeps the subscriptions of an older tag map:
		// paho leaves a message no route matches unacknowledged, so
		// every message goes to handle, which knows the topics itself
		SetDefaultPublishHandler(c.handle).
		SetStore(newStore()).
		SetCustomOpenConnectionFn(c.open)
	if cfg.User != "" {
		po.SetUsername(signal.ExpandEnv(cfg.User)).SetPassword(signal.ExpandEnv(cfg.Password))
	}
	if strings.HasPrefix(cfg.URL, "ssl://") || strings.HasPrefix(cfg.URL, "mqtts://") || strings.HasPrefix(cfg.URL, "tls://") || cfg.CA != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CA != "" {
			pem, err := os.ReadFile(cfg.CA)
			if err != nil {
				return nil, fmt.Errorf("mqtt: CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("mqtt: CA %s: no PEM certificate", cfg.CA)
			}
			tc.RootCAs = pool
		}
		po.SetTLSConfig(tc)
	}
	if sp := cfg.Sparkplug; sp != nil && sp.HostID != "" {
		// Sparkplug 3.0 host application state: offline as the will
		po.SetBinaryWill(c.stateTopic(), hostState(false), 1, true)
	}
	po.SetOnConnectHandler(c.onConnect)
	po.SetConnectionLostHandler(func(_ paho.Client, err error) {
		c.subscribed.Set(false)
		c.log.Warn("mqtt: connection lost; reconnecting", "err", err)
	})
	c.c = paho.NewClient(po)
	return c, nil
}

func brokerURL(u string) string {
	if rest, ok := strings.CutPrefix(u, "mqtts://"); ok {
		return "ssl://" + rest
	}
	if rest, ok := strings.CutPrefix(u, "mqtt://"); ok {
		return "tcp://" + rest
	}
	return u
}

// Run connects and keeps the client connected until ctx ends; it returns
// once it has disconnected and its goroutines have returned. A client
// runs once.
//
// When ctx ends, the stop is clean: the client hands nothing more on
// (what arrives from then on stays unacknowledged, for the broker to
// send again on the next start: Stats.LeftAtStop), waits until the sink
// has made durable every message it handed on and their
// acknowledgements have been passed to the connection, at most
// Options.StopWait (what is still pending then is counted,
// Stats.UnackedAtStop), and then disconnects: the acknowledgements
// leave before the DISCONNECT, on the same connection. (Before, a stop
// disconnected at once: a backlog being stored was all delivered again
// on the next start.)
func (c *Client) Run(ctx context.Context) error {
	defer c.stopWatchers()
	if c.sessionDir != "" {
		j, err := openJournal(c.sessionDir, c.cfg.URL, c.clientID)
		if err != nil {
			return err
		}
		c.journal = j
		defer func() {
			if err := j.Close(); err != nil {
				c.log.Warn("mqtt: closing the session journal", "err", err)
			}
		}()
	}
	tok := c.c.Connect()
	select {
	case <-ctx.Done():
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("mqtt: connect %s: %w", c.cfg.URL, err)
		}
		<-ctx.Done()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.stopWait)
	defer cancel()
	if n := c.drain(sctx); n > 0 {
		c.unackedAtStop.Add(uint64(n))
		c.log.Warn("mqtt: stopping before the sink made every message durable: the broker sends these again",
			"unacknowledged", n, "waited", c.stopWait)
	}
	if sp := c.cfg.Sparkplug; sp != nil && sp.HostID != "" && c.c.IsConnectionOpen() {
		c.c.Publish(c.stateTopic(), 1, true, hostState(false)).WaitTimeout(time.Second)
	}
	c.lingering.Store(true)
	c.c.Disconnect(2000) // returns as soon as it is done: the broker's end of the connection, in a few ms
	// stopped while still connecting (a broker that refuses us, or is
	// away): paho's connect loop ends at its next retry, within a second;
	// wait for it, so that nothing of this client outlives Run
	tok.WaitTimeout(2 * time.Second)
	return nil
}

// drain begins the clean stop: handle hands nothing more on. It returns
// once every message handed on has been acknowledged (or failed), or
// when ctx ends, with the number still pending then.
func (c *Client) drain(ctx context.Context) int {
	c.pendMu.Lock()
	c.stopping = true
	if c.pending == 0 {
		close(c.drained)
	}
	c.pendMu.Unlock()
	select {
	case <-c.drained:
		return 0
	case <-ctx.Done():
		c.pendMu.Lock()
		defer c.pendMu.Unlock()
		return c.pending
	}
}

// handOn reports whether handle may hand a message on (no clean stop
// has begun), and counts it as pending if so.
func (c *Client) handOn() bool {
	c.pendMu.Lock()
	defer c.pendMu.Unlock()
	if c.stopping {
		return false
	}
	c.pending++
	return true
}

// settled marks a message handed on as done (acknowledged or failed).
func (c *Client) settled() {
	c.pendMu.Lock()
	defer c.pendMu.Unlock()
	c.pending--
	if c.stopping && c.pending == 0 {
		close(c.drained)
	}
}

// watch runs fn on a goroutine that Run waits for; fn returns when quit
// is closed. It does nothing once Run has returned.
func (c *Client) watch(fn func(quit <-chan struct{})) {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if c.stopped {
		return
	}
	c.watchers.Add(1)
	go func() {
		defer c.watchers.Done()
		fn(c.quit)
	}()
}

// stopWatchers ends the watchers and waits for them.
func (c *Client) stopWatchers() {
	c.watchMu.Lock()
	if !c.stopped {
		c.stopped = true
		close(c.quit)
	}
	c.watchMu.Unlock()
	c.watchers.Wait()
}

// Connected reports whether the client is connected now.
func (c *Client) Connected() bool { return c.c.IsConnectionOpen() }

// WaitSubscribed returns once the broker has confirmed the subscriptions
// of the current connection (Stats.Subscribed; the "mqtt: subscribed"
// log line), or with ctx's error.
func (c *Client) WaitSubscribed(ctx context.Context) error {
	if err := c.subscribed.Wait(ctx); err != nil {
		return fmt.Errorf("mqtt: waiting for the subscriptions on %s: %w", c.cfg.URL, err)
	}
	return nil
}

func (c *Client) stateTopic() string { return sparkplug.Namespace + "/STATE/" + c.cfg.Sparkplug.HostID }

func hostState(online bool) []byte {
	return fmt.Appendf(nil, `{"online":%t,"timestamp":%d}`, online, time.Now().UnixMilli())
}

func (c *Client) onConnect(pc paho.Client) {
	c.connects.Add(1)
	if sp := c.cfg.Sparkplug; sp != nil && sp.HostID != "" {
		pc.Publish(c.stateTopic(), 1, true, hostState(true))
	}
	filters := map[string]byte{}
	for t := range c.topics {
		filters[t] = 1
	}
	if sp := c.cfg.Sparkplug; sp != nil {
		filters[sparkplug.Namespace+"/"+sp.Group+"/#"] = 1
	}
	if len(filters) == 0 {
		return
	}
	tok := pc.SubscribeMultiple(filters, c.handle)
	c.log.Info("mqtt: connected; subscribing", "filters", len(filters))
	c.watch(func(quit <-chan struct{}) { // onConnect must not block paho
		t := time.NewTimer(10 * time.Second)
		defer t.Stop()
		select {
		case <-quit:
		case <-t.C:
			c.log.Error("mqtt: subscribe: no answer from the broker in 10 s")
		case <-tok.Done():
			if err := tok.Error(); err != nil {
				c.log.Error("mqtt: subscribe", "err", err)
				return
			}
			c.subscribed.Set(true)
			c.log.Info("mqtt: subscribed", "filters", len(filters))
		}
	})
}

func (c *Client) bad(now int64, topic, reason string, err error) event.Event {
	c.malformed.Add(1)
	c.reasonMu.Lock()
	c.reasons[reason]++
	c.reasonMu.Unlock()
	c.log.Warn("mqtt: malformed message skipped", "topic", topic, "reason", reason, "err", err)
	msg := reason
	if err != nil {
		msg += ": " + err.Error()
	}
	return event.Event{Time: now, Kind: event.Fault, Quality: event.Bad, Asset: "mqtt:" + topic, Name: reason, Ref: msg}
}

// handle turns one message into events and acknowledges it once the sink
// has them.
func (c *Client) handle(_ paho.Client, m paho.Message) {
	if !c.handOn() {
		// a clean stop has begun: not handed on, not acknowledged; the
		// broker sends it again on the next start
		c.leftAtStop.Add(1)
		return
	}
	c.messages.Add(1)
	now := c.clock.Now().UnixNano() // the receive time
	// stamp is the time of what takes the receive time (readings without
	// a timestamp, faults): now, or for a redelivery the journal
	// recognises, the receive time of the first delivery
	stamp, journaled := now, false
	var sum [8]byte
	if c.journal != nil && m.Qos() > 0 {
		sum = messageHash(m.Topic(), m.Payload())
		if m.Duplicate() {
			if t, ok := c.journal.lookup(m.MessageID(), sum); ok {
				stamp, journaled = t, true
				c.redelivered.Add(1)
			}
		}
	}
	var evs []event.Event
	if strings.HasPrefix(m.Topic(), sparkplug.Namespace+"/") {
		evs = c.sparkplugEvents(now, stamp, m.Topic(), m.Payload())
	} else if tags, ok := c.topics[m.Topic()]; ok {
		evs = c.jsonEvents(now, stamp, m.Topic(), m.Payload(), tags)
	} else {
		c.unassigned.Add(1)
	}
	if c.journal != nil && m.Qos() > 0 && !journaled && stamped(evs, stamp) {
		// before the events are handed on: a crash after the store has
		// them and before the acknowledgement left finds the record
		if err := c.journal.record(m.MessageID(), sum, stamp); err != nil {
			n := c.journalFailed.Add(1)
			if n == 1 || n%1000 == 0 {
				c.log.Warn("mqtt: the session journal could not be written: a redelivery of this message would be stored twice", "failures", n, "err", err)
			}
		}
	}
	if len(evs) == 0 {
		m.Ack()
		c.settled()
		return
	}
	for i := range evs {
		if evs[i].Kind != event.Fault {
			c.events.Add(1)
		}
	}
	c.sink.EmitBatch(evs, func(err error) {
		defer c.settled()
		if err != nil {
			// not acknowledged: the broker sends it again after a reconnect
			c.log.Error("mqtt: sink refused events; message left unacknowledged", "topic", m.Topic(), "err", err)
			return
		}
		m.Ack()
	})
}

// DecodeJSON reads a JSON-convention payload: a number, a string, an
// object {"<field>": value, "ts": ms or RFC 3339}, or an array of such
// objects (several readings in one message). field "" means "value".
func DecodeJSON(payload []byte, field string) (vals []signal.Value, ts []int64, err error) {
	if field == "" {
		field = "value"
	}
	var raw any
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return nil, nil, errors.New("not JSON: trailing data")
	}
	one := func(x any) (signal.Value, int64, error) {
		var t int64
		if obj, ok := x.(map[string]any); ok {
			if tsv, ok := obj["ts"]; ok {
				switch tv := tsv.(type) {
				case json.Number:
					// up to 2261 (Unix nanoseconds end in April 2262)
					ms, err := tv.Float64()
					if err != nil || ms < 0 || ms >= 9.2e12 {
						return signal.Value{}, 0, fmt.Errorf("ts %v: want milliseconds since 1970", tv)
					}
					t = int64(ms * 1e6)
					if n, err := tv.Int64(); err == nil {
						t = n * 1e6 // exact: float64 rounds today's times by up to 128 ns
					}
				case string:
					tt, err := time.Parse(time.RFC3339Nano, tv)
					if err != nil {
						return signal.Value{}, 0, fmt.Errorf("ts %q: want RFC 3339", tv)
					}
					// saturated outside 1678–2262, where UnixNano wraps
					// (the clock's bounds then quarantine it)
					t = ingest.UnixNano(tt)
				default:
					return signal.Value{}, 0, fmt.Errorf("ts: want a number or a string")
				}
			}
			v, ok := obj[field]
			if !ok {
				return signal.Value{}, 0, fmt.Errorf("no field %q", field)
			}
			x = v
		}
		switch v := x.(type) {
		case json.Number:
			f, err := v.Float64()
			if err != nil || math.IsInf(f, 0) {
				return signal.Value{}, 0, fmt.Errorf("number %v out of range", v)
			}
			return signal.Num(f), t, nil
		case string:
			return signal.Str(v), t, nil
		case bool:
			if v {
				return signal.Num(1), t, nil
			}
			return signal.Num(0), t, nil
		}
		return signal.Value{}, 0, fmt.Errorf("want a number, a string or an object, got %T", x)
	}
	if arr, ok := raw.([]any); ok {
		if len(arr) > 100000 {
			return nil, nil, errors.New("more than 100000 readings in one message")
		}
		for _, x := range arr {
			v, t, err := one(x)
			if err != nil {
				return nil, nil, err
			}
			vals, ts = append(vals, v), append(ts, t)
		}
		return vals, ts, nil
	}
	v, t, err := one(raw)
	if err != nil {
		return nil, nil, err
	}
	return []signal.Value{v}, []int64{t}, nil
}

// stamped reports whether any of evs took the receive time stamp.
func stamped(evs []event.Event, stamp int64) bool {
	for i := range evs {
		if evs[i].Time == stamp {
			return true
		}
	}
	return false
}

// jsonEvents are the events of a JSON message received at now; what
// takes the receive time (readings without a timestamp, faults) takes
// stamp.
func (c *Client) jsonEvents(now, stamp int64, topic string, payload []byte, tags []plant.TopicTag) []event.Event {
	var out []event.Event
	for _, tag := range tags {
		vals, ts, err := DecodeJSON(payload, tag.Field)
		if err != nil {
			return []event.Event{c.bad(stamp, topic, "json", err)}
		}
		for i, v := range vals {
			t := ts[i]
			if t == 0 {
				t = stamp // no timestamp: the receive time
			}
			e, err := signal.Event(t, tag.Asset, tag.Signal, v, tag.ValueMap)
			if err != nil {
				out = append(out, c.bad(stamp, topic, "value", err))
				continue
			}
			e.Source = event.Live
			if r := c.clock.Check(e.Time, now); r != ingest.InBounds {
				e = ingest.Quarantine(e, r, stamp, rawJSON(topic, payload, i, len(vals)))
			}
			out = append(out, e)
		}
	}
	return out
}

// rawJSON describes what a JSON reading came in: the topic and the
// payload, cut at 1 KiB (a message may carry 100,000 readings).
func rawJSON(topic string, payload []byte, i, n int) string {
	const max = 1024
	s := "MQTT topic " + topic
	if n > 1 {
		s += fmt.Sprintf(", reading %d of %d", i+1, n)
	}
	if len(payload) > max {
		return s + fmt.Sprintf(", payload (%d bytes, the first %d) %s…", len(payload), max, strings.ToValidUTF8(string(payload[:max]), "?"))
	}
	return s + ", payload " + strings.ToValidUTF8(string(payload), "?")
}

// sparkplugEvents are the events of a Sparkplug message received at now;
// what takes the receive time takes stamp (see jsonEvents).
func (c *Client) sparkplugEvents(now, stamp int64, topic string, payload []byte) []event.Event {
	t, err := sparkplug.ParseTopic(topic)
	if err != nil {
		if strings.HasPrefix(topic, sparkplug.Namespace+"/STATE/") {
			return nil
		}
		return []event.Event{c.bad(stamp, topic, "sparkplug-topic", err)}
	}
	if t.Type == sparkplug.NCMD || t.Type == sparkplug.DCMD {
		return nil
	}
	var p *sparkplug.Payload
	if t.Type != sparkplug.NDEATH || len(payload) > 0 {
		if p, err = sparkplug.Unmarshal(payload); err != nil {
			return []event.Event{c.bad(stamp, topic, "sparkplug-payload", err)}
		}
	} else {
		p = &sparkplug.Payload{}
	}
	c.hostMu.Lock()
	u := c.host.Handle(t, p)
	if t.Type == sparkplug.NBIRTH {
		delete(c.asked, [2]string{t.Group, t.EdgeNode}) // a new session: a gap in it asks at once
	}
	ask := u.Rebirth && c.rebirthDueLocked(t, now)
	c.hostMu.Unlock()
	var out []event.Event
	switch {
	case u.StaleDeath:
		c.staleDeaths.Add(1)
		c.log.Warn("mqtt: sparkplug: stale NDEATH ignored", "topic", topic, "why", u.Problem)
	case u.Rebirth && u.Problem != "":
		out = append(out, c.bad(stamp, topic, "sparkplug-session", errors.New(u.Problem)))
	}
	if u.Dropped {
		// not folded: the node's state is unknown until its NBIRTH
		// (sparkplug.Host.Handle says why)
		c.gapDropped.Add(1)
	}
	if ask {
		c.requestRebirth(t)
	}
	for _, v := range u.Values {
		d := c.devices[[2]string{t.EdgeNode, v.Device}]
		if d == nil {
			continue
		}
		sig, ok := d.Metrics[v.Metric.Name]
		if !ok {
			continue
		}
		raw := signal.Num(v.Metric.Value)
		if v.Metric.DataType == sparkplug.String || v.Metric.DataType == sparkplug.Text {
			raw = signal.Str(v.Metric.Str)
		}
		ts := ingest.UnixMilli(v.Time) // saturated: a huge timestamp must not wrap round to a plausible one
		if ts == 0 {
			ts = stamp // no timestamp: the receive time
		}
		e, err := signal.Event(ts, d.Asset, sig, raw, nil)
		if err != nil {
			out = append(out, c.bad(stamp, topic, "value", err))
			continue
		}
		e.Source = event.Live
		if r := c.clock.Check(e.Time, now); r != ingest.InBounds {
			e = ingest.Quarantine(e, r, stamp, rawMetric(topic, p, &v.Metric))
		}
		out = append(out, e)
	}
	for _, dev := range u.Dead {
		// stale: an alarm on every asset of the dead node or device
		for k, d := range c.devices {
			if k[0] == t.EdgeNode && (dev == "" || k[1] == dev) {
				out = append(out, event.Event{Time: stamp, Kind: event.Alarm, Source: event.Live, Quality: event.Bad,
					Asset: d.Asset, Name: "sparkplug/offline", Ref: "Sparkplug " + t.Type + ": values are stale", Value: 500})
			}
		}
	}
	if t.Type == sparkplug.NBIRTH || (t.Type == sparkplug.DBIRTH && !u.Dropped) {
		// online again: at the birth's time, the edge's clock; the
		// receive time when the edge's clock is out of bounds (the node
		// is online now all the same; its metrics are quarantined)
		at := stamp
		if bt := ingest.UnixMilli(p.Timestamp); p.Timestamp != 0 && c.clock.Check(bt, now) == ingest.InBounds {
			at = bt
		}
		for k, d := range c.devices {
			if k[0] == t.EdgeNode && (t.Type == sparkplug.NBIRTH || k[1] == t.Device) {
				out = append(out, event.Event{Time: at, Kind: event.Alarm, Source: event.Live, Asset: d.Asset, Name: "sparkplug/offline"})
			}
		}
	}
	return out
}

// rebirthDueLocked reports whether to ask t's node for a rebirth now: the
// first time the host lost track of it since its last NBIRTH, and again
// every RebirthRetry while no NBIRTH comes. Called with hostMu held.
func (c *Client) rebirthDueLocked(t sparkplug.Topic, now int64) bool {
	k := [2]string{t.Group, t.EdgeNode}
	if last, ok := c.asked[k]; ok && now-last < int64(RebirthRetry) && now >= last {
		return false
	}
	c.asked[k] = now
	return true
}

// requestRebirth publishes NCMD Node Control/Rebirth = true to the node.
func (c *Client) requestRebirth(t sparkplug.Topic) {
	c.rebirths.Add(1)
	p := sparkplug.Payload{Timestamp: uint64(c.clock.Now().UnixMilli()), Metrics: []sparkplug.Metric{{Name: "Node Control/Rebirth", DataType: sparkplug.Boolean, Value: 1}}}
	cmd := sparkplug.Topic{Group: t.Group, Type: sparkplug.NCMD, EdgeNode: t.EdgeNode}
	c.c.Publish(cmd.String(), 0, false, p.Marshal())
}

// rawMetric describes what a Sparkplug reading came in: the topic, the
// metric and the payload's timestamp and sequence number.
func rawMetric(topic string, p *sparkplug.Payload, m *sparkplug.Metric) string {
	return fmt.Sprintf("Sparkplug topic %s, metric %s, payload timestamp %d ms, seq %d", topic, m, p.Timestamp, p.Seq)
}

// Stats returns the counters.
func (c *Client) Stats() Stats {
	s := Stats{Messages: c.messages.Load(), Events: c.events.Load(), Malformed: c.malformed.Load(),
		Connects: c.connects.Load(), Subscribed: c.subscribed.Is(), Rebirths: c.rebirths.Load(), Unassigned: c.unassigned.Load(),
		GapDropped: c.gapDropped.Load(), StaleDeaths: c.staleDeaths.Load(), LeftAtStop: c.leftAtStop.Load(), UnackedAtStop: c.unackedAtStop.Load(), Redelivered: c.redelivered.Load(),
		Reasons: map[string]uint64{}}
	c.reasonMu.Lock()
	for k, v := range c.reasons {
		s.Reasons[k] = v
	}
	c.reasonMu.Unlock()
	return s
}
