// Package calendar is the event calendar of the simulation kernel: a
// monotone priority queue of (when, key, event) entries.
//
// Entries leave in order of When, then Key. The kernel packs a priority and
// an insertion sequence number into Key, so ties resolve deterministically.
//
// A few entries (up to 16) sit in a binary heap: for the two or three of a
// single queue a heap's two compares beat any bucketing. Past that the
// calendar turns into a multi-level radix heap, and back into a heap below
// 4 entries (the gap keeps it from switching back and forth).
//
// Simulated time never runs backwards, so the calendar only has to accept
// entries at or after the last time it handed out (its base). The radix
// heap keeps entries in buckets by the highest 6-bit digit in which their
// time differs from the base: pushing is O(1), and popping moves the
// entries of the lowest bucket down a level at most once per digit (at
// most 11 times over an entry's life, usually 1 to 3). Entries whose time
// equals the base wait in a small binary heap ordered by Key. Against a
// 4-ary heap on this machine the pop+push pair costs about half at 1,000
// pending entries and a third at 100,000: there are no unpredictable
// comparison branches to mispredict.
//
// When a bucket of up to 64 entries is spread over the level below, its
// entries are the next to pop: the calendar touches their events then,
// all at once, so that their cache misses overlap instead of stalling the
// kernel one by one as each fires (at 100,000 pending events, each in a
// line of its own, that stall was about 40% of a hold model's time).
//
// The calendar does not remove from the middle: the kernel cancels lazily
// and recognises stale entries when they are popped.
//
// Storage: every bucket starts with room for a few entries carved from one
// array (Init). A bucket that needs more takes twice its room from a pool
// of free storage (by size), or at once half the room it needed the last
// time it filled (a hint per bucket: doubling up to it copied each entry
// about once more; the whole room at once held twice the memory), and a
// bucket emptied gives its storage back.
// Memory thus follows the entries pending, whatever the length of the run:
// a bucket that once held a burst does not keep it (a hold model at
// 100,000 pending entries kept about 64 entries of room per entry after
// 64M events before, and growing; about 6 now, flat), and a long run stops
// allocating once the pool holds what its busiest moments need. Popped entries are not cleared from bucket storage
// (clearing costs about a tenth of a pop), so a calendar can keep up to
// its capacity of finished events reachable until their slots are reused.
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
	radix bool              // the entries are in the radix heap, not in sm
	sm    [heapMax]Entry[E] // binary heap on (When, Key) of the n entries, while few
	exact []Entry[E]        // binary heap on Key
	lmask uint64            // levels with a non-empty bucket
	mask  [levels]uint64
	bk    [1024]bucket[E]  // bucket (level l, digit b) at l*64+b; 1024 so a mask drops bounds checks
	pool  [40][][]Entry[E] // free bucket storage by log2 of its capacity
	live  []Entry[E]       // Filter's scratch, kept for the next
	hint  [1024]uint8      // by bucket: log2 of the room it needed when it last filled
}

// The calendar is a binary heap up to heapMax entries (a power of two),
// a radix heap from then on until fewer than heapMin are left.
const (
	heapMax = 16
	heapMin = 4
)

// bucket keeps its minimum beside its entries: one cache line for both.
type bucket[E any] struct {
	min int64
	e   []Entry[E]
}

// touchMax is the largest bucket whose events are touched when it is
// spread over the level below.
const touchMax = 64

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
// schedules into the past, and the base never passes the clock. O(1)
// (O(log 16) while few entries are pending).
func (c *Calendar[E]) Push(when int64, key uint64, ev *E) {
	if !c.radix {
		if n := c.n; n < heapMax {
			c.n = n + 1
			i := n
			for i > 0 {
				p := (i - 1) >> 1
				q := &c.sm[p&(heapMax-1)]
				if q.When < when || q.When == when && q.Key < key {
					break
				}
				c.sm[i&(heapMax-1)] = *q
				i = p
			}
			c.sm[i&(heapMax-1)] = Entry[E]{When: when, Key: key, Ev: ev}
			return
		}
		c.toRadix()
	}
	c.n++
	d := uint64(when ^ c.base)
	if d == 0 {
		c.pushExact(Entry[E]{When: when, Key: key, Ev: ev})
		return
	}
	n := bits.Len64(d)
	bi := index(when, n)
	bk := &c.bk[bi]
	if len(bk.e) == 0 {
		c.mark(levelOf[n], when)
		bk.min = when
	} else if when < bk.min {
		bk.min = when
	}
	if len(bk.e) == cap(bk.e) {
		c.grow(bk, bi)
	}
	bk.e = append(bk.e, Entry[E]{When: when, Key: key, Ev: ev})
}

// grow gives a full bucket (index bi) twice its room, or the room it
// needed the last time it filled, from the pool when it can.
func (c *Calendar[E]) grow(bk *bucket[E], bi int) {
	old := bk.e
	cl := max(bits.Len(uint(max(2*cap(old), bucketRoom)))-1, int(c.hint[bi&1023]))
	var s []Entry[E]
	for k := cl; k < len(c.pool); k++ { // idle room, however large, saves copies
		if p := c.pool[k]; len(p) > 0 {
			s = p[len(p)-1]
			p[len(p)-1] = nil
			c.pool[k] = p[:len(p)-1]
			break
		}
	}
	if s == nil {
		s = make([]Entry[E], 0, 1<<cl)
	}
	bk.e = append(s, old...)
	if cap(old) > 0 {
		c.release(old)
	}
}

