package mqtt

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"twin/connectors/signal"
	"twin/connectors/sparkplug"
	"twin/plant"
	"twin/plant/event"
)

// Publisher publishes events as a plant's gateways would: JSON messages on
// the topics of the tag map, and Sparkplug B births, data and deaths for
// its devices. The virtual plant uses it. Emit never blocks the caller: it
// queues (up to a bound; beyond it events are dropped and counted).
type Publisher struct {
	cfg   plant.MQTTBroker
	c     paho.Client
	log   *slog.Logger
	q     chan event.Event
	topic map[[2]string][]plant.TopicTag // asset, signal

	sp       *plant.Sparkplug
	spDev    map[string]*plant.SparkplugDevice // by asset
	seq      map[string]uint64                 // by edge node
	aliases  map[[2]string]map[string]uint64   // edge, device → metric → alias
	born     map[[2]string]bool
	bdSeq    uint64
	sent     atomic.Uint64
	dropped  atomic.Uint64
	closeOne sync.Once
	done     chan struct{}
	rebirth  chan string // edge nodes a host asked to rebirth
}

// NewPublisher prepares a publisher to broker cfg (its URL, credentials and
// tag map) with its own client id.
func NewPublisher(cfg plant.MQTTBroker, clientID string, log *slog.Logger) *Publisher {
	if log == nil {
		log = slog.Default()
	}
	p := &Publisher{cfg: cfg, log: log.With("publisher", cfg.URL), q: make(chan event.Event, 1<<16),
		topic: map[[2]string][]plant.TopicTag{}, sp: cfg.Sparkplug, spDev: map[string]*plant.SparkplugDevice{},
		seq: map[string]uint64{}, aliases: map[[2]string]map[string]uint64{}, born: map[[2]string]bool{}, done: make(chan struct{}), rebirth: make(chan string, 16)}
	for _, t := range cfg.Topics {
		k := [2]string{t.Asset, string(t.Signal)}
		p.topic[k] = append(p.topic[k], t)
	}
	po := paho.NewClientOptions().AddBroker(brokerURL(cfg.URL)).SetClientID(clientID).
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(3 * time.Second).
		SetKeepAlive(10 * time.Second).SetWriteTimeout(5 * time.Second).SetStore(newStore())
	if cfg.User != "" {
		po.SetUsername(signal.ExpandEnv(cfg.User)).SetPassword(signal.ExpandEnv(cfg.Password))
	}
	if sp := cfg.Sparkplug; sp != nil {
		for i := range sp.Devices {
			d := &sp.Devices[i]
			p.spDev[d.Asset] = d
		}
		// the will: NDEATH of every edge node (one per client: the first)
		if len(sp.Devices) > 0 {
			death := sparkplug.Payload{Timestamp: uint64(time.Now().UnixMilli()), Metrics: []sparkplug.Metric{{Name: "bdSeq", DataType: sparkplug.Int64, Value: 0}}}
			t := sparkplug.Topic{Group: sp.Group, Type: sparkplug.NDEATH, EdgeNode: sp.Devices[0].EdgeNode}
			po.SetBinaryWill(t.String(), death.Marshal(), 1, false)
		}
	}
	po.SetOnConnectHandler(func(c paho.Client) {
		p.log.Info("mqtt publisher connected")
		if p.sp == nil {
			return
		}
		// a host that lost track of a node asks it to be born again
		edges := map[string]bool{}
		for _, d := range p.sp.Devices {
			edges[d.EdgeNode] = true
		}
		for e := range edges {
			t := sparkplug.Topic{Group: p.sp.Group, Type: sparkplug.NCMD, EdgeNode: e}
			c.Subscribe(t.String(), 1, func(_ paho.Client, m paho.Message) {
				pl, err := sparkplug.Unmarshal(m.Payload())
				if err != nil {
					return
				}
				for _, mt := range pl.Metrics {
					if mt.Name == "Node Control/Rebirth" && mt.Value != 0 {
						select {
						case p.rebirth <- e:
						default:
						}
					}
				}
			})
		}
	})
	p.c = paho.NewClient(po)
	return p
}

