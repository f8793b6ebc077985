package ingest

import (
	"sync"

	"twin/plant/event"
)

// DefaultSubscriberQueue is how many events a subscriber may have waiting
// by default (Options.SubscriberQueue): 65,536, several seconds of a large
// plant's events.
const DefaultSubscriberQueue = 1 << 16

// subscriber is one subscription: a bounded queue that ingest fills under
// the state's lock (never waiting) and a goroutine of its own that hands
// the events to fn in that order. A full queue drops the events that do
// not fit and counts them.
type subscriber struct {
	fn  func(event.Event)
	max int

	mu sync.Mutex
	q  []event.Event // waiting, oldest first

	kick chan struct{} // capacity 1: events are waiting
	stop chan struct{} // closed by cancel: deliver what waits and return
	done chan struct{} // closed when the goroutine has returned
	once sync.Once
}

func newSubscriber(fn func(event.Event), max int) *subscriber {
	s := &subscriber{fn: fn, max: max, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	return s
}

// push queues evs, as many as there is room for, and returns how many it
// dropped. It never blocks on the subscriber.
func (s *subscriber) push(evs []event.Event) (dropped int) {
	s.mu.Lock()
	n := min(len(evs), s.max-len(s.q))
	s.q = append(s.q, evs[:n]...)
	s.mu.Unlock()
	if n > 0 {
		select {
		case s.kick <- struct{}{}:
		default: // nudged already
		}
	}
	return len(evs) - n
}

// run delivers the queued events in batches until stop, and then what is
// left.
func (s *subscriber) run() {
	defer close(s.done)
	var batch []event.Event
	for {
		select {
		case <-s.kick:
		case <-s.stop:
			s.deliver(batch)
			return
		}
		batch = s.deliver(batch)
	}
}

// deliver hands every queued event to fn; it returns the slice to reuse.
func (s *subscriber) deliver(spare []event.Event) []event.Event {
	for {
		s.mu.Lock()
		batch := s.q
		s.q = spare[:0]
		s.mu.Unlock()
		if len(batch) == 0 {
			return batch
		}
		for _, e := range batch {
			s.fn(e)
		}
		clear(batch) // the events' strings are no longer held
		spare = batch
	}
}

// cancel stops the subscription: what is queued is delivered, and cancel
// returns once fn has returned for the last time.
func (s *subscriber) cancel() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}
