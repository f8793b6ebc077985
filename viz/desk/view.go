package desk

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"twin/plant/event"
	"twin/twin/state"
	"twin/twin/store"
	"twin/viz/feed"
	"twin/viz/scene"
)

// A View is one plant on screen: where its scenes come from. Every method
// returns at once (the viewer calls them in its frame): slow work, such as
// rebuilding the state at a time from history, happens in the view's own
// goroutine and shows up in a later frame.
type View interface {
	Title() string
	Scene() *scene.Scene    // the scene at the current position; nil until there is one
	Span() (from, to int64) // the history a timeline can scrub; zero: none
	Goto(t int64)           // show the plant at t; 0: follow (the live plant, or the end)
	At() int64              // the position asked for; 0: following
	// History returns the state changes of station path up to the current
	// position, oldest first (as far back as the view knows).
	History(path string) []feed.Change
	Status() string
	// Close stops the view's goroutines and waits for them.
	Close()
}

// LiveView follows a twin's WebSocket feed.
type LiveView struct {
	C    *feed.Client
	Name string
	mu   sync.Mutex
	at   int64
}

// NewLiveView dials url (ws://host/ws?token=…).
func NewLiveView(ctx context.Context, url, name string) *LiveView {
	return &LiveView{C: feed.Dial(ctx, url+"&rate=30"), Name: name}
}

func (v *LiveView) Title() string { return v.Name }

func (v *LiveView) Scene() *scene.Scene { return v.C.Scene() }

func (v *LiveView) Span() (int64, int64) { return v.C.Span() }

func (v *LiveView) Goto(t int64) {
	v.mu.Lock()
	same := v.at == t
	v.at = t
	v.mu.Unlock()
	if !same {
		v.C.Goto(t)
	}
}

func (v *LiveView) At() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.at
}

func (v *LiveView) History(path string) []feed.Change { return v.C.Changes(path) }

func (v *LiveView) Status() string { return v.C.Status() }

// Close hangs up the feed and waits for its client's goroutines.
func (v *LiveView) Close() { v.C.Close() }

// TimelineView shows a recorded history (a scenario run on a tape, or a
// store): a worker rebuilds the scene at the position asked for, until
// Close.
type TimelineView struct {
	Name string
	h    *feed.History
	hist func(path string, to int64) []feed.Change

	mu    sync.Mutex
	want  int64 // position asked for (0: the end)
	shown int64 // position of sc
	sc    *scene.Scene
	wake  chan struct{} // capacity 1: a position was asked for
	stop  chan struct{} // closed by Close
	done  chan struct{} // closed when the worker has returned
	once  sync.Once
}

func newTimeline(name string, h *feed.History, hist func(string, int64) []feed.Change) *TimelineView {
	v := &TimelineView{Name: name, h: h, hist: hist, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), shown: -1}
	go v.work()
	v.wake <- struct{}{}
	return v
}

func (v *TimelineView) work() {
	defer close(v.done)
	for {
		select {
		case <-v.stop:
			return
		case <-v.wake:
		}
		v.mu.Lock()
		t := v.want
		v.mu.Unlock()
		if t == 0 {
			_, t = v.h.Span()
		}
		sc := v.h.SceneAt(t)
		v.mu.Lock()
		v.sc, v.shown = sc, t
		v.mu.Unlock()
	}
}

// Close stops the worker and waits for it (a scene it is building is
// finished first). It is safe to call twice.
func (v *TimelineView) Close() {
	v.once.Do(func() { close(v.stop) })
	<-v.done
}

// TapeView plays a recorded run (a scenario variant).
func TapeView(name string, tp *state.Tape, l *scene.Layout) *TimelineView {
	return newTimeline(name, feed.TapeHistory(tp, l, nil), func(path string, to int64) []feed.Change {
		var out []feed.Change
		for _, e := range tp.Events() {
			if e.Time > to {
				break
			}
			if e.Kind == event.State && e.Asset == path {
				out = append(out, feed.Change{Path: path, State: event.MachineState(e.Value).String(), Time: e.Time})
			}
		}
		return out
	})
}

// StoreView replays a twin's history from its store.
func StoreView(name string, st *store.Store, l *scene.Layout, log *slog.Logger) *TimelineView {
	return newTimeline(name, feed.StoreHistory(st, l, nil, log), func(path string, to int64) []feed.Change {
		var out []feed.Change
		st.AssetRange(path, to-7*24*int64(time.Hour), to+1, func(e event.Event) error {
			if e.Kind == event.State {
				out = append(out, feed.Change{Path: path, State: event.MachineState(e.Value).String(), Time: e.Time})
			}
			return nil
		})
		return out
	})
}

func (v *TimelineView) Title() string { return v.Name }

func (v *TimelineView) Scene() *scene.Scene {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.sc
}

func (v *TimelineView) Span() (int64, int64) { return v.h.Span() }

func (v *TimelineView) Goto(t int64) {
	v.mu.Lock()
	if v.want == t {
		v.mu.Unlock()
		return
	}
	v.want = t
	v.mu.Unlock()
	select {
	case v.wake <- struct{}{}:
	default: // the worker will pick up the latest position
	}
}

func (v *TimelineView) At() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.want
}

func (v *TimelineView) History(path string) []feed.Change {
	v.mu.Lock()
	t := v.shown
	v.mu.Unlock()
	if t <= 0 {
		return nil
	}
	return v.hist(path, t)
}

func (v *TimelineView) Status() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.sc == nil {
		return "loading"
	}
	return ""
}

// StaticView shows one fixed scene (tests, screenshots).
type StaticView struct {
	Name string
	S    *scene.Scene
}

func (v *StaticView) Title() string                { return v.Name }
func (v *StaticView) Scene() *scene.Scene          { return v.S }
func (v *StaticView) Span() (int64, int64)         { return 0, 0 }
func (v *StaticView) Goto(int64)                   {}
func (v *StaticView) At() int64                    { return 0 }
func (v *StaticView) History(string) []feed.Change { return nil }
func (v *StaticView) Status() string               { return "" }
func (v *StaticView) Close()                       {}
