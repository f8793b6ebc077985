package mqtt

import (
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// copyStore is paho's memory store, except that it keeps a copy of each
// outgoing publish packet instead of the packet being sent.
//
// On every connect and reconnect paho resends what its store holds
// (resume) and marks each QoS 1 publish there as a duplicate (p.Dup =
// true), on its own goroutine, while the OnConnect handler runs on
// another: a publish made from OnConnect (the Sparkplug host's STATE) is
// then written to the network by paho's writer while resume sets its DUP
// flag, a data race inside paho (the race detector reported it in
// TestSparkplug about one run in twenty). With a copy in the store,
// resume marks and resends the copy; the packet on its way is untouched.
type copyStore struct{ *paho.MemoryStore }

func newStore() paho.Store { return copyStore{paho.NewMemoryStore()} }

func (s copyStore) Put(key string, m packets.ControlPacket) {
	if p, ok := m.(*packets.PublishPacket); ok {
		c := *p
		m = &c
	}
	s.MemoryStore.Put(key, m)
}
