package feed

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"twin/viz/scene"
)

// frame is one scene of the source, as every client that follows the
// source sees it. It is never changed once made, but for its caches: the
// scene cut to each client's areas, and the messages made from it, each
// made once by the first client that needs it and shared by the others.
type frame struct {
	id   uint64 // from 1, in the order of the source's scenes
	sc   *scene.Scene
	span [2]int64
	made *atomic.Uint64 // the feed's count of messages made

	mu   sync.Mutex
	cuts map[string]*cut
	msgs map[msgKey]*shared
}

// cut is a frame's scene for one set of areas and lines.
type cut struct {
	once sync.Once
	sc   *scene.Scene
}

// msgKey names a message to a frame: from the frame a client was sent
// last (its id; 0: a snapshot), for its areas and lines. An id, not the
// frame: a frame must not keep the frames before it alive.
type msgKey struct {
	from uint64
	view string
}

// shared is a message made once and written by every client that needs
// it, each with its own seq: pre, the seq, post. A nil pre: nothing
// changed, nothing to send.
type shared struct {
	once      sync.Once
	pre, post []byte
}

// view is a client's areas and lines as a key: sorted, joined; "" for all.
func view(areas map[string]bool) string {
	if len(areas) == 0 {
		return ""
	}
	keys := make([]string, 0, len(areas))
	for a := range areas {
		keys = append(keys, a)
	}
	slices.Sort(keys)
	return strings.Join(keys, "\x00")
}

// scene is the frame's scene for a client's areas and lines (key its
// view), cut once and shared.
func (fr *frame) scene(key string, areas map[string]bool) *scene.Scene {
	if key == "" {
		return fr.sc
	}
	fr.mu.Lock()
	if fr.cuts == nil {
		fr.cuts = map[string]*cut{}
	}
	c := fr.cuts[key]
	if c == nil {
		c = &cut{}
		fr.cuts[key] = c
	}
	fr.mu.Unlock()
	c.once.Do(func() { c.sc = filter(fr.sc, areas) })
	return c.sc
}

// message is the message that brings a client that follows the source
// from frame from (nil: nothing yet, a snapshot) to this one, for its
// areas and lines; nil pre when nothing changed.
func (fr *frame) message(from *frame, key string, areas map[string]bool) *shared {
	k := msgKey{view: key}
	if from != nil {
		k.from = from.id
	}
	fr.mu.Lock()
	if fr.msgs == nil {
		fr.msgs = map[msgKey]*shared{}
	}
	m := fr.msgs[k]
	if m == nil {
		m = &shared{}
		fr.msgs[k] = m
	}
	fr.mu.Unlock()
	m.once.Do(func() {
		sc := fr.scene(key, areas)
		var out *outMsg
		if from == nil {
			out = snapshot(sc, fr.span, 0)
		} else {
			out = delta(from.scene(key, areas), from.span, 0, sc, fr.span, 0)
		}
		if out != nil {
			m.pre, m.post = encode(out)
			fr.made.Add(1)
		}
	})
	return m
}

// preset stores the message from frame from for clients of view key,
// made already (d).
func (fr *frame) preset(from *frame, key string, d *outMsg) {
	m := &shared{}
	m.once.Do(func() {
		m.pre, m.post = encode(d)
		fr.made.Add(1)
	})
	fr.mu.Lock()
	if fr.msgs == nil {
		fr.msgs = map[msgKey]*shared{}
	}
	fr.msgs[msgKey{from.id, key}] = m
	fr.mu.Unlock()
}

// snapshot is the message of the whole scene sc (at: the seek time, 0
// when following).
func snapshot(sc *scene.Scene, span [2]int64, at int64) *outMsg {
	m := &outMsg{V: Version, Type: "snapshot", Source: sc.Source, Time: sc.Time, At: at, Scene: sc}
	if span != [2]int64{} {
		m.Span = &span
	}
	return m
}

// delta is the message that takes a client from scene last (with its span
// and seek time as sent) to sc, or nil if nothing it shows changed.
func delta(last *scene.Scene, lastSpan [2]int64, lastAt int64, sc *scene.Scene, span [2]int64, at int64) *outMsg {
	m := &outMsg{V: Version, Type: "delta", Source: sc.Source, Time: sc.Time, At: at}
	for i := range sc.Stations {
		if i >= len(last.Stations) || !reflect.DeepEqual(sc.Stations[i], last.Stations[i]) {
			m.Stations = append(m.Stations, sc.Stations[i])
		}
	}
	for i := range sc.Buffers {
		if i >= len(last.Buffers) || sc.Buffers[i] != last.Buffers[i] {
			m.Buffers = append(m.Buffers, sc.Buffers[i])
		}
	}
	if sc.KPIs != last.KPIs {
		k := sc.KPIs
		m.KPIs = &k
	}
	if !reflect.DeepEqual(sc.Orders, last.Orders) {
		o := sc.Orders
		if o == nil {
			o = []scene.OpenOrder{}
		}
		m.Orders = &o
	}
	if !slices.Equal(sc.Alarms, last.Alarms) {
		a := sc.Alarms
		if a == nil {
			a = []string{}
		}
		m.Alarms = &a
	}
	if span != lastSpan {
		m.Span = &span
	}
	if len(m.Stations) == 0 && len(m.Buffers) == 0 && m.KPIs == nil && m.Orders == nil && m.Alarms == nil && m.Span == nil && at == lastAt && sc.Time == last.Time && sc.Source == last.Source {
		return nil
	}
	return m
}

// seqField is where encode splits a message: its seq is written there.
var seqField = []byte(`"seq":0`)

// encode encodes m with seq 0 and splits it around the seq's digits.
func encode(m *outMsg) (pre, post []byte) {
	m.Seq = 0
	b, _ := json.Marshal(m)
	i := bytes.Index(b, seqField) // the first: v and type come before it, and neither can hold it
	n := i + len(seqField) - 1
	return b[:n], b[n+1:]
}

// filter cuts a scene to the stations of some areas and lines (and the
// buffers of their work centres).
func filter(sc *scene.Scene, areas map[string]bool) *scene.Scene {
	if len(areas) == 0 {
		return sc
	}
	f := *sc
	f.Stations = nil
	wcs := map[string]bool{}
	for _, s := range sc.Stations {
		if areas[s.Area] || areas[s.Line] {
			f.Stations = append(f.Stations, s)
			wcs[s.WorkCenter] = true
		}
	}
	f.Buffers = nil
	for _, b := range sc.Buffers {
		if wcs[b.WorkCenter] {
			f.Buffers = append(f.Buffers, b)
		}
	}
	return &f
}
