package opcua

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math"
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
	// Certificate (DER) and Key: with both, the server offers besides
	// None the secure endpoints of SecurePolicies; its application URI
	// is the certificate's (CreateCertificate and
	// LoadOrCreateCertificate make them). Without, it offers None only.
	Certificate []byte
	Key         *rsa.PrivateKey
	Logger      *slog.Logger
}

// SecurePolicies are the security policies and modes a server with a
// certificate offers besides None, as the tag map names them.
var SecurePolicies = []struct{ Policy, Mode string }{
	{"Basic256Sha256", "Sign"}, {"Basic256Sha256", "SignAndEncrypt"},
	{"Aes128_Sha256_RsaOaep", "Sign"}, {"Aes128_Sha256_RsaOaep", "SignAndEncrypt"},
}

// Server serves a plant's machines over OPC UA.
type Server struct {
	srv    *server.Server
	plant  *space             // the plant's namespace (2)
	vars   map[string]*uaNode // "<unit id>.<variable>"
	path   map[string]string  // equipment path → unit id
	secure bool
	url    string
	log    *slog.Logger
	mu     sync.Mutex         // one Emit at a time; guards cancel
	cancel context.CancelFunc // ends the gopcua server's goroutines; nil until Start
}

// The variables of a unit, by signal, and their data types (namespace 0;
// 0: the MachineState enumeration).
var unitVars = []struct {
	name     string
	sig      plant.Signal
	dataType uint32
	desc     string
}{
	{"State", plant.SignalState, id.String, "the machine's state: unknown, off, idle, setup, running, down, maintenance, blocked or starved"},
	{"StateCode", "", 0, "the machine's state as the twin's code (the MachineState enumeration)"},
	{"GoodCount", plant.SignalGood, id.UInt32, "good parts made, cumulative"},
	{"RejectCount", plant.SignalReject, id.UInt32, "rejected parts, cumulative"},
	{"PowerKW", plant.SignalPower, id.Double, "electric power drawn, kW"},
	{"EnergyKWh", plant.SignalEnergy, id.Double, "electric energy used, kWh, cumulative"},
	{"CurrentOrder", plant.SignalOrder, id.String, "the order in process"},
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
	secure := opt.Certificate != nil || opt.Key != nil
	if secure {
		if err := checkKeyPair(opt.Certificate, opt.Key); err != nil {
			return nil, err
		}
		opts = append(opts, server.Certificate(opt.Certificate), server.PrivateKey(opt.Key))
		for _, sp := range SecurePolicies {
			opts = append(opts, server.EnableSecurity(sp.Policy, ua.MessageSecurityModeFromString(sp.Mode)))
		}
	}
	// anonymous only: gopcua v0.9.0's server never looks at the identity
	// token a session is activated with (it would take any user name and
	// password), so it offers no user name login (see the package doc)
	opts = append(opts, server.EnableAuthMode(ua.UserTokenTypeAnonymous))
	s := &Server{srv: server.New(opts...), vars: map[string]*uaNode{}, path: map[string]string{}, secure: secure,
		url: fmt.Sprintf("opc.tcp://%s:%d", opt.Host, opt.Port), log: opt.Logger}
	// namespace 1: the twin's types; 2: the plant
	types := newSpace(s.srv, "urn:twin:virtual-plant")
	names := make([]string, len(event.States()))
	for i, st := range event.States() {
		names[i] = st.String()
	}
	states := types.enumeration(ua.NewStringNodeID(types.id, "MachineState"), "MachineState",
		"a machine's state as the twin keeps it, reduced from PackML and OPC 40001-1 (Machinery)", names)
	s.plant = newSpace(s.srv, "urn:twin:plant:"+p.ID)
	ns := s.plant
	var add func(n *plant.Node, parent *uaNode)
	add = func(n *plant.Node, parent *uaNode) {
		nid := ua.NewStringNodeID(ns.id, n.Path)
		var o *uaNode
		if n.Unit != nil {
			o = ns.object(nid, n.Name, "unit "+n.ID, id.BaseObjectType)
		} else {
			o = ns.object(nid, n.Name, n.Path, id.FolderType)
		}
		if parent == nil {
			ns.under(id.ObjectsFolder, id.Organizes, o)
		} else {
			ns.link(parent, id.Organizes, o)
		}
		if n.Unit != nil {
			s.path[n.Path] = n.ID
			for _, v := range unitVars {
				dt := ua.NewNumericNodeID(0, v.dataType)
				if v.dataType == 0 {
					dt = states.id
				}
				vn := ns.variable(ua.NewStringNodeID(ns.id, n.ID+"."+v.name), v.name, v.desc, dt)
				ns.link(o, id.HasComponent, vn)
				s.vars[n.ID+"."+v.name] = vn
			}
		}
		for _, c := range n.Nodes {
			add(c, o)
		}
	}
	add(p.Site, nil)
	return s, nil
}

