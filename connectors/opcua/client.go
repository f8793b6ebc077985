package opcua

import (
	"context"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"twin/connectors/signal"
	"twin/plant"
	"twin/plant/event"
	"twin/twin/ingest"
)

// ClientOptions configure a client.
type ClientOptions struct {
	Logger *slog.Logger
	// Certificate (DER) and Key for secure connections, when the tag map
	// does not name files.
	Certificate []byte
	Key         *rsa.PrivateKey
	// TrustFile lists the server certificates the client trusts, by
	// endpoint (see the package doc; twin serve keeps
	// DIR/opcua/trusted-servers.txt). A secure endpoint it does not name
	// yet is added with the certificate it presents (trust on first use);
	// one presenting another certificate is refused. Empty: the
	// certificate an endpoint presents is not checked (the client says
	// so once).
	TrustFile string
	// Clock is the receive clock and the bounds of values' own times:
	// give the ingest's (ingest.Ingest.Clock). Its Now stamps values
	// that carry neither a source nor a server timestamp; a value
	// stamped out of its bounds is handed on as a quarantine Fault with
	// its node and value. The zero Clock is time.Now with the default
	// bounds.
	Clock ingest.Clock
}

// Stats count what the client has seen.
type Stats struct {
	Values     uint64 `json:"values"`
	Malformed  uint64 `json:"malformed"`
	Connects   uint64 `json:"connects"`
	Monitored  int    `json:"monitored_items"`
	LastError  string `json:"last_error,omitempty"`
	Subscribed bool   `json:"subscribed"`
	// Offline: the server is lost and the alarm opcua/offline raised on
	// the assets of its tags (their values are stale).
	Offline bool `json:"offline"`
}

// Client follows the nodes one OPC UA server of the tag map names.
type Client struct {
	cfg    plant.OPCUAServer
	opt    ClientOptions
	sink   signal.Sink
	log    *slog.Logger
	assets []string // the assets of the tags, each once

	values, malformed, connects atomic.Uint64
	subscribed                  signal.Ready
	offline                     atomic.Bool
	unchecked                   sync.Once // says the server's certificate is not checked
	mu                          sync.Mutex
	lastErr                     string
}

// OfflineAlarm is the alarm the client raises on the assets of its tags
// while their server is lost; the Sparkplug path raises sparkplug/offline.
const OfflineAlarm = "opcua/offline"

// NewClient prepares a client; Run connects it.
func NewClient(cfg plant.OPCUAServer, sink signal.Sink, opt ClientOptions) *Client {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	opt.Clock = opt.Clock.WithDefaults()
	var assets []string
	for _, n := range cfg.Nodes {
		if !slices.Contains(assets, n.Asset) {
			assets = append(assets, n.Asset)
		}
	}
	return &Client{cfg: cfg, opt: opt, sink: sink, log: opt.Logger.With("opcua", cfg.Endpoint), assets: assets}
}

// Stats returns the counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Values: c.values.Load(), Malformed: c.malformed.Load(), Connects: c.connects.Load(),
		Monitored: len(c.cfg.Nodes), LastError: c.lastErr, Subscribed: c.subscribed.Is(), Offline: c.offline.Load()}
}

// WaitSubscribed returns once the server has created the monitored items
// of the current connection (Stats.Subscribed; the "opcua: subscribed"
// log line), or with ctx's error.
func (c *Client) WaitSubscribed(ctx context.Context) error {
	if err := c.subscribed.Wait(ctx); err != nil {
		return fmt.Errorf("opcua: waiting for the subscription on %s: %w", c.cfg.Endpoint, err)
	}
	return nil
}

// Run connects, subscribes and follows until ctx ends. After a server
// restart or a network loss it reconnects with backoff (up to 5 s) and
// recreates its subscription. While the server is lost, the assets of
// its tags carry the alarm OfflineAlarm; it is cleared once subscribed
// again.
func (c *Client) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := c.session(ctx)
		c.subscribed.Set(false)
		if ctx.Err() != nil {
			return nil
		}
		c.lost(err)
		c.mu.Lock()
		c.lastErr = fmt.Sprint(err)
		c.mu.Unlock()
		c.log.Warn("opcua: connection ended; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
		if err == nil {
			backoff = 100 * time.Millisecond
		}
	}
	return nil
}

