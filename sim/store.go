package sim

import "slices"

// Store holds items of type T up to a capacity: a buffer between stations, a
// queue of parts, a rack of tools. Getters wait while no item suits them;
// putters wait while the store is full. Items leave in arrival order among
// those a getter accepts.
type Store[T any] struct {
	Name string

	env     *Env
	cap     int
	items   []T
	head    int
	getters []getter[T] // waiting, in arrival order from gh; served ones are zeroed
	gh      int
	putters []putter[T]

	Level TimeWeighted // items held
}

type getter[T any] struct {
	p      *Proc
	dst    *T
	filter func(T) bool
}

type putter[T any] struct {
	p    *Proc
	item T
}

// NewStore returns a store holding at most capacity items; capacity <= 0
// means unbounded.
func NewStore[T any](e *Env, name string, capacity int) *Store[T] {
	s := &Store[T]{Name: name, env: e, cap: capacity}
	s.Level.Reset(e.now, 0)
	return s
}

// Len returns the number of items held.
func (s *Store[T]) Len() int { return len(s.items) - s.head }

// Capacity returns the capacity; 0 means unbounded.
func (s *Store[T]) Capacity() int { return s.cap }

// Full reports whether a Put would wait.
func (s *Store[T]) Full() bool { return s.cap > 0 && s.Len() >= s.cap }

// Items returns the held items in order. The slice aliases the store: do not
// keep it across events.
func (s *Store[T]) Items() []T { return s.items[s.head:] }

// Put adds item, waiting while the store is full, then resumes p at step
// next.
func (s *Store[T]) Put(p *Proc, item T, next int) {
	p.block(next)
	if !s.Full() && len(s.putters) == 0 {
		s.push(item)
		s.match()
		p.resume()
		return
	}
	s.putters = append(s.putters, putter[T]{p: p, item: item})
	p.wq = s
	p.armPatience()
}

// TryPut adds item without waiting and reports whether it fit. Sources
// outside any process (arrivals, a live feed) use it.
func (s *Store[T]) TryPut(item T) bool {
	if s.Full() || len(s.putters) > 0 {
		return false
	}
	s.push(item)
	s.match()
	return true
}

// Get takes the first item into *dst, waiting while the store is empty,
// then resumes p at step next.
func (s *Store[T]) Get(p *Proc, dst *T, next int) { s.GetFunc(p, dst, nil, next) }

// GetFunc takes the first item for which filter returns true (any item if
// filter is nil) into *dst, waiting until there is one, then resumes p at
// step next. Waiting getters are served in arrival order; a getter whose
// filter matches nothing does not block those behind it.
func (s *Store[T]) GetFunc(p *Proc, dst *T, filter func(T) bool, next int) {
	p.block(next)
	if s.gh == len(s.getters) && s.Len() > 0 {
		// no one waits before p: served at once if an item suits it
		if i := s.find(filter); i >= 0 {
			*dst = s.take(i)
			p.resume()
			s.admit()
			s.match()
			return
		}
	}
	s.getters = append(s.getters, getter[T]{p: p, dst: dst, filter: filter})
	p.wq = s
	s.match()
	if p.wq != nil {
		p.armPatience()
	}
}

// TryGet takes the first item for which filter returns true (any if nil)
// without waiting.
func (s *Store[T]) TryGet(filter func(T) bool) (T, bool) {
	var zero T
	if s.gh < len(s.getters) && filter == nil {
		return zero, false // waiting processes come first
	}
	i := s.find(filter)
	if i < 0 {
		return zero, false
	}
	it := s.take(i)
	s.admit()
	return it, true
}

func (s *Store[T]) push(item T) {
	if s.head > 0 && s.head == len(s.items) {
		clear(s.items)
		s.items, s.head = s.items[:0], 0
	} else if s.head > 32 && s.head*2 > len(s.items) {
		n := copy(s.items, s.items[s.head:])
		clear(s.items[n:])
		s.items, s.head = s.items[:n], 0
	}
	s.items = append(s.items, item)
	s.Level.Set(s.env.now, float64(s.Len()))
}

func (s *Store[T]) find(filter func(T) bool) int {
	if filter == nil {
		if s.head < len(s.items) {
			return s.head
		}
		return -1
	}
	for i := s.head; i < len(s.items); i++ {
		if filter == nil || filter(s.items[i]) {
			return i
		}
	}
	return -1
}

func (s *Store[T]) take(i int) T {
	it := s.items[i]
	var zero T
	if i == s.head {
		s.items[i] = zero
		s.head++
	} else {
		copy(s.items[i:], s.items[i+1:])
		s.items[len(s.items)-1] = zero
		s.items = s.items[:len(s.items)-1]
	}
	s.Level.Set(s.env.now, float64(s.Len()))
	return it
}

