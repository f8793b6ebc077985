package sparkplug

import (
	"strings"
	"testing"
)

func bdSeqMetric(v uint64) Metric {
	return Metric{Name: "bdSeq", DataType: Int64, Int: v, Value: float64(v)}
}

// TestHostStaleDeath: an NDEATH whose bdSeq is not the current NBIRTH's is
// an earlier session's: the node stays online; the matching one ends it.
func TestHostStaleDeath(t *testing.T) {
	h := NewHost()
	birth := Topic{Group: "g", Type: NBIRTH, EdgeNode: "e"}
	death := Topic{Group: "g", Type: NDEATH, EdgeNode: "e"}
	h.Handle(birth, &Payload{Timestamp: 1, HasSeq: true, Metrics: []Metric{bdSeqMetric(5)}})
	u := h.Handle(death, &Payload{Timestamp: 2, Metrics: []Metric{bdSeqMetric(4)}})
	if !u.StaleDeath || len(u.Dead) != 0 || !h.Online("g", "e") || !strings.Contains(u.Problem, "bdSeq 4") {
		t.Fatalf("stale NDEATH: %+v, online %v", u, h.Online("g", "e"))
	}
	u = h.Handle(death, &Payload{Timestamp: 3, Metrics: []Metric{bdSeqMetric(5)}})
	if u.StaleDeath || len(u.Dead) != 1 || u.Dead[0] != "" || h.Online("g", "e") {
		t.Fatalf("NDEATH of the session: %+v, online %v", u, h.Online("g", "e"))
	}
	// a death that cannot be told apart is taken
	h.Handle(birth, &Payload{Timestamp: 4, HasSeq: true, Metrics: []Metric{bdSeqMetric(6)}})
	if u := h.Handle(death, &Payload{Timestamp: 5}); len(u.Dead) != 1 || h.Online("g", "e") {
		t.Fatalf("NDEATH without bdSeq: %+v", u)
	}
	// bdSeq is read from an unsigned type too, and 0 is a bdSeq
	h.Handle(birth, &Payload{HasSeq: true, Metrics: []Metric{{Name: "bdSeq", DataType: UInt64}}})
	if u := h.Handle(death, &Payload{Metrics: []Metric{{Name: "bdSeq", DataType: UInt64, Int: 255, Value: 255}}}); !u.StaleDeath {
		t.Fatalf("NDEATH bdSeq 255 after NBIRTH bdSeq 0: %+v", u)
	}
}

// TestHostSequenceGap: after a gap nothing of the node is folded, deaths
// excepted, until its NBIRTH; the host asks for the rebirth throughout.
func TestHostSequenceGap(t *testing.T) {
	h := NewHost()
	tp := func(typ, dev string) Topic { return Topic{Group: "g", Type: typ, EdgeNode: "e", Device: dev} }
	data := func(seq uint64, v float64) *Payload {
		return &Payload{Timestamp: 10, Seq: seq, HasSeq: true, Metrics: []Metric{{Alias: 1, HasAlias: true, DataType: Double, Value: v}}}
	}
	born := func() {
		h.Handle(tp(NBIRTH, ""), &Payload{Timestamp: 1, HasSeq: true, Metrics: []Metric{bdSeqMetric(0)}})
		u := h.Handle(tp(DBIRTH, "d"), &Payload{Timestamp: 1, Seq: 1, HasSeq: true, Metrics: []Metric{{Name: "Power", Alias: 1, HasAlias: true, DataType: Double, Value: 1}}})
		if len(u.Values) != 1 || u.Rebirth {
			t.Fatalf("DBIRTH: %+v", u)
		}
	}
	born()
	if u := h.Handle(tp(DDATA, "d"), data(2, 2)); len(u.Values) != 1 || u.Values[0].Metric.Name != "Power" || u.Dropped {
		t.Fatalf("DDATA in sequence: %+v", u)
	}
	u := h.Handle(tp(DDATA, "d"), data(5, 5))
	if !u.Dropped || !u.Rebirth || len(u.Values) != 0 || !strings.Contains(u.Problem, "got 5, want 3") || !h.Lost("g", "e") {
		t.Fatalf("DDATA after a gap: %+v", u)
	}
	// the next one in sequence after the gap: still dropped, reported once
	if u := h.Handle(tp(DDATA, "d"), data(6, 6)); !u.Dropped || !u.Rebirth || len(u.Values) != 0 || u.Problem != "" {
		t.Fatalf("DDATA after the gap: %+v", u)
	}
	if u := h.Handle(tp(DBIRTH, "d"), data(7, 7)); !u.Dropped || len(u.Values) != 0 {
		t.Fatalf("DBIRTH after the gap: %+v", u)
	}
	if u := h.Handle(tp(DDEATH, "d"), &Payload{Seq: 8, HasSeq: true}); u.Dropped || len(u.Dead) != 1 {
		t.Fatalf("DDEATH after the gap: %+v", u)
	}
	born()
	if h.Lost("g", "e") {
		t.Fatal("still lost after the NBIRTH")
	}
	if u := h.Handle(tp(DDATA, "d"), data(2, 9)); len(u.Values) != 1 || u.Values[0].Metric.Value != 9 || u.Dropped {
		t.Fatalf("DDATA after the rebirth: %+v", u)
	}
	// seq wraps from 255 to 0 without a gap
	for s := uint64(3); s <= 256; s++ {
		if u := h.Handle(tp(NDATA, ""), &Payload{Seq: s % 256, HasSeq: true}); u.Dropped {
			t.Fatalf("seq %d: %+v", s%256, u)
		}
	}
}
