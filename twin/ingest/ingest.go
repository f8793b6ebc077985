// Package ingest is the twin's front door: every event from a connector
// (OPC UA, MQTT, the virtual plant) or from a replay passes through an
// Ingest, which folds it into the live state, hands it to the history
// store, and tells subscribers (the views' feed, the MES records).
//
// Goroutines and queues: an Ingest has one writer goroutine (the store's
// queue: 1,024 batches; a full queue makes EmitBatch wait, and counts it,
// Stats.QueueFull: the store's durability is the connectors' back
// pressure) and one goroutine per subscription (its own queue of
// Options.SubscriberQueue events; a slow subscriber's overflow is dropped
// and counted, Stats.SubscriberDropped, and never delays ingest or the
// other subscribers). Close stops and waits for all of them.
//
// Durability: Emit applies an event at once and queues it for the store;
// EmitBatch with an ack calls the ack only after the store has made the
// batch durable, so a connector that acknowledges a message upstream (an
// MQTT PUBACK) from that ack never acknowledges an event that a crash
// could lose.
//
// Time: ingest owns the twin's receive clock (Options.Clock) and bounds
// the time every reading claims by it. A reading stamped more than
// MaxSkew ahead of the receive clock, or more than MaxAge behind it, is
// quarantined: it is replaced by a Fault event stamped with the receive
// time that keeps the reading, the time it claimed and what the connector
// received (see Quarantine), so nothing is lost, and it never reaches the
// state: one publisher with a bad clock cannot carry the twin's clock to
// 2100 (and the history with it, through retention). Quarantined
// readings are counted by reason (Stats.Quarantined) and logged at most
// once a minute per reason. Connectors check their readings themselves
// with the same Clock, because only they know the raw payload; ingest
// checks whatever reaches it unchecked.
//
//	in := ingest.New(st, nil, ingest.Options{Logger: log})
//	c, _ := mqtt.New(broker, in, mqtt.Options{Clock: in.Clock()})
package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"twin/plant/event"
	"twin/twin/state"
)

// Store is the part of the history store ingest needs: Append makes a
// batch durable (or fails) before it returns. A nil Store keeps no history.
type Store interface {
	Append(evs []event.Event) error
}

// Space is the guard of the store's disk (twin/disk.Guard): a batch the
// store refused or failed for lack of space is held, not failed, until
// the disk has room again, and written then.
type Space interface {
	// Failed reports whether err is a write refused or failed for lack
	// of space (and marks the disk full when it is).
	Failed(err error) bool
	// Wait returns once the disk has room, or with ctx's error.
	Wait(ctx context.Context) error
}

// Stats counts what ingest has seen.
type Stats struct {
	Events  uint64 `json:"events"`
	Faults  uint64 `json:"faults"` // Fault events: malformed input reported by connectors, and quarantined readings
	Stored  uint64 `json:"stored"`
	Failed  uint64 `json:"store_errors"`
	Batches uint64 `json:"batches"`
	// QueueFull counts the batches that waited for room in the store's
	// queue (the store was behind; ingest slowed down to its pace).
	QueueFull uint64 `json:"queue_full,omitempty"`
	// Held counts the times the store's writer held a batch because the
	// disk was full (it wrote it once the disk had room again).
	Held uint64 `json:"held_disk_full,omitempty"`
	// SubscriberDropped counts the events a subscriber did not get
	// because its queue was full (it was too slow).
	SubscriberDropped uint64 `json:"subscriber_dropped,omitempty"`
	// Quarantined counts the readings quarantined, by reason ("ahead",
	// "old"); reasons with none are left out.
	Quarantined map[string]uint64 `json:"quarantined,omitempty"`
}

// Options configure an Ingest.
type Options struct {
	Logger *slog.Logger // default slog.Default()
	// Clock is the receive clock and the bounds of readings' times; the
	// zero Clock is time.Now with the default bounds.
	Clock Clock
	// SubscriberQueue is how many events each subscriber may have waiting
	// before the next are dropped for it; 0 means DefaultSubscriberQueue.
	SubscriberQueue int
	// Space, when not nil, holds batches while the store's disk is full
	// (see Space); without it such a batch fails like any store error.
	Space Space
	// FoldLatency, if set, observes how long each batch takes to fold in
	// seconds: its guard, the state's apply and the subscribers' queues,
	// under the state's lock (the store's part is the store's own). A
	// prometheus.Histogram is one (twin/metrics).
	FoldLatency Observer
}