// match serves waiting getters from the items held and admits waiting
// putters into the room made; it reports whether anything moved.
func (s *Store[T]) match() bool {
	moved := false
	for {
		served := false
		for gi := s.gh; gi < len(s.getters) && s.Len() > 0; gi++ {
			g := &s.getters[gi]
			if g.p == nil {
				continue // served already, or gave up
			}
			i := s.find(g.filter)
			if i < 0 {
				continue
			}
			*g.dst = s.take(i)
			p := g.p
			*g = getter[T]{}
			p.wq = nil
			p.resume()
			served, moved = true, true
		}
		s.trimGetters()
		if len(s.putters) == 0 && !served {
			return moved
		}
		if !s.admit() && !served {
			return moved
		}
		moved = true
	}
}

// trimGetters drops the served getters at the head of the line.
func (s *Store[T]) trimGetters() {
	for s.gh < len(s.getters) && s.getters[s.gh].p == nil {
		s.gh++
	}
	if s.gh == len(s.getters) {
		s.getters, s.gh = s.getters[:0], 0
	} else if s.gh > 32 && 2*s.gh > len(s.getters) {
		n := copy(s.getters, s.getters[s.gh:])
		clear(s.getters[n:])
		s.getters, s.gh = s.getters[:n], 0
	}
}

// admit moves waiting putters' items in while there is room.
func (s *Store[T]) admit() bool {
	admitted := false
	for len(s.putters) > 0 && !s.Full() {
		pt := s.putters[0]
		n := copy(s.putters, s.putters[1:])
		s.putters[n] = putter[T]{}
		s.putters = s.putters[:n]
		s.push(pt.item)
		pt.p.wq = nil
		pt.p.resume()
		admitted = true
	}
	return admitted
}

func (s *Store[T]) cancelWait(p *Proc) {
	for i := s.gh; i < len(s.getters); i++ {
		if s.getters[i].p == p {
			s.getters[i] = getter[T]{}
			s.trimGetters()
			return
		}
	}
	for i := range s.putters {
		if s.putters[i].p == p {
			s.putters = slices.Delete(s.putters, i, i+1)
			return
		}
	}
}

// Container holds a continuous amount (varnish in a tank, kWh in a battery)
// between 0 and a capacity. Get waits until the amount is there; Put waits
// until there is room.
type Container struct {
	Name string

	env     *Env
	cap     float64
	level   float64
	getters queue
	putters queue

	Level TimeWeighted
}

// NewContainer returns a container with capacity (<= 0: unbounded) and an
// initial level.
func (e *Env) NewContainer(name string, capacity, initial float64) *Container {
	c := &Container{Name: name, env: e, cap: capacity, level: initial}
	c.Level.Reset(e.now, initial)
	return c
}

// Amount returns the current level.
func (c *Container) Amount() float64 { return c.level }

func (c *Container) room() float64 {
	if c.cap <= 0 {
		return 1e308
	}
	return c.cap - c.level
}

// Get removes amount, waiting until the level allows it, then resumes p at
// step next. Requests are served in order: a large request at the head
// makes later small ones wait.
func (c *Container) Get(p *Proc, amount float64, next int) {
	p.block(next)
	p.amount = amount
	c.getters.pushBack(p)
	p.wq = c
	c.settle()
	if p.wq != nil {
		p.armPatience()
	}
}

// Put adds amount, waiting until there is room, then resumes p at step next.
func (c *Container) Put(p *Proc, amount float64, next int) {
	p.block(next)
	p.amount = amount
	c.putters.pushBack(p)
	p.wq = c
	c.settle()
	if p.wq != nil {
		p.armPatience()
	}
}

// Add changes the level by delta from outside any process, clamped to
// [0, capacity], and serves waiters.
func (c *Container) Add(delta float64) {
	c.level += delta
	if c.level < 0 {
		c.level = 0
	}
	if c.cap > 0 && c.level > c.cap {
		c.level = c.cap
	}
	c.Level.Set(c.env.now, c.level)
	c.settle()
}

func (c *Container) settle() {
	for moved := true; moved; {
		moved = false
		if p := c.getters.head; p != nil && p.amount <= c.level {
			c.getters.remove(p)
			c.level -= p.amount
			p.wq = nil
			p.resume()
			moved = true
		}
		if p := c.putters.head; p != nil && p.amount <= c.room() {
			c.putters.remove(p)
			c.level += p.amount
			p.wq = nil
			p.resume()
			moved = true
		}
	}
	c.Level.Set(c.env.now, c.level)
}

func (c *Container) cancelWait(p *Proc) {
	for q := c.getters.head; q != nil; q = q.qnext {
		if q == p {
			c.getters.remove(p)
			c.settle()
			return
		}
	}
	c.putters.remove(p)
	c.settle()
}
