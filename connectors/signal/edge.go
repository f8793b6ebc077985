package signal

import (
	"os"
	"strings"

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