// Observer takes one measurement: a duration in seconds.
type Observer interface{ Observe(float64) }

// Ingest folds events into the state and the store.
type Ingest struct {
	log   *slog.Logger
	store Store
	clock Clock
	space Space
	// quit ends a wait for disk space (Close): what is still queued is
	// then failed, so that nothing waits for a disk that stays full.
	quit    context.Context
	quitNow context.CancelFunc
	fold    Observer // nil: not measured

	mu       sync.RWMutex
	st       *state.State
	subs     map[int]*subscriber
	next     int
	subQueue int

	q         chan batch
	qmu       sync.RWMutex // held to send on q; Close takes it to close q
	wg        sync.WaitGroup
	closed    atomic.Bool
	events    atomic.Uint64
	faults    atomic.Uint64
	stored    atomic.Uint64
	failed    atomic.Uint64
	batches   atomic.Uint64
	queueFull atomic.Uint64
	held      atomic.Uint64
	subDrops  atomic.Uint64
	fullLog   atomic.Int64 // when a full store queue was last logged (wall ns)
	dropLog   atomic.Int64 // when a subscriber's drops were last logged (wall ns)

	quarantined [numReasons]atomic.Uint64
	logged      [numReasons]atomic.Int64  // when a quarantine of this reason was last logged (wall ns)
	unlogged    [numReasons]atomic.Uint64 // quarantined since, not logged
}

type batch struct {
	evs []event.Event
	ack func(error)
}

