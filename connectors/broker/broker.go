// Package broker runs an MQTT broker inside the twin's process, for
// "twin demo": nothing to install, the virtual plant publishes to it and the
// twin subscribes to it over TCP exactly as it would to a plant's broker.
// It is not meant for production: use the plant's broker (mosquitto, EMQX,
// HiveMQ) there.
package broker

import (
	"fmt"
	"log/slog"
	"net"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// Broker is a running embedded broker.
type Broker struct {
	s    *mochi.Server
	addr string
}

// Start listens on addr ("127.0.0.1:1883", or ":0" for a free port) and
// serves anonymous clients.
func Start(addr string, log *slog.Logger) (*Broker, error) {
	if log == nil {
		log = slog.Default()
	}
	caps := mochi.NewDefaultServerCapabilities()
	// the defaults drop QoS 1 messages past 8192 pending per client
	caps.MaximumInflight = 65535
	caps.MaximumClientWritesPending = 1 << 20
	s := mochi.New(&mochi.Options{Capabilities: caps, Logger: log.With("component", "broker")})
	if err := s.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, err
	}
	// the broker serves on the listener bound here: no window between
	// finding a free port and listening on it for another to take it
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if err := s.AddListener(listeners.NewNet("tcp", l)); err != nil {
		l.Close()
		return nil, fmt.Errorf("broker: listen on %s: %w", l.Addr(), err)
	}
	if err := s.Serve(); err != nil {
		s.Close()
		return nil, fmt.Errorf("broker: serve on %s: %w", l.Addr(), err)
	}
	return &Broker{s: s, addr: l.Addr().String()}, nil
}

// Addr is the host:port it listens on.
func (b *Broker) Addr() string { return b.addr }

// URL is its address as an MQTT broker URL.
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Close stops it.
func (b *Broker) Close() error { return b.s.Close() }
