package store

import (
	"context"
	"math"
	"time"

	"twin/plant/event"
)

// Replay sends the events of [from, to] to sink in time order, paced by
// their timestamps at speed times real time (0 or +Inf: as fast as
// possible), and returns how many it sent. It stops early when ctx ends.
// The state before from is StateAt(from-1): start a fold from it.
func (s *Store) Replay(ctx context.Context, from, to int64, speed float64, sink event.Sink) (int, error) {
	n := 0
	begin := time.Now()
	paced := speed > 0 && !math.IsInf(speed, 1)
	err := s.Range(from, to, func(e event.Event) error {
		if paced {
			due := begin.Add(time.Duration(float64(e.Time-from) / speed))
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
		} else if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		e.Source = event.Replay
		sink.Emit(e)
		n++
		return nil
	})
	return n, err
}