// New starts an ingest writing to store (nil: no history) from the state
// st (nil: empty).
func New(store Store, st *state.State, opt Options) *Ingest {
	if st == nil {
		st = &state.State{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.SubscriberQueue <= 0 {
		opt.SubscriberQueue = DefaultSubscriberQueue
	}
	in := &Ingest{log: opt.Logger, store: store, clock: opt.Clock.WithDefaults(), space: opt.Space, fold: opt.FoldLatency, st: st, subs: map[int]*subscriber{},
		subQueue: opt.SubscriberQueue, q: make(chan batch, 1024)}
	in.quit, in.quitNow = context.WithCancel(context.Background())
	in.wg.Add(1)
	go in.writer()
	return in
}

// Emit ingests one event without waiting for the store.
func (in *Ingest) Emit(e event.Event) { in.EmitBatch([]event.Event{e}, nil) }

// EmitBatch ingests evs: the state sees them at once, the subscribers'
// queues get them; ack (if not nil) is called once the store holds them
// durably, or with the store's error. A reading stamped out of the
// clock's bounds is quarantined: EmitBatch replaces it in evs by its
// Fault. The batch must not be changed afterwards. EmitBatch waits only
// when the store's queue is full (counted in Stats.QueueFull).
func (in *Ingest) EmitBatch(evs []event.Event, ack func(error)) {
	in.qmu.RLock()
	defer in.qmu.RUnlock()
	if in.closed.Load() {
		if ack != nil {
			ack(errClosed)
		}
		return
	}
	var t0 time.Time
	if in.fold != nil {
		t0 = time.Now()
	}
	in.guard(evs)
	dropped := 0
	in.mu.Lock()
	for _, e := range evs {
		in.st.Apply(e)
		if e.Kind == event.Fault {
			in.faults.Add(1)
		}
	}
	for _, s := range in.subs {
		dropped += s.push(evs)
	}
	in.mu.Unlock()
	if in.fold != nil {
		in.fold.Observe(time.Since(t0).Seconds())
	}
	in.events.Add(uint64(len(evs)))
	if dropped > 0 {
		n := in.subDrops.Add(uint64(dropped))
		warnEveryMinute(in.log, &in.dropLog, "ingest: a subscriber is too slow: events dropped for it", "dropped", n)
	}
	b := batch{evs, ack}
	select {
	case in.q <- b:
	default:
		n := in.queueFull.Add(1)
		warnEveryMinute(in.log, &in.fullLog, "ingest: the history store is behind: connectors wait for it", "waits", n)
		in.q <- b
	}
}

// Flush returns once every batch emitted before it has been written to
// the store (nil, or the error of the last write it waited for), or with
// ctx's error; it fails once the Ingest is closed. Emit does not wait for
// the store: a reader of the history that must see everything the
// sources said up to now (a summary when they have stopped) flushes
// first.
func (in *Ingest) Flush(ctx context.Context) error {
	done := make(chan error, 1)
	in.qmu.RLock()
	if in.closed.Load() {
		in.qmu.RUnlock()
		return errClosed
	}
	select {
	case in.q <- batch{ack: func(err error) { done <- err }}: // behind every batch queued
	case <-ctx.Done():
		in.qmu.RUnlock()
		return fmt.Errorf("ingest: flush: %w", ctx.Err())
	}
	in.qmu.RUnlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("ingest: flush: %w", ctx.Err())
	}
}

// warnEveryMinute logs msg at most once a minute, *last holding when it
// last did (a slow store or a slow subscriber would otherwise flood the
// log); the counters say the rest.
func warnEveryMinute(log *slog.Logger, last *atomic.Int64, msg string, args ...any) {
	now := time.Now().UnixNano()
	was := last.Load()
	if was != 0 && now-was < int64(time.Minute) || !last.CompareAndSwap(was, now) {
		return
	}
	log.Warn(msg, args...)
}

// guard quarantines the readings of evs stamped out of bounds and counts
// the quarantine Faults (the connectors' and its own). Per event it costs
// a kind test and two comparisons; the receive clock is read once.
func (in *Ingest) guard(evs []event.Event) {
	c := in.clock
	now := c.Now().UnixNano()
	for i := range evs {
		e := &evs[i]
		if e.Kind == event.Fault {
			if r := ReasonOf(e); r != InBounds { // a connector's quarantine
				in.quarantine(r, e)
			}
			continue
		}
		if r := c.Check(e.Time, now); r != InBounds {
			*e = Quarantine(*e, r, now, "")
			in.quarantine(r, e)
		}
	}
}

// quarantine counts a quarantined reading and logs it, at most once a
// minute per reason (with how many were not logged in between), so that
// a publisher with a broken clock cannot flood the log.
func (in *Ingest) quarantine(r Reason, e *event.Event) {
	n := in.quarantined[r].Add(1)
	now := time.Now().UnixNano()
	last := in.logged[r].Load()
	if last != 0 && now-last < int64(time.Minute) || !in.logged[r].CompareAndSwap(last, now) {
		in.unlogged[r].Add(1)
		return
	}
	in.log.Warn("ingest: reading quarantined, its time is out of bounds (kept in the history as a fault)",
		"reason", r.String(), "asset", e.Asset, "fault", e.Ref, "quarantined", n, "not logged since the last", in.unlogged[r].Swap(0),
		"max_skew", in.clock.MaxSkew, "max_age", in.clock.MaxAge)
}

// Clock returns the receive clock and its bounds, with the defaults
// filled in: the connectors feeding this ingest use it.
func (in *Ingest) Clock() Clock { return in.clock }

// writer appends queued batches to the store, merging what has queued up
// into one durable write (group commit).
func (in *Ingest) writer() {
	defer in.wg.Done()
	var evs []event.Event
	var acks []func(error)
	for b := range in.q {
		evs = append(evs[:0], b.evs...)
		acks = append(acks[:0], b.ack)
	more:
		for len(evs) < 8192 {
			select {
			case b, ok := <-in.q:
				if !ok {
					break more
				}
				evs = append(evs, b.evs...)
				acks = append(acks, b.ack)
			default:
				break more
			}
		}
		var err error
		if in.store != nil && len(evs) > 0 { // a Flush alone writes nothing
			err = in.append(evs)
			in.batches.Add(1)
			if err != nil {
				in.failed.Add(uint64(len(evs)))
				in.log.Error("history store append failed", "events", len(evs), "err", err)
			} else {
				in.stored.Add(uint64(len(evs)))
			}
		}
		for _, a := range acks {
			if a != nil {
				a(err)
			}
		}
	}
}

// append appends evs to the store; while the store's disk is full it
// holds them and tries again when there is room (until Close).
func (in *Ingest) append(evs []event.Event) error {
	for {
		err := in.store.Append(evs)
		if err == nil || in.space == nil || !in.space.Failed(err) || in.quit.Err() != nil {
			return err
		}
		in.held.Add(1)
		in.log.Warn("ingest: the disk is full: readings are held (not acknowledged to their sources) until it has room", "events", len(evs), "err", err)
		if in.space.Wait(in.quit) != nil {
			return err
		}
	}
}

// Subscribe calls fn with every event ingested from now on, in the order
// they are applied to the state, one at a time, on a goroutine of the
// subscription's own: ingest queues the events for it (at most
// Options.SubscriberQueue waiting; what does not fit is dropped for this
// subscriber and counted) and never waits for fn. fn may call into the
// Ingest. The returned cancel stops the subscription: it delivers what is
// queued and returns once fn has returned for the last time (so it must
// not be called from fn); calling it again does nothing. Close cancels
// every subscription.
func (in *Ingest) Subscribe(fn func(event.Event)) (cancel func()) {
	s := newSubscriber(fn, in.subQueue)
	in.mu.Lock()
	id := in.next
	in.next++
	in.subs[id] = s
	in.mu.Unlock()
	return func() {
		in.mu.Lock()
		delete(in.subs, id)
		in.mu.Unlock()
		s.cancel()
	}
}

// View calls fn with the live state under a read lock; fn must not keep it.
func (in *Ingest) View(fn func(*state.State)) {
	in.mu.RLock()
	defer in.mu.RUnlock()
	fn(in.st)
}

// Snapshot returns a copy of the live state.
func (in *Ingest) Snapshot() *state.State {
	in.mu.RLock()
	defer in.mu.RUnlock()
	return in.st.Clone()
}

// Stats returns the counters.
func (in *Ingest) Stats() Stats {
	s := Stats{Events: in.events.Load(), Faults: in.faults.Load(), Stored: in.stored.Load(), Failed: in.failed.Load(), Batches: in.batches.Load(),
		QueueFull: in.queueFull.Load(), Held: in.held.Load(), SubscriberDropped: in.subDrops.Load()}
	for _, r := range Reasons() {
		if n := in.quarantined[r].Load(); n > 0 {
			if s.Quarantined == nil {
				s.Quarantined = map[string]uint64{}
			}
			s.Quarantined[r.String()] = n
		}
	}
	return s
}

// Close stops accepting events, waits until every queued batch has been
// written (and acked; while the disk is full, failed), and cancels the subscriptions (each delivers what
// it has queued). It is safe to call twice.
func (in *Ingest) Close() {
	in.quitNow() // a writer waiting for disk space fails what it holds: EmitBatch must not wait for it
	in.qmu.Lock()
	if in.closed.Swap(true) {
		in.qmu.Unlock()
		return
	}
	close(in.q)
	in.qmu.Unlock()
	in.wg.Wait()
	in.mu.Lock()
	subs := in.subs
	in.subs = map[int]*subscriber{}
	in.mu.Unlock()
	for _, s := range subs {
		s.cancel()
	}
}

type closedError struct{}

func (closedError) Error() string { return "ingest: closed" }

var errClosed error = closedError{}

// Unobserved records that from t on the twin does not know the state of
// the machines in its state (it was not watching: a restart after a stop
// or a crash): a State event "unknown" for each, of bad quality, so that
// the KPIs count the stretch until their next reading as unobserved and
// the views show it. A machine unknown already is left as it is.
func (in *Ingest) Unobserved(t int64) {
	var evs []event.Event
	in.View(func(s *state.State) {
		for _, a := range s.Assets() {
			if a.State != event.Unknown && a.Since != 0 {
				evs = append(evs, event.Event{Time: t, Kind: event.State, Quality: event.Bad, Source: event.Live, Asset: a.Path, Value: float64(event.Unknown)})
			}
		}
	})
	if len(evs) > 0 {
		in.EmitBatch(evs, nil)
	}
}
