package feed

import (
	"log/slog"

	"twin/plant/event"
	"twin/twin/state"
	"twin/twin/window"
	"twin/viz/scene"
)

// Recorded is a twin's history as StoreHistory reads it: its time span
// and the state and events at any time. *store.Store (twin/store) is
// one; the feed itself knows nothing of how or where it is kept.
type Recorded interface {
	window.History
	// Bounds returns the times of the oldest and newest recorded events,
	// and whether there are any.
	Bounds() (first, last int64, ok bool, err error)
}

// StoreHistory lets clients seek in a twin's history (its store) while
// others follow `follow`; the scenes of the past say "replay". Errors
// reading the store are logged and show an empty plant.
func StoreHistory(st Recorded, l *scene.Layout, follow Source, log *slog.Logger) *History {
	return &History{
		Follow: follow,
		Bounds: func() (int64, int64) {
			first, last, _, err := st.Bounds()
			if err != nil {
				log.Warn("history bounds", "err", err)
			}
			return first, last
		},
		At: func(t int64) *scene.Scene {
			s, err := st.StateAt(t)
			if err != nil {
				log.Warn("history seek", "time", t, "err", err)
				s = &state.State{}
			}
			sc := l.Build(s)
			sc.Source = event.Replay.String()
			if err := l.Day(sc, st, t); err != nil {
				log.Warn("history: the day's figures", "time", t, "err", err)
			}
			return sc
		},
	}
}

// TapeHistory is the same over a run recorded on a tape (a scenario's
// playback); its scenes keep the events' source.
func TapeHistory(tp *state.Tape, l *scene.Layout, follow Source) *History {
	return &History{
		Follow: follow,
		Bounds: tp.Span,
		At: func(t int64) *scene.Scene {
			sc := l.Build(tp.At(t))
			l.Day(sc, tp, t) // a tape in memory does not fail
			return sc
		},
	}
}