// checkKeyPair checks a server's certificate and key.
func checkKeyPair(der []byte, key *rsa.PrivateKey) error {
	if der == nil || key == nil {
		return fmt.Errorf("opcua: a secure server needs a certificate and its key (ServerOptions.Certificate and Key)")
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("opcua: the server's certificate: %w", err)
	}
	if pub, ok := c.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return fmt.Errorf("opcua: the server's key does not belong to its certificate")
	}
	if b := key.N.BitLen(); b < 2048 || b > 4096 {
		return fmt.Errorf("opcua: the server's key has %d bits: Basic256Sha256 and Aes128_Sha256_RsaOaep want 2048 to 4096", b)
	}
	return nil
}

// Namespace is the index of the plant's namespace (2).
func (s *Server) Namespace() uint16 { return s.plant.id }

// Endpoint is the server's URL.
func (s *Server) Endpoint() string { return s.url }

// Security says what the server offers, for a person.
func (s *Server) Security() string {
	if !s.secure {
		return "SecurityPolicy None only (no certificate), anonymous login"
	}
	return "None; Basic256Sha256 and Aes128_Sha256_RsaOaep, each Sign and SignAndEncrypt; anonymous login"
}

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
	for _, uv := range unitVars {
		switch {
		case uv.sig == sig:
			s.set(unit, uv.name, uv.dataType, v, t)
		case sig == plant.SignalState && uv.dataType == 0:
			s.set(unit, uv.name, 0, signal.Num(e.Value), t)
		}
	}
}

// set makes v the value of a unit's variable of data type dt, stamped t.
// A value the type cannot hold (a negative count) is published as
// BadOutOfRange, and logged.
func (s *Server) set(unit, name string, dt uint32, v signal.Value, t time.Time) {
	n := s.vars[unit+"."+name]
	if n == nil {
		return
	}
	var x any
	switch dt {
	case id.String:
		x = v.String()
	case id.Double:
		if !v.IsStr {
			x = v.Num
		}
	case id.UInt32:
		if !v.IsStr && v.Num >= 0 && v.Num <= math.MaxUint32 && v.Num == math.Trunc(v.Num) {
			x = uint32(v.Num)
		}
	case 0: // the MachineState enumeration
		if !v.IsStr && v.Num >= 0 && int(v.Num) < len(event.States()) && v.Num == math.Trunc(v.Num) {
			x = int32(v.Num)
		}
	}
	if x == nil {
		s.log.Warn("opcua server: a value its variable cannot hold", "node", n.id.String(), "value", v.String())
		s.plant.set(n, &ua.DataValue{EncodingMask: ua.DataValueStatusCode | ua.DataValueSourceTimestamp | ua.DataValueServerTimestamp,
			Status: ua.StatusBadOutOfRange, SourceTimestamp: t, ServerTimestamp: time.Now()})
		return
	}
	s.plant.set(n, dataValue(x, t))
}

// NodeID returns the node id of a unit's variable, as a tag map names it.
func (s *Server) NodeID(unit, variable string) string {
	return ua.NewStringNodeID(s.plant.id, unit+"."+variable).String()
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
