// Package opcua connects the twin to OPC UA: a server that publishes a
// (virtual) plant's machines the way a plant's PLC gateway would, and a
// client that subscribes to the nodes a plant file's tag map names and turns
// their data changes into events.
//
// The server's address space follows the equipment hierarchy: under
// Objects, a folder per site, area, line and work centre, an object per
// unit, and per unit the variables State (a state name), StateCode (the
// twin's numeric state code), GoodCount, RejectCount, PowerKW, EnergyKWh and
// CurrentOrder, with string node ids "ns=<ns>;s=<unit id>.<variable>"
// (ns=2: the plant's namespace follows the server's own). State and the
// counters are shaped after OPC 40001-1 (Machinery): its
// MachineryItemState is derived from State by clients that need it.
package opcua

import (
	"context"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/server"
	"github.com/gopcua/opcua/ua"

	"twin/connectors/signal"
	"twin/plant"
	"twin/plant/event"
)

// ServerOptions configure a server.
type ServerOptions struct {
	Host string // "127.0.0.1" by default
	Port int    // 4840 by default; 0 is not allowed (clients need the URL)
	// Secure enables Basic256Sha256 Sign and SignAndEncrypt besides None;
	// it needs Certificate (DER) and Key.
	Secure      bool
	Certificate []byte
	Key         *rsa.PrivateKey
	Logger      *slog.Logger
}

// Server serves a plant's machines over OPC UA.
type Server struct {
	srv  *server.Server
	ns   *server.NodeNameSpace
	vars map[string]*server.Node // "<unit id>.<variable>"
	path map[string]string       // equipment path → unit id
	url  string
	mu   sync.Mutex
}

// The variables of a unit, by signal.
var unitVars = []struct {
	name string
	sig  plant.Signal
	zero any
}{
	{"State", plant.SignalState, "unknown"},
	{"StateCode", "", int32(0)},
	{"GoodCount", plant.SignalGood, float64(0)},
	{"RejectCount", plant.SignalReject, float64(0)},
	{"PowerKW", plant.SignalPower, float64(0)},
	{"EnergyKWh", plant.SignalEnergy, float64(0)},
	{"CurrentOrder", plant.SignalOrder, ""},
}