func (c *Client) options(ctx context.Context) ([]opcua.Option, error) {
	policy, mode := c.cfg.Policy, c.cfg.Mode
	if policy == "" {
		policy = "None"
	}
	if mode == "" {
		mode = "None"
	}
	opts := []opcua.Option{opcua.AutoReconnect(false), opcua.DialTimeout(3 * time.Second), opcua.RequestTimeout(5 * time.Second),
		opcua.SecurityPolicy(policy), opcua.SecurityModeString(mode)}
	if policy != "None" {
		switch {
		case c.cfg.Cert != "":
			der, key, err := LoadCertificate(c.cfg.Cert, c.cfg.Key)
			if err != nil {
				return nil, fmt.Errorf("the tag map's client certificate: %w", err)
			}
			opts = append(opts, opcua.Certificate(der), opcua.PrivateKey(key))
		case c.opt.Certificate != nil:
			opts = append(opts, opcua.Certificate(c.opt.Certificate), opcua.PrivateKey(c.opt.Key))
		default:
			return nil, fmt.Errorf("opcua: %s/%s needs a client certificate (cert and key in the tag map)", policy, mode)
		}
	}
	eps, err := opcua.GetEndpoints(ctx, c.cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	ep, err := opcua.SelectEndpoint(eps, policy, ua.MessageSecurityModeFromString(mode))
	if err != nil {
		return nil, fmt.Errorf("opcua: the server offers no %s/%s endpoint (it offers %s): %w", policy, mode, offered(eps), err)
	}
	if policy != "None" {
		if err := c.trust(ep.ServerCertificate); err != nil {
			return nil, err
		}
	}
	auth := ua.UserTokenTypeAnonymous
	if c.cfg.User != "" {
		auth = ua.UserTokenTypeUserName
		opts = append(opts, opcua.AuthUsername(signal.ExpandEnv(c.cfg.User), signal.ExpandEnv(c.cfg.Password)))
	} else {
		opts = append(opts, opcua.AuthAnonymous())
	}
	if !slices.ContainsFunc(ep.UserIdentityTokens, func(t *ua.UserTokenPolicy) bool { return t.TokenType == auth }) {
		var kinds []string
		for _, t := range ep.UserIdentityTokens {
			kinds = append(kinds, strings.TrimPrefix(t.TokenType.String(), "UserTokenType"))
		}
		if auth == ua.UserTokenTypeUserName {
			return nil, fmt.Errorf("opcua: the tag map logs in to %s as %q, but its %s/%s endpoint offers no user name login (it offers %s): remove user and password from the tag map, or enable user name login on the server",
				c.cfg.Endpoint, signal.ExpandEnv(c.cfg.User), policy, mode, strings.Join(kinds, ", "))
		}
		return nil, fmt.Errorf("opcua: %s's %s/%s endpoint offers no anonymous login (it offers %s): give a user and password in the tag map",
			c.cfg.Endpoint, policy, mode, strings.Join(kinds, ", "))
	}
	opts = append(opts, opcua.SecurityFromEndpoint(ep, auth))
	return opts, nil
}

// trust checks the certificate the server's endpoint presents against
// the trust file (see ClientOptions.TrustFile).
func (c *Client) trust(der []byte) error {
	if c.opt.TrustFile == "" {
		c.unchecked.Do(func() {
			c.log.Warn("opcua: the server's certificate is not checked (no trust file)", "fingerprint", Fingerprint(der))
		})
		return nil
	}
	first, err := trust(c.opt.TrustFile, c.cfg.Endpoint, der)
	if first {
		c.log.Info("opcua: trusting the server's certificate on first use", "fingerprint", Fingerprint(der), "file", c.opt.TrustFile)
	}
	return err
}

// offered lists the security policies and modes of endpoints.
func offered(eps []*ua.EndpointDescription) string {
	var s []string
	for _, ep := range eps {
		s = append(s, strings.TrimPrefix(ep.SecurityPolicyURI, "http://opcfoundation.org/UA/SecurityPolicy#")+"/"+
			strings.TrimPrefix(ep.SecurityMode.String(), "MessageSecurityMode"))
	}
	return strings.Join(s, ", ")
}

// session is one connection: connect, subscribe, forward notifications
// until the connection or ctx ends.
func (c *Client) session(ctx context.Context) error {
	opts, err := c.options(ctx)
	if err != nil {
		return err
	}
	cl, err := opcua.NewClient(c.cfg.Endpoint, opts...)
	if err != nil {
		return err
	}
	if err := cl.Connect(ctx); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		cl.Close(cctx)
	}()
	c.connects.Add(1)
	notes := make(chan *opcua.PublishNotificationData, 1024)
	sub, err := cl.Subscribe(ctx, &opcua.SubscriptionParameters{Interval: c.cfg.Interval}, notes)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		sub.Cancel(cctx)
	}()
	items, err := c.monitor(ctx, sub)
	if err != nil {
		return err
	}
	c.subscribed.Set(true)
	c.log.Info("opcua: subscribed", "items", items)
	c.online() // before the values the subscription sends afresh
	return c.follow(ctx, cl, notes)
}

