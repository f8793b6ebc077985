package sparkplug

import "fmt"

// Host follows the sessions of the edge nodes it hears from, as a Sparkplug
// host application does. It is not safe for concurrent use.
type Host struct {
	nodes map[[2]string]*node // group, edge node
}

type node struct {
	online  bool
	seq     uint64
	aliases map[uint64]string // alias → metric name, node and devices
}

// Value is a metric value a message carries, resolved to its name.
type Value struct {
	Device string // "" for node metrics
	Metric Metric // Name set, even when the message used an alias
	Time   uint64 // ms since the Unix epoch
}

// Update is what a message means to the host.
type Update struct {
	Values []Value
	// Rebirth is set when the host lost track of the node (a sequence
	// gap, data before a birth, an unknown alias): it should ask for a
	// rebirth (NCMD "Node Control/Rebirth" = true).
	Rebirth bool
	Problem string // why, for the log
	// Dead lists the devices whose values are now stale: "" for the
	// node itself (NDEATH: all its devices too).
	Dead []string
}

// NewHost returns a host with no sessions.
func NewHost() *Host { return &Host{nodes: map[[2]string]*node{}} }

// Handle applies a message.
func (h *Host) Handle(t Topic, p *Payload) Update {
	k := [2]string{t.Group, t.EdgeNode}
	n := h.nodes[k]
	var u Update
	switch t.Type {
	case NBIRTH:
		n = &node{online: true, aliases: map[uint64]string{}}
		h.nodes[k] = n
		if p.HasSeq && p.Seq != 0 {
			u.Problem = fmt.Sprintf("NBIRTH with seq %d, want 0", p.Seq)
		}
		n.seq = p.Seq
		h.values(n, "", p, &u, true)
		return u
	case NDEATH:
		if n != nil {
			n.online = false
		}
		u.Dead = []string{""}
		return u
	case NCMD, DCMD:
		return u
	}
	if n == nil || !n.online {
		u.Rebirth, u.Problem = true, fmt.Sprintf("%s from %s/%s before its NBIRTH", t.Type, t.Group, t.EdgeNode)
		return u
	}
	if p.HasSeq {
		if want := (n.seq + 1) % 256; p.Seq != want {
			u.Rebirth, u.Problem = true, fmt.Sprintf("sequence gap from %s/%s: got %d, want %d", t.Group, t.EdgeNode, p.Seq, want)
		}
		n.seq = p.Seq
	}
	switch t.Type {
	case DBIRTH:
		h.values(n, t.Device, p, &u, true)
	case NDATA:
		h.values(n, "", p, &u, false)
	case DDATA:
		h.values(n, t.Device, p, &u, false)
	case DDEATH:
		u.Dead = []string{t.Device}
	}
	return u
}

func (h *Host) values(n *node, device string, p *Payload, u *Update, birth bool) {
	for _, m := range p.Metrics {
		if birth && m.HasAlias && m.Name != "" {
			n.aliases[m.Alias] = m.Name
		}
		if m.Name == "" && m.HasAlias {
			name, ok := n.aliases[m.Alias]
			if !ok {
				u.Rebirth, u.Problem = true, fmt.Sprintf("unknown alias %d", m.Alias)
				continue
			}
			m.Name = name
		}
		if m.Name == "" || m.IsNull {
			continue
		}
		ts := m.Timestamp
		if ts == 0 {
			ts = p.Timestamp
		}
		u.Values = append(u.Values, Value{Device: device, Metric: m, Time: ts})
	}
}

// Online reports whether the edge node has a live session.
func (h *Host) Online(group, edge string) bool {
	n := h.nodes[[2]string{group, edge}]
	return n != nil && n.online
}
