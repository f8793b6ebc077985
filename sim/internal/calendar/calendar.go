// Package calendar is the event calendar of the simulation kernel: a
// monotone priority queue of (when, key, event) entries, built as a
// multi-level radix heap.
//
// Entries leave in order of When, then Key. The kernel packs a priority and
// an insertion sequence number into Key, so ties resolve deterministically.
//
// Simulated time never runs backwards, so the calendar only has to accept
// entries at or after the last time it handed out (its base). It keeps
// entries in buckets by the highest 6-bit digit in which their time differs
// from the base: pushing is O(1), and popping moves the entries of the
// lowest bucket down a level at most once per digit (at most 11 times over
// an entry's life, usually 1 to 3). Entries whose time equals the base wait
// in a small binary heap ordered by Key. Against a 4-ary heap on this
// machine the pop+push pair costs about half at 1,000 pending entries and a
// third at 100,000: there are no unpredictable comparison branches to
// mispredict.
//
// The calendar does not remove from the middle: the kernel cancels lazily
// and recognises stale entries when they are popped.
//
// Storage: every bucket starts with room for a few entries carved from one
// array (Init); a bucket that needs more grows once and keeps what it grew
// to, so a long run stops allocating once its busiest buckets have grown:
// allocations are bounded per calendar, not per event. Popped entries are
// not cleared from bucket storage (clearing costs about a tenth of a pop),
// so a calendar can keep up to its capacity of finished events reachable
// until their slots are reused.
package calendar

import "math/bits"

// Entry is one scheduled item.
type Entry[E any] struct {
	When int64
	Key  uint64
	Ev   *E
}

const (
	digit   = 6
	buckets = 1 << digit
	levels  = (63 + digit - 1) / digit
)

// For an entry whose time differs from the base in d, n = bits.Len64(d)
// gives its level (levelOf[n]), the bit position of that level's digit
// (shiftOf[n]) and the index of the level's first bucket (firstOf[n]):
// table lookups instead of a division on every push.
var (
	levelOf, shiftOf [65]uint8
	firstOf          [65]uint16
)

func init() {
	for n := 1; n <= 64; n++ {
		levelOf[n] = uint8((n - 1) / digit)
		shiftOf[n] = levelOf[n] * digit
		firstOf[n] = uint16(levelOf[n]) * buckets
	}
}

// index returns the bucket of time w at level l (by n = bits.Len64).
func index(w int64, n int) int {
	return (int(firstOf[n]) | int(uint64(w)>>shiftOf[n])&(buckets-1)) & 1023
}

// Calendar is a monotone priority queue. The zero value is an empty
// calendar with base 0.
type Calendar[E any] struct {
	base  int64 // no entry is earlier; entries in exact have When == base
	n     int
	exact []Entry[E] // binary heap on Key
	lmask uint64     // levels with a non-empty bucket
	mask  [levels]uint64
	bk    [1024]bucket[E] // bucket (level l, digit b) at l*64+b; 1024 so a mask drops bounds checks
}

// bucket keeps its minimum beside its entries: one cache line for both.
type bucket[E any] struct {
	min int64
	e   []Entry[E]
}

// bucketRoom is the room each bucket starts with.
const bucketRoom = 4

// Init gives every bucket its starting room from one allocation. A zero
// Calendar works without it, allocating each bucket's storage on first use.
func (c *Calendar[E]) Init() {
	all := make([]Entry[E], levels*buckets*bucketRoom)
	for i := 0; i < levels*buckets; i++ {
		c.bk[i].e = all[i*bucketRoom : i*bucketRoom : (i+1)*bucketRoom]
	}
	c.exact = make([]Entry[E], 0, 16)
}

// Len returns the number of entries.
func (c *Calendar[E]) Len() int { return c.n }

// Base returns the calendar's base: no entry is, or may be pushed, earlier.
func (c *Calendar[E]) Base() int64 { return c.base }

// Push adds an entry. when must not be earlier than Base: the kernel never
// schedules into the past, and the base never passes the clock. O(1).
func (c *Calendar[E]) Push(when int64, key uint64, ev *E) {
	c.n++
	d := uint64(when ^ c.base)
	if d == 0 {
		c.pushExact(Entry[E]{When: when, Key: key, Ev: ev})
		return
	}
	n := bits.Len64(d)
	bk := &c.bk[index(when, n)]
	if len(bk.e) == 0 {
		c.mark(levelOf[n], when)
		bk.min = when
	} else if when < bk.min {
		bk.min = when
	}
	bk.e = append(bk.e, Entry[E]{When: when, Key: key, Ev: ev})
}