// release puts bucket storage into the pool.
func (c *Calendar[E]) release(s []Entry[E]) {
	cl := bits.Len(uint(cap(s))) - 1
	c.pool[cl] = append(c.pool[cl], s[:0:1<<cl])
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
	bi := index(e.When, n)
	bk := &c.bk[bi]
	if len(bk.e) == 0 {
		c.mark(levelOf[n], e.When)
		bk.min = e.When
	} else if e.When < bk.min {
		bk.min = e.When
	}
	if len(bk.e) == cap(bk.e) {
		c.grow(bk, bi)
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
	if !c.radix {
		if c.n == 0 {
			return 0, false
		}
		return c.sm[0].When, true
	}
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
	if !c.radix {
		if c.n == 0 || c.sm[0].When > horizon {
			return Entry[E]{}, false
		}
		top := c.sm[0]
		n := c.n - 1
		c.n = n
		c.base = top.When
		if n > 0 { // the last entry sifts down from the top
			e := &c.sm[n&(heapMax-1)]
			i := 0
			for {
				l := 2*i + 1
				if l >= n {
					break
				}
				a := &c.sm[l&(heapMax-1)]
				if r := l + 1; r < n {
					if b := &c.sm[r&(heapMax-1)]; b.When < a.When || b.When == a.When && b.Key < a.Key {
						l, a = r, b
					}
				}
				if e.When < a.When || e.When == a.When && e.Key < a.Key {
					break
				}
				c.sm[i&(heapMax-1)] = *a
				i = l
			}
			if i != n {
				c.sm[i&(heapMax-1)] = *e
			}
		}
		return top, true
	}
	if c.n < heapMin {
		c.toHeap()
		return c.PopUntil(horizon)
	}
	for len(c.exact) == 0 {
		if c.lmask == 0 {
			return Entry[E]{}, false
		}
		l := bits.TrailingZeros64(c.lmask)
		b := bits.TrailingZeros64(c.mask[l])
		bk := &c.bk[(l*buckets+b)&1023]
		bk0 := bk
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
		if len(src) <= touchMax {
			// these entries pop soon: bring their events into the cache
			// now, all at once, rather than one miss after another as
			// each pops (a nil check is a load)
			for i := range src {
				_ = *src[i].Ev
			}
		}
		for i := range src {
			e := &src[i]
			d := uint64(e.When ^ c.base)
			if d == 0 {
				c.pushExact(*e)
				continue
			}
			n := bits.Len64(d)
			bi := index(e.When, n)
			bk := &c.bk[bi]
			if len(bk.e) == 0 {
				c.mark(levelOf[n], e.When)
				bk.min = e.When
			} else if e.When < bk.min {
				bk.min = e.When
			}
			if len(bk.e) == cap(bk.e) {
				c.grow(bk, bi)
			}
			bk.e = append(bk.e, *e)
		}
		if cap(src) > bucketRoom && len(bk0.e) == 0 {
			// its entries went down a level: the room goes back to the
			// pool, for the buckets filling now; the bucket remembers
			// half of what it needed, to take that at once next time
			// instead of doubling (and copying) up to it
			c.hint[(l*buckets+b)&1023] = uint8(max(bits.Len(uint(len(src)))-2, 0))
			bk0.e = nil
			c.release(src)
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
	if !c.radix {
		k := 0
		for _, e := range c.sm[:c.n] {
			if keep(e) {
				c.sm[k] = e
				k++
			}
		}
		clear(c.sm[k:])
		c.n = k
		c.heapify()
		return
	}
	live := c.live[:0]
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
	clear(live) // the events filtered out may be collected
	c.live = live[:0]
	if c.n < heapMin {
		c.toHeap()
	}
}

// toRadix moves the heap's entries into the radix heap.
func (c *Calendar[E]) toRadix() {
	c.radix = true
	for _, e := range c.sm[:c.n] {
		c.put(e)
	}
	clear(c.sm[:])
}

// toHeap moves the radix heap's (fewer than heapMin) entries into the
// binary heap.
func (c *Calendar[E]) toHeap() {
	k := copy(c.sm[:], c.exact)
	clear(c.exact)
	c.exact = c.exact[:0]
	for l := 0; l < levels; l++ {
		for m := c.mask[l]; m != 0; m &= m - 1 {
			b := bits.TrailingZeros64(m)
			bk := &c.bk[l*buckets+b]
			k += copy(c.sm[k:], bk.e)
			bk.e = bk.e[:0]
		}
		c.mask[l] = 0
	}
	c.lmask = 0
	c.radix = false
	c.heapify()
}

// heapify makes the binary heap's n entries a heap.
func (c *Calendar[E]) heapify() {
	h := c.sm[:c.n]
	for i := len(h)/2 - 1; i >= 0; i-- {
		e := h[i]
		j := i
		for {
			l := 2*j + 1
			if l >= len(h) {
				break
			}
			if r := l + 1; r < len(h) && less(&h[r], &h[l]) {
				l = r
			}
			if !less(&h[l], &e) {
				break
			}
			h[j] = h[l]
			j = l
		}
		h[j] = e
	}
}

// less orders entries by When, then Key.
func less[E any](a, b *Entry[E]) bool {
	return a.When < b.When || a.When == b.When && a.Key < b.Key
}

// Reset empties the calendar, sets its base to 0 and keeps its storage.
func (c *Calendar[E]) Reset() {
	c.Filter(func(Entry[E]) bool { return false })
	c.base = 0
}
