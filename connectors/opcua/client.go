package opcua

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopcua/opcua"
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
}

// Client follows the nodes one OPC UA server of the tag map names.
type Client struct {
	cfg  plant.OPCUAServer
	opt  ClientOptions
	sink signal.Sink
	log  *slog.Logger

	values, malformed, connects atomic.Uint64
	subscribed                  signal.Ready
	mu                          sync.Mutex
	lastErr                     string
}

// NewClient prepares a client; Run connects it.
func NewClient(cfg plant.OPCUAServer, sink signal.Sink, opt ClientOptions) *Client {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	opt.Clock = opt.Clock.WithDefaults()
	return &Client{cfg: cfg, opt: opt, sink: sink, log: opt.Logger.With("opcua", cfg.Endpoint)}
}

// Stats returns the counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Values: c.values.Load(), Malformed: c.malformed.Load(), Connects: c.connects.Load(),
		Monitored: len(c.cfg.Nodes), LastError: c.lastErr, Subscribed: c.subscribed.Is()}
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
// recreates its subscription.
func (c *Client) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := c.session(ctx)
		c.subscribed.Set(false)
		if ctx.Err() != nil {
			return nil
		}
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
			kp, err := tls.LoadX509KeyPair(c.cfg.Cert, c.cfg.Key)
			if err != nil {
				return nil, fmt.Errorf("opcua: client certificate: %w", err)
			}
			key, ok := kp.PrivateKey.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("opcua: client key %s is not RSA", c.cfg.Key)
			}
			opts = append(opts, opcua.Certificate(kp.Certificate[0]), opcua.PrivateKey(key))
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
		return nil, fmt.Errorf("opcua: the server offers no %s/%s endpoint: %w", policy, mode, err)
	}
	auth := ua.UserTokenTypeAnonymous
	if c.cfg.User != "" {
		auth = ua.UserTokenTypeUserName
		opts = append(opts, opcua.AuthUsername(signal.ExpandEnv(c.cfg.User), signal.ExpandEnv(c.cfg.Password)))
	} else {
		opts = append(opts, opcua.AuthAnonymous())
	}
	opts = append(opts, opcua.SecurityFromEndpoint(ep, auth))
	return opts, nil
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
	return c.follow(ctx, cl, notes)
}

// monitor asks the server to monitor the tag map's nodes and returns how
// many it asked for; a node id that does not parse, or that the server
// refuses, is logged and left out.
func (c *Client) monitor(ctx context.Context, sub *opcua.Subscription) (int, error) {
	var items []*ua.MonitoredItemCreateRequest
	for i, n := range c.cfg.Nodes {
		id, err := ua.ParseNodeID(n.Node)
		if err != nil {
			c.malformed.Add(1)
			c.log.Warn("opcua: bad node id in the tag map", "node", n.Node, "err", err)
			continue
		}
		req := opcua.NewMonitoredItemCreateRequestWithDefaults(id, ua.AttributeIDValue, uint32(i))
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
// noticed by asking it something, every 2 s of silence.
func (c *Client) follow(ctx context.Context, cl *opcua.Client, notes <-chan *opcua.PublishNotificationData) error {
	watch := time.NewTicker(500 * time.Millisecond)
	defer watch.Stop()
	lastAlive := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-watch.C:
			if st := cl.State(); st != opcua.Connected {
				return fmt.Errorf("connection state %v", st)
			}
			if time.Since(lastAlive) > 2*time.Second {
				rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				_, err := cl.Read(rctx, &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{{NodeID: ua.NewNumericNodeID(0, 2258), AttributeID: ua.AttributeIDValue}}})
				cancel()
				if err != nil && ctx.Err() == nil {
					return fmt.Errorf("keep-alive read: %w", err)
				}
				lastAlive = time.Now()
			}
		case n := <-notes:
			if n.Error != nil {
				return n.Error
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
		var v signal.Value
		switch x := dv.Value.Value().(type) {
		case string:
			v = signal.Str(x)
		case float64:
			v = signal.Num(x)
		case float32:
			v = signal.Num(float64(x))
		case int32:
			v = signal.Num(float64(x))
		case int64:
			v = signal.Num(float64(x))
		case uint32:
			v = signal.Num(float64(x))
		case int16:
			v = signal.Num(float64(x))
		case uint16:
			v = signal.Num(float64(x))
		case bool:
			v = signal.Num(0)
			if x {
				v = signal.Num(1)
			}
		default:
			evs = append(evs, c.bad(now, tag.Node, fmt.Sprintf("unsupported value type %T", x)))
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