// monitor asks the server to monitor the tag map's nodes and returns how
// many it asked for; a node id that does not parse, or that the server
// refuses, is logged and left out.
func (c *Client) monitor(ctx context.Context, sub *opcua.Subscription) (int, error) {
	var items []*ua.MonitoredItemCreateRequest
	for i, n := range c.cfg.Nodes {
		nid, err := ua.ParseNodeID(n.Node)
		if err != nil {
			c.malformed.Add(1)
			c.log.Warn("opcua: bad node id in the tag map", "node", n.Node, "err", err)
			continue
		}
		req := opcua.NewMonitoredItemCreateRequestWithDefaults(nid, ua.AttributeIDValue, uint32(i))
		req.RequestedParameters.SamplingInterval = 0
		items = append(items, req)
	}
	res, err := sub.Monitor(ctx, ua.TimestampsToReturnBoth, items...)
	if err != nil {
		return 0, fmt.Errorf("monitor: %w", err)
	}
	for i, r := range res.Results {
		if r.StatusCode != ua.StatusOK {
			c.log.Warn("opcua: node not monitored", "node", c.cfg.Nodes[i].Node, "status", r.StatusCode)
		}
	}
	return len(items), nil
}

// follow hands the subscription's notifications on until ctx ends or the
// connection does: a server that went away without closing it is only
// noticed by asking it something, after a second of silence. A lost
// connection raises the offline alarm at once, before the deferred
// clean-up of session, which waits for a server that is gone up to its
// timeouts.
func (c *Client) follow(ctx context.Context, cl *opcua.Client, notes <-chan *opcua.PublishNotificationData) error {
	lost := func(err error) error {
		c.subscribed.Set(false)
		c.lost(err)
		return err
	}
	watch := time.NewTicker(500 * time.Millisecond)
	defer watch.Stop()
	lastAlive := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-watch.C:
			if st := cl.State(); st != opcua.Connected {
				return lost(fmt.Errorf("connection state %v", st))
			}
			// a server that went away without closing the connection
			// (gopcua's server does not close them when it stops) is
			// only noticed by asking it something: after a second
			// without news, its clock, within 2 s
			if time.Since(lastAlive) > time.Second {
				rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				_, err := cl.Read(rctx, &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{{NodeID: ua.NewNumericNodeID(0, id.Server_ServerStatus_CurrentTime), AttributeID: ua.AttributeIDValue}}})
				cancel()
				if err != nil && ctx.Err() == nil {
					return lost(fmt.Errorf("keep-alive read: %w", err))
				}
				lastAlive = time.Now()
			}
		case n := <-notes:
			if n.Error != nil {
				return lost(n.Error)
			}
			if dc, ok := n.Value.(*ua.DataChangeNotification); ok {
				c.dataChange(dc)
				lastAlive = time.Now()
			}
		}
	}
}

func (c *Client) dataChange(dc *ua.DataChangeNotification) {
	now := c.opt.Clock.Now().UnixNano() // the receive time
	evs := make([]event.Event, 0, len(dc.MonitoredItems))
	for _, it := range dc.MonitoredItems {
		h := int(it.ClientHandle)
		if h < 0 || h >= len(c.cfg.Nodes) || it.Value == nil {
			continue
		}
		tag := c.cfg.Nodes[h]
		dv := it.Value
		if dv.Status == ua.StatusBadWaitingForInitialData {
			continue // the server has no value yet: nothing to record
		}
		t := now // neither timestamp: the receive time
		switch {
		case !dv.SourceTimestamp.IsZero():
			t = ingest.UnixNano(dv.SourceTimestamp) // saturated: a DateTime runs to the year 30828
		case !dv.ServerTimestamp.IsZero():
			t = ingest.UnixNano(dv.ServerTimestamp)
		}
		if dv.Value == nil || dv.Value.Value() == nil {
			evs = append(evs, c.bad(now, tag.Node, fmt.Sprintf("no value (status %v)", dv.Status)))
			continue
		}
		v, err := rawValue(dv.Value)
		if err != nil {
			evs = append(evs, c.bad(now, tag.Node, err.Error()))
			continue
		}
		e, err := signal.Event(t, tag.Asset, tag.Signal, v, tag.ValueMap)
		if err != nil {
			evs = append(evs, c.bad(now, tag.Node, err.Error()))
			continue
		}
		e.Source = event.Live
		switch {
		case dv.Status == ua.StatusOK:
		case uint32(dv.Status)&0xC0000000 == 0x40000000:
			e.Quality = event.Uncertain
		default:
			e.Quality = event.Bad
		}
		c.values.Add(1)
		if r := c.opt.Clock.Check(e.Time, now); r != ingest.InBounds {
			e = ingest.Quarantine(e, r, now, fmt.Sprintf("OPC UA %s node %s, value %v (%T), status %v, source timestamp %s, server timestamp %s",
				c.cfg.Endpoint, tag.Node, v, dv.Value.Value(), dv.Status, uaTime(dv.SourceTimestamp), uaTime(dv.ServerTimestamp)))
		}
		evs = append(evs, e)
	}
	if len(evs) > 0 {
		c.sink.EmitBatch(evs, nil)
	}
}

