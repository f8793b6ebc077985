package sparkplug

import "fmt"

// Host follows the sessions of the edge nodes it hears from, as a Sparkplug
// host application does. It is not safe for concurrent use.
type Host struct {
	nodes map[[2]string]*node // group, edge node
}

type node struct {
	online bool
	seq    uint64
	// bdSeq is the current NBIRTH's birth/death sequence number
	// (hasBdSeq: the birth carried one): only an NDEATH with the same
	// one ends this session.
	bdSeq    uint64
	hasBdSeq bool
	// lost is set by a sequence gap: the host no longer knows the node's
	// state, and drops its data until the next NBIRTH.
	lost    bool
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
	// gap and every message after it until the NBIRTH, data before a
	// birth, an unknown alias): it should ask for a rebirth (NCMD "Node
	// Control/Rebirth" = true), and again if none comes.
	Rebirth bool
	// Problem says what went wrong, for the log; it is set once for a
	// gap, not again for each message dropped after it.
	Problem string
	// Dropped is set when the message's values were not applied because
	// the node's session was lost to a sequence gap: nothing of the node
	// is folded until its NBIRTH.
	Dropped bool
	// StaleDeath is set for an NDEATH whose bdSeq is not the one of the
	// node's current NBIRTH: the will of an earlier session (delivered
	// late, or by a broker that lost the old connection after the new
	// one began). It changes nothing.
	StaleDeath bool
	// Dead lists the devices whose values are now stale: "" for the
	// node itself (NDEATH: all its devices too).
	Dead []string
}

// NewHost returns a host with no sessions.
func NewHost() *Host { return &Host{nodes: map[[2]string]*node{}} }

// BdSeq is the value of the payload's "bdSeq" metric, which pairs an
// NBIRTH with its NDEATH; ok is false when it has none.
func BdSeq(p *Payload) (v uint64, ok bool) {
	for i := range p.Metrics {
		if m := &p.Metrics[i]; m.Name == "bdSeq" && !m.IsNull {
			if m.Int != 0 || isInteger(m.DataType) {
				return m.Int, true
			}
			return uint64(m.Value), true
		}
	}
	return 0, false
}

// Handle applies a message.
//
// Sequence numbers: every message of a session after its NBIRTH (seq 0)
// carries the next seq, modulo 256. A message with another one means
// messages were lost, and the host no longer knows the node's state: the
// message is dropped, and so is every DBIRTH, NDATA and DDATA of the node
// until its next NBIRTH, while the host asks for that rebirth. Sparkplug
// 3.0 §5 "Sparkplug Host Application Message Ordering" has a host request
// a rebirth when missing messages do not arrive within its Reorder
// Timeout (tck-id-operational-behavior-host-reordering-rebirth) and
// leaves to it whether to process messages out of order; this host's
// Reorder Timeout is zero (a broker delivers one client's messages in
// order, so a gap is a loss) and it processes none: folding data past a
// gap would show values whose predecessors are missing (a counter jumps,
// a state change is never seen) as current, and for a plant a value shown
// as current that is not is worse than the gap of a rebirth. Deaths are
// applied all the same: they only ever mark values stale.
//
// Deaths: an NDEATH ends the session only when its bdSeq is the current
// NBIRTH's (Sparkplug 3.0 §5 "Edge Node Session Establishment": the host
// sets the node offline on a death whose bdSeq matches the preceding
// NBIRTH's, since a will may arrive after the next NBIRTH); a death with
// another bdSeq is an earlier session's and changes nothing. An NDEATH
// without bdSeq (tck-id-topics-ndeath-payload says it must carry one), or
// after a birth without one, is taken: it cannot be told apart, and
// taking it errs on the side of stale flags.
func (h *Host) Handle(t Topic, p *Payload) Update {
	k := [2]string{t.Group, t.EdgeNode}
	n := h.nodes[k]
	var u Update
	switch t.Type {
	case NBIRTH:
		n = &node{online: true, aliases: map[uint64]string{}}
		n.bdSeq, n.hasBdSeq = BdSeq(p)
		h.nodes[k] = n
		if p.HasSeq && p.Seq != 0 {
			u.Problem = fmt.Sprintf("NBIRTH with seq %d, want 0", p.Seq)
		}
		n.seq = p.Seq
		h.values(n, "", p, &u, true)
		return u
	case NDEATH:
		if n != nil && n.hasBdSeq {
			if bd, ok := BdSeq(p); ok && bd != n.bdSeq {
				u.StaleDeath = true
				u.Problem = fmt.Sprintf("NDEATH of %s/%s with bdSeq %d, its NBIRTH's is %d: an earlier session's death, ignored", t.Group, t.EdgeNode, bd, n.bdSeq)
				return u
			}
		}
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
	if !n.lost && p.HasSeq {
		if want := (n.seq + 1) % 256; p.Seq != want {
			n.lost = true
			u.Problem = fmt.Sprintf("sequence gap from %s/%s: got %d, want %d; its data is dropped until its NBIRTH", t.Group, t.EdgeNode, p.Seq, want)
		}
		n.seq = p.Seq
	}
	if n.lost {
		u.Rebirth = true
		if t.Type == DDEATH {
			u.Dead = []string{t.Device}
		} else {
			u.Dropped = true
		}
		return u
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

// Lost reports whether the edge node's session is lost to a sequence gap:
// its data is dropped until its next NBIRTH.
func (h *Host) Lost(group, edge string) bool {
	n := h.nodes[[2]string{group, edge}]
	return n != nil && n.online && n.lost
}