// Run connects and publishes queued events until ctx ends.
func (p *Publisher) Run(ctx context.Context) error {
	defer close(p.done)
	tok := p.c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return fmt.Errorf("mqtt publisher: connect %s: no answer in 10 s", p.cfg.URL)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("mqtt publisher: connect %s: %w", p.cfg.URL, err)
	}
	for {
		select {
		case <-ctx.Done():
			p.c.Disconnect(500)
			return nil
		case e := <-p.q:
			p.publish(e)
		case edge := <-p.rebirth:
			for k := range p.born {
				if k[0] == edge {
					delete(p.born, k)
				}
			}
			p.log.Info("sparkplug rebirth requested", "edge", edge)
		}
	}
}

// Emit queues e for publishing.
func (p *Publisher) Emit(e event.Event) {
	select {
	case p.q <- e:
	default:
		p.dropped.Add(1)
	}
}

// Sent and Dropped count messages published and events dropped.
func (p *Publisher) Sent() uint64    { return p.sent.Load() }
func (p *Publisher) Dropped() uint64 { return p.dropped.Load() }

func (p *Publisher) publish(e event.Event) {
	sig, v, ok := signal.Of(e)
	if !ok {
		return
	}
	for _, t := range p.topic[[2]string{e.Asset, string(sig)}] {
		field := t.Field
		if field == "" {
			field = "value"
		}
		var val any = v.Num
		if v.IsStr {
			val = v.Str
		}
		b, _ := json.Marshal(map[string]any{field: val, "ts": e.Time / 1e6})
		p.c.Publish(t.Topic, 1, false, b)
		p.sent.Add(1)
	}
	if d := p.spDev[e.Asset]; d != nil {
		p.sparkplug(d, sig, v, e.Time)
	}
}

// sparkplug publishes a device metric, with the node's and device's births
// first.
func (p *Publisher) sparkplug(d *plant.SparkplugDevice, sig plant.Signal, v signal.Value, t int64) {
	name := ""
	for m, s := range d.Metrics {
		if s == sig {
			name = m
		}
	}
	if name == "" {
		return
	}
	ms := uint64(t / 1e6)
	node := [2]string{d.EdgeNode, ""}
	if !p.born[node] {
		p.seq[d.EdgeNode] = 0
		birth := sparkplug.Payload{Timestamp: ms, Seq: 0, HasSeq: true, Metrics: []sparkplug.Metric{
			{Name: "bdSeq", DataType: sparkplug.Int64, Value: float64(p.bdSeq)},
			{Name: "Node Control/Rebirth", DataType: sparkplug.Boolean, Value: 0}}}
		p.send(sparkplug.Topic{Group: p.sp.Group, Type: sparkplug.NBIRTH, EdgeNode: d.EdgeNode}, &birth)
		p.born[node] = true
	}
	dev := [2]string{d.EdgeNode, d.Device}
	if !p.born[dev] {
		al := map[string]uint64{}
		birth := sparkplug.Payload{Timestamp: ms}
		for m, s := range d.Metrics {
			a := uint64(len(p.aliases)*100 + len(al) + 1)
			al[m] = a
			dt := sparkplug.Double
			if s == plant.SignalState || s == plant.SignalOrder {
				dt = sparkplug.String
			}
			birth.Metrics = append(birth.Metrics, sparkplug.Metric{Name: m, Alias: a, HasAlias: true, DataType: dt, IsNull: true})
		}
		p.aliases[dev] = al
		p.next(d.EdgeNode, &birth)
		p.send(sparkplug.Topic{Group: p.sp.Group, Type: sparkplug.DBIRTH, EdgeNode: d.EdgeNode, Device: d.Device}, &birth)
		p.born[dev] = true
	}
	m := sparkplug.Metric{Alias: p.aliases[dev][name], HasAlias: true, Timestamp: ms, DataType: sparkplug.Double, Value: v.Num}
	if v.IsStr {
		m.DataType, m.Str = sparkplug.String, v.Str
	}
	data := sparkplug.Payload{Timestamp: ms, Metrics: []sparkplug.Metric{m}}
	p.next(d.EdgeNode, &data)
	p.send(sparkplug.Topic{Group: p.sp.Group, Type: sparkplug.DDATA, EdgeNode: d.EdgeNode, Device: d.Device}, &data)
}

func (p *Publisher) next(edge string, pl *sparkplug.Payload) {
	s := (p.seq[edge] + 1) % 256
	p.seq[edge] = s
	pl.Seq, pl.HasSeq = s, true
}

func (p *Publisher) send(t sparkplug.Topic, pl *sparkplug.Payload) {
	p.c.Publish(t.String(), 1, false, pl.Marshal())
	p.sent.Add(1)
}