// maxExact is the largest integer a float64 (the twin's values) holds
// exactly, and all below it.
const maxExact = 1 << 53

// rawValue is the raw value of a variant: every numeric and boolean type
// (true is 1), strings and localized texts. An Int64 or UInt64 beyond
// ±2^53 is refused: a float64 cannot hold it exactly, and a count that
// silently rounds is worse than one that says it cannot be read.
func rawValue(va *ua.Variant) (signal.Value, error) {
	switch x := va.Value().(type) {
	case bool:
		if x {
			return signal.Num(1), nil
		}
		return signal.Num(0), nil
	case int8:
		return signal.Num(float64(x)), nil
	case uint8:
		return signal.Num(float64(x)), nil
	case int16:
		return signal.Num(float64(x)), nil
	case uint16:
		return signal.Num(float64(x)), nil
	case int32:
		return signal.Num(float64(x)), nil
	case uint32:
		return signal.Num(float64(x)), nil
	case int64:
		if x > maxExact || x < -maxExact {
			return signal.Value{}, fmt.Errorf("Int64 value %d is beyond ±2^53: the twin's float64 values cannot hold it exactly", x)
		}
		return signal.Num(float64(x)), nil
	case uint64:
		if x > maxExact {
			return signal.Value{}, fmt.Errorf("UInt64 value %d is beyond 2^53: the twin's float64 values cannot hold it exactly", x)
		}
		return signal.Num(float64(x)), nil
	case float32:
		return signal.Num(float64(x)), nil
	case float64:
		return signal.Num(x), nil
	case string:
		return signal.Str(x), nil
	case *ua.LocalizedText:
		if x != nil {
			return signal.Str(x.Text), nil
		}
	}
	return signal.Value{}, fmt.Errorf("unsupported value type %v (%T): want a number, a Boolean or a string", va.Type(), va.Value())
}

// lost raises the offline alarm on the tags' assets, once per outage: the
// values the twin holds of them are stale.
func (c *Client) lost(err error) {
	if c.offline.Swap(true) {
		return
	}
	c.alarm(500, fmt.Sprintf("OPC UA %s lost (%v): values are stale", c.cfg.Endpoint, err))
}

// online clears the offline alarm: the client has subscribed (again), and
// the server sends every value afresh. After a start too: an alarm a
// twin stopped with is cleared.
func (c *Client) online() {
	c.offline.Store(false)
	c.alarm(0, "")
}

func (c *Client) alarm(severity float64, text string) {
	now := c.opt.Clock.Now().UnixNano()
	q := event.Good
	if severity != 0 {
		q = event.Bad
	}
	evs := make([]event.Event, len(c.assets))
	for i, a := range c.assets {
		evs[i] = event.Event{Time: now, Kind: event.Alarm, Source: event.Live, Quality: q, Asset: a, Name: OfflineAlarm, Ref: text, Value: severity}
	}
	if len(evs) > 0 {
		c.sink.EmitBatch(evs, nil)
	}
}

func (c *Client) bad(now int64, node, why string) event.Event {
	c.malformed.Add(1)
	c.log.Warn("opcua: malformed value skipped", "node", node, "err", why)
	return event.Event{Time: now, Kind: event.Fault, Quality: event.Bad, Asset: "opcua:" + node, Name: "value", Ref: why}
}

// uaTime formats an OPC UA timestamp for the record.
func uaTime(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