// NewServer builds the address space of p; Start serves it.
func NewServer(p *plant.Plant, opt ServerOptions) (*Server, error) {
	if opt.Host == "" {
		opt.Host = "127.0.0.1"
	}
	if opt.Port == 0 {
		opt.Port = 4840
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	opts := []server.Option{
		server.EndPoint(opt.Host, opt.Port),
		server.EnableSecurity("None", ua.MessageSecurityModeNone),
		server.ServerName("twin virtual plant"),
		server.ManufacturerName("twin"),
		server.ProductName("virtual plant " + p.ID),
		server.SetLogger(quiet{opt.Logger}),
	}
	if opt.Secure {
		if opt.Certificate == nil || opt.Key == nil {
			return nil, fmt.Errorf("opcua: a secure server needs a certificate and a key")
		}
		opts = append(opts,
			server.Certificate(opt.Certificate), server.PrivateKey(opt.Key),
			server.EnableSecurity("Basic256Sha256", ua.MessageSecurityModeSign),
			server.EnableSecurity("Basic256Sha256", ua.MessageSecurityModeSignAndEncrypt))
	}
	// gopcua v0.9.0's server accepts user name tokens without checking
	// them: the virtual plant offers anonymous and user name logins alike.
	opts = append(opts, server.EnableAuthMode(ua.UserTokenTypeAnonymous))
	if opt.Secure {
		opts = append(opts, server.EnableAuthMode(ua.UserTokenTypeUserName))
	}
	s := &Server{srv: server.New(opts...), vars: map[string]*server.Node{}, path: map[string]string{},
		url: fmt.Sprintf("opc.tcp://%s:%d", opt.Host, opt.Port)}
	// namespace 1: the server's own; 2: the plant
	server.NewNodeNameSpace(s.srv, "urn:twin:virtual-plant")
	s.ns = server.NewNodeNameSpace(s.srv, "urn:twin:plant:"+p.ID)
	root, _ := s.srv.Namespace(0)
	objects := s.ns.Objects()
	root.Objects().AddRef(objects, id.HasComponent, true)
	var add func(n *plant.Node, parent *server.Node)
	add = func(n *plant.Node, parent *server.Node) {
		f := server.NewFolderNode(ua.NewStringNodeID(s.ns.ID(), n.Path), n.Name)
		s.ns.AddNode(f)
		parent.AddRef(f, id.Organizes, true)
		if n.Unit != nil {
			s.path[n.Path] = n.ID
			for _, v := range unitVars {
				name := n.ID + "." + v.name
				vn := server.NewVariableNode(ua.NewStringNodeID(s.ns.ID(), name), v.name, v.zero)
				// no value until the plant writes one: a client sees
				// "waiting for initial data", not a zero stamped now
				vn.SetAttribute(ua.AttributeIDValue, &ua.DataValue{EncodingMask: ua.DataValueStatusCode | ua.DataValueServerTimestamp,
					Status: ua.StatusBadWaitingForInitialData, ServerTimestamp: time.Now()})
				s.ns.AddNode(vn)
				f.AddRef(vn, id.HasComponent, true)
				s.vars[name] = vn
			}
		}
		for _, c := range n.Nodes {
			add(c, f)
		}
	}
	add(p.Site, objects)
	return s, nil
}

// Namespace is the index of the plant's namespace (2).
func (s *Server) Namespace() uint16 { return s.ns.ID() }

// Endpoint is the server's URL.
func (s *Server) Endpoint() string { return s.url }

// Start listens.
func (s *Server) Start(ctx context.Context) error { return s.srv.Start(ctx) }

// Close stops serving and closes every connection.
func (s *Server) Close() error { return s.srv.Close() }

func dataValue(v any, t time.Time) *ua.DataValue {
	return &ua.DataValue{EncodingMask: ua.DataValueValue | ua.DataValueSourceTimestamp | ua.DataValueServerTimestamp,
		Value: ua.MustVariant(v), SourceTimestamp: t, ServerTimestamp: time.Now()}
}

// Emit updates the variables an event changes; subscribers are notified.
func (s *Server) Emit(e event.Event) {
	unit, ok := s.path[e.Asset]
	if !ok {
		return
	}
	sig, v, ok := signal.Of(e)
	if !ok {
		return
	}
	t := time.Unix(0, e.Time)
	s.mu.Lock()
	defer s.mu.Unlock()
	set := func(name string, val any) {
		n := s.vars[unit+"."+name]
		if n == nil {
			return
		}
		n.SetAttribute(ua.AttributeIDValue, dataValue(val, t))
		s.ns.ChangeNotification(n.ID())
	}
	for _, uv := range unitVars {
		if uv.sig != sig {
			continue
		}
		if v.IsStr {
			set(uv.name, v.Str)
		} else {
			set(uv.name, v.Num)
		}
	}
	if sig == plant.SignalState {
		set("StateCode", int32(e.Value))
	}
}

// NodeID returns the node id of a unit's variable, as a tag map names it.
func (s *Server) NodeID(unit, variable string) string {
	return ua.NewStringNodeID(s.ns.ID(), unit+"."+variable).String()
}

// quiet passes gopcua's server warnings and errors on, without its
// start-up chatter (its node set lists some reference types twice).
type quiet struct{ log *slog.Logger }

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (q quiet) Warn(msg string, args ...any) {
	m := fmt.Sprintf(msg, args...)
	if !strings.Contains(m, "EOF") && !strings.Contains(m, "Secure Channel") {
		q.log.Warn("opcua server: " + m)
	}
}
func (q quiet) Error(msg string, args ...any) {
	if m := fmt.Sprintf(msg, args...); !strings.HasPrefix(m, "Duplicate reference type") && !strings.Contains(m, "use of closed network connection") {
		q.log.Error("opcua server: " + m)
	}
}
