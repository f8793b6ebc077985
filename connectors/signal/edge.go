package signal

import (
	"context"
	"os"
	"strings"
	"sync"

	"twin/plant/event"
)

// Sink accepts a connector's events: a message's, or a subscription's
// notification's, as one batch. ack is called once they are safe (with
// the twin's ingest.Ingest, once the history store has them on disk), or
// with the error that kept them from it; a connector acknowledges its
// source (an MQTT PUBACK) only then. Every connector hands its events to
// a Sink.
type Sink interface {
	EmitBatch(evs []event.Event, ack func(error))
}

// ExpandEnv is a tag map's credential: "$NAME" is read from the
// environment variable NAME (so that passwords stay out of the plant
// file); any other value, "$" alone included, is taken as it is.
func ExpandEnv(s string) string {
	if name, ok := strings.CutPrefix(s, "$"); ok && name != "" {
		return os.Getenv(name)
	}
	return s
}

// Ready says whether a connector's source has confirmed the
// subscriptions of the current connection (an MQTT SUBACK, OPC UA
// monitored items created): set then, cleared when the connection is
// lost. Wait is the signal a caller waits on instead of polling. The
// zero Ready is not ready.
type Ready struct {
	mu sync.Mutex
	on bool
	ch chan struct{} // closed while on
}

// Set says whether the connector is ready now.
func (r *Ready) Set(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ch == nil {
		r.ch = make(chan struct{})
	}
	switch {
	case on && !r.on:
		close(r.ch)
	case !on && r.on:
		r.ch = make(chan struct{})
	}
	r.on = on
}

// Is reports whether the connector is ready now.
func (r *Ready) Is() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.on
}

// Wait returns once the connector is ready, or with ctx's error.
func (r *Ready) Wait(ctx context.Context) error {
	r.mu.Lock()
	if r.ch == nil {
		r.ch = make(chan struct{})
	}
	ch := r.ch
	r.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
