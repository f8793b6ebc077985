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
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
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
	Port int    // 4840 by default (StartFree: 0 is a free port)
	// Secure enables Basic256Sha256 Sign and SignAndEncrypt besides None;
	// it needs Certificate (DER) and Key.
	Secure      bool
	Certificate []byte
	Key         *rsa.PrivateKey
	Logger      *slog.Logger
}

// Server serves a plant's machines over OPC UA.
type Server struct {
	srv    *server.Server
	ns     *server.NodeNameSpace
	vars   map[string]*server.Node // "<unit id>.<variable>"
	path   map[string]string       // equipment path → unit id
	url    string
	mu     sync.Mutex
	cancel context.CancelFunc // ends the gopcua server's goroutines; nil until Start
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

// Start listens; the server runs until Close (or until ctx ends).
func (s *Server) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	if err := s.srv.Start(ctx); err != nil {
		cancel()
		return fmt.Errorf("opcua: serve %s: %w", s.url, err)
	}
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	return nil
}

// Close stops serving, closes every connection and ends the server's
// goroutines. A server that did not start has nothing to close.
func (s *Server) Close() error {
	s.mu.Lock()
	cancel := s.cancel
	s.cancel = nil
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	defer cancel()
	if err := s.srv.Close(); err != nil {
		return fmt.Errorf("opcua: close %s: %w", s.url, err)
	}
	return nil
}

// StartFree builds p's server (NewServer) and starts it on opt.Port, or
// on a free port of opt.Host when that one is taken or opt.Port is 0.
// gopcua's server cannot be handed a listener: a free port is picked and
// closed first, and picked again if another process takes it before the
// server listens. Endpoint says where it listens.
func StartFree(ctx context.Context, p *plant.Plant, opt ServerOptions) (*Server, error) {
	host := opt.Host
	if host == "" {
		host = "127.0.0.1"
	}
	want := opt.Port
	for try := 0; try < 10; try++ {
		o := opt
		if want == 0 || try > 0 {
			port, err := freePort(host)
			if err != nil {
				return nil, fmt.Errorf("opcua: a free port on %s: %w", host, err)
			}
			o.Port = port
		}
		s, err := NewServer(p, o)
		if err != nil {
			return nil, err
		}
		err = s.Start(ctx)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("opcua: no free port on %s after 10 tries", host)
}

// freePort is a port of host free now.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

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
