package calendar

import (
	"cmp"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

type ev struct{ id int }

// ref is the obvious calendar: a sorted slice.
type ref struct{ e []Entry[ev] }

func order(a, b Entry[ev]) int {
	return cmp.Or(cmp.Compare(a.When, b.When), cmp.Compare(a.Key, b.Key))
}

func (r *ref) push(e Entry[ev]) {
	i, _ := slices.BinarySearchFunc(r.e, e, order)
	r.e = slices.Insert(r.e, i, e)
}

func (r *ref) popUntil(h int64) (Entry[ev], bool) {
	if len(r.e) == 0 || r.e[0].When > h {
		return Entry[ev]{}, false
	}
	top := r.e[0]
	r.e = r.e[1:]
	return top, true
}

func TestAgainstReference(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spread int64 // increments are drawn from [0, spread)
		ties   int   // one push in ties lands exactly at now
	}{
		{"wide", 1 << 40, 0},
		{"narrow", 100, 0},
		{"ties", 1 << 20, 3},
		{"tiny", 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(tc.spread)))
			var c Calendar[ev]
			var want ref
			var now int64
			var seq uint64
			push := func() {
				seq++
				w := now + r.Int64N(tc.spread)
				if tc.ties > 0 && r.IntN(tc.ties) == 0 {
					w = now
				}
				key := uint64(r.IntN(3))<<56 | seq // priorities in the high bits
				e := Entry[ev]{When: w, Key: key, Ev: &ev{int(seq)}}
				c.Push(e.When, e.Key, e.Ev)
				want.push(e)
			}
			for i := 0; i < 2000; i++ {
				push()
			}
			for i := 0; i < 50000; i++ {
				// A horizon sometimes short of the next entry: nothing may pop,
				// and the clock still moves to the horizon.
				h := now + r.Int64N(tc.spread/2+1)
				got, ok := c.PopUntil(h)
				exp, eok := want.popUntil(h)
				if ok != eok || got.When != exp.When || got.Key != exp.Key || (ok && got.Ev != exp.Ev) {
					t.Fatalf("pop %d (horizon %d): got %v %v, want %v %v", i, h, got, ok, exp, eok)
				}
				if ok {
					now = got.When
				} else {
					now = h
				}
				if c.Len() != len(want.e) {
					t.Fatalf("len %d, want %d", c.Len(), len(want.e))
				}
				if m, ok := c.Min(); ok != (len(want.e) > 0) || (ok && m != want.e[0].When) {
					{
						t.Fatalf("Min %d, want %d", m, want.e[0].When)
					}
				}
				for k := r.IntN(3); k > 0; k-- {
					push()
				}
			}
		})
	}
}

func TestFilter(t *testing.T) {
	var c Calendar[ev]
	for i := 0; i < 1000; i++ {
		c.Push(int64(i*7919%1000), uint64(i+1), &ev{i})
	}
	c.PopUntil(0)
	c.Filter(func(e Entry[ev]) bool { return e.Ev.id%2 == 0 })
	if c.Len() != 499 {
		t.Fatalf("len %d after filter, want 499", c.Len())
	}
	last := int64(-1)
	for {
		e, ok := c.PopUntil(1 << 62)
		if !ok {
			break
		}
		if e.Ev.id%2 != 0 || e.When < last {
			t.Fatalf("entry %+v after %d", e, last)
		}
		last = e.When
	}
	c.Reset()
	if c.Len() != 0 || c.Base() != 0 {
		t.Fatal("reset did not empty the calendar")
	}
}

// TestSizesAgainstReference: the calendar grows past the heap's size and
// shrinks below it again and again (it changes from a binary heap to a
// radix heap and back), with ties, and still hands entries out in order.
func TestSizesAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var c Calendar[ev]
	c.Init()
	var want ref
	var now int64
	var seq uint64
	target := 0
	for i := 0; i < 200000; i++ {
		if i%500 == 0 {
			target = r.IntN(3 * heapMax)
		}
		if len(want.e) < target || r.IntN(4) == 0 {
			seq++
			w := now + r.Int64N(1<<uint(r.IntN(40)))
			if r.IntN(5) == 0 {
				w = now
			}
			e := Entry[ev]{When: w, Key: uint64(r.IntN(3))<<56 | seq, Ev: &ev{int(seq)}}
			c.Push(e.When, e.Key, e.Ev)
			want.push(e)
			continue
		}
		got, ok := c.PopUntil(1 << 62)
		exp, eok := want.popUntil(1 << 62)
		if ok != eok || got.When != exp.When || got.Key != exp.Key || (ok && got.Ev != exp.Ev) {
			t.Fatalf("pop %d (%d pending): got %v %v, want %v %v", i, len(want.e), got, ok, exp, eok)
		}
		if ok {
			now = got.When
		}
		if c.Len() != len(want.e) {
			t.Fatalf("len %d, want %d", c.Len(), len(want.e))
		}
	}
}

// TestMemoryBounded: a hold model at 100,000 pending entries keeps its
// storage near the entries it holds however long it runs (buckets that
// held a burst give their room back): the heap in use after 5M events is
// within 10% of the heap in use after 2.5M.
func TestMemoryBounded(t *testing.T) {
	const n = 100000
	r := rand.New(rand.NewPCG(1, 2))
	var c Calendar[ev]
	c.Init()
	evs := make([]ev, n)
	var seq uint64
	for i := range evs {
		seq++
		c.Push(int64(r.ExpFloat64()*1e9), seq, &evs[i])
	}
	room := func() int { // heap in use, bytes
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return int(ms.HeapInuse)
	}
	var at []int
	for step := 0; step < 20; step++ {
		for range 250000 {
			e, _ := c.PopUntil(1 << 62)
			seq++
			c.Push(e.When+int64(r.ExpFloat64()*1e9), seq, e.Ev)
		}
		at = append(at, room())
	}
	t.Logf("heap in use per pending entry after 0.25M, 2.5M, 5M events: %d %d %d bytes",
		at[0]/n, at[9]/n, at[19]/n)
	if at[19] > at[9]*11/10 {
		t.Errorf("heap in use %d bytes after 5M events, %d after 2.5M, with %d pending: still growing", at[19], at[9], n)
	}
}