// put files an entry relative to the base; Push and the redistribution
// loop inline the same steps.
func (c *Calendar[E]) put(e Entry[E]) {
	d := uint64(e.When ^ c.base)
	if d == 0 {
		c.pushExact(e)
		return
	}
	n := bits.Len64(d)
	bk := &c.bk[index(e.When, n)]
	if len(bk.e) == 0 {
		c.mark(levelOf[n], e.When)
		bk.min = e.When
	} else if e.When < bk.min {
		bk.min = e.When
	}
	bk.e = append(bk.e, e)
}

// mark records that bucket (l, digit of when) is no longer empty.
func (c *Calendar[E]) mark(l uint8, when int64) {
	c.mask[l] |= 1 << ((uint64(when) >> (l * digit)) & (buckets - 1))
	c.lmask |= 1 << l
}

func (c *Calendar[E]) pushExact(e Entry[E]) {
	h := append(c.exact, e)
	c.exact = h
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].Key <= e.Key {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
}

// Min returns the time of the earliest entry and whether there is one.
func (c *Calendar[E]) Min() (int64, bool) {
	if len(c.exact) > 0 {
		return c.base, true
	}
	if c.lmask == 0 {
		return 0, false
	}
	l := bits.TrailingZeros64(c.lmask)
	return c.bk[l*buckets+bits.TrailingZeros64(c.mask[l])].min, true
}

// PopUntil removes and returns the earliest entry if its time is at or
// before horizon. The base never rises above the horizon, so after a
// PopUntil(t) that found nothing, entries from t on may still be pushed.
// Amortised O(1).
func (c *Calendar[E]) PopUntil(horizon int64) (Entry[E], bool) {
	for len(c.exact) == 0 {
		if c.lmask == 0 {
			return Entry[E]{}, false
		}
		l := bits.TrailingZeros64(c.lmask)
		b := bits.TrailingZeros64(c.mask[l])
		bk := &c.bk[(l*buckets+b)&1023]
		if bk.min > horizon {
			return Entry[E]{}, false
		}
		c.base = bk.min
		src := bk.e
		bk.e = src[:0]
		c.mask[l] &^= 1 << b
		if c.mask[l] == 0 {
			c.lmask &^= 1 << l
		}
		if len(src) == 1 {
			c.n--
			return src[0], true
		}
		for i := range src {
			e := &src[i]
			d := uint64(e.When ^ c.base)
			if d == 0 {
				c.pushExact(*e)
				continue
			}
			n := bits.Len64(d)
			bk := &c.bk[index(e.When, n)]
			if len(bk.e) == 0 {
				c.mark(levelOf[n], e.When)
				bk.min = e.When
			} else if e.When < bk.min {
				bk.min = e.When
			}
			bk.e = append(bk.e, *e)
		}
	}
	c.n--
	return c.popExact(), true
}

func (c *Calendar[E]) popExact() Entry[E] {
	h := c.exact
	top := h[0]
	n := len(h) - 1
	if n == 0 {
		c.exact = h[:0]
		return top
	}
	e := h[n]
	h = h[:n]
	c.exact = h
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		if r := l + 1; r < n && h[r].Key < h[l].Key {
			l = r
		}
		if e.Key <= h[l].Key {
			break
		}
		h[i] = h[l]
		i = l
	}
	h[i] = e
	return top
}

// Filter keeps only the entries for which keep returns true. O(n). The
// kernel uses it to purge cancelled entries when they outnumber live ones.
func (c *Calendar[E]) Filter(keep func(Entry[E]) bool) {
	var live []Entry[E]
	for _, e := range c.exact {
		if keep(e) {
			live = append(live, e)
		}
	}
	c.exact = c.exact[:0]
	for l := 0; l < levels; l++ {
		for m := c.mask[l]; m != 0; m &= m - 1 {
			b := bits.TrailingZeros64(m)
			bk := &c.bk[l*buckets+b]
			for _, e := range bk.e {
				if keep(e) {
					live = append(live, e)
				}
			}
			bk.e = bk.e[:0]
		}
		c.mask[l] = 0
	}
	c.lmask = 0
	c.n = len(live)
	for _, e := range live {
		c.put(e)
	}
}

// Reset empties the calendar, sets its base to 0 and keeps its storage.
func (c *Calendar[E]) Reset() {
	c.Filter(func(Entry[E]) bool { return false })
	c.base = 0
}
