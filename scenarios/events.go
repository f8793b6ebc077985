package scenarios

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"twin/plant/event"
)

// EventWriter writes events as JSON Lines, one object per event (see
// FORMAT.md):
//
//	{"t":1736035200000000000,"kind":"state","asset":"qijiang/motor/stator/winding/W2","value":4}
//
// It is an event.Sink for one goroutine. It buffers; call Flush at the end.
// The first write error is kept, and returned by Flush.
type EventWriter struct {
	w   *bufio.Writer
	buf []byte
	n   int64
	err error
}

// NewEventWriter returns a writer of events to w.
func NewEventWriter(w io.Writer) *EventWriter {
	return &EventWriter{w: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 256)}
}

// Emit writes e.
func (ew *EventWriter) Emit(e event.Event) {
	if ew.err != nil {
		return
	}
	ew.buf = AppendEvent(ew.buf[:0], e)
	ew.buf = append(ew.buf, '\n')
	_, ew.err = ew.w.Write(ew.buf)
	ew.n++
}

// Count returns the number of events written.
func (ew *EventWriter) Count() int64 { return ew.n }

// Flush writes what is buffered and returns the first error.
func (ew *EventWriter) Flush() error {
	if ew.err != nil {
		return ew.err
	}
	return ew.w.Flush()
}

// AppendEvent appends e as a JSON object to b. Empty names, refs and the
// good quality are left out; a value that is not a number is null.
func AppendEvent(b []byte, e event.Event) []byte {
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, e.Time, 10)
	b = append(b, `,"kind":`...)
	b = appendString(b, e.Kind.String())
	if e.Asset != "" {
		b = append(b, `,"asset":`...)
		b = appendString(b, e.Asset)
	}
	if e.Name != "" {
		b = append(b, `,"name":`...)
		b = appendString(b, e.Name)
	}
	if e.Ref != "" {
		b = append(b, `,"ref":`...)
		b = appendString(b, e.Ref)
	}
	b = append(b, `,"value":`...)
	if math.IsNaN(e.Value) || math.IsInf(e.Value, 0) {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendFloat(b, e.Value, 'g', -1, 64)
	}
	if e.Quality != event.Good {
		b = append(b, `,"quality":`...)
		b = appendString(b, e.Quality.String())
	}
	if e.Source != 0 {
		b = append(b, `,"source":`...)
		b = appendString(b, e.Source.String())
	}
	return append(b, '}')
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// jsonEvent is the JSON form of an event, for reading.
type jsonEvent struct {
	T       *int64   `json:"t"`
	Kind    string   `json:"kind"`
	Asset   string   `json:"asset"`
	Name    string   `json:"name"`
	Ref     string   `json:"ref"`
	Value   *float64 `json:"value"`
	Quality string   `json:"quality"`
	Source  string   `json:"source"`
}

// DecodeEvent parses one line of an event log.
func DecodeEvent(line []byte) (event.Event, error) {
	var j jsonEvent
	if err := json.Unmarshal(line, &j); err != nil {
		return event.Event{}, err
	}
	if j.T == nil {
		return event.Event{}, fmt.Errorf("event without t")
	}
	k, err := event.ParseKind(j.Kind)
	if err != nil {
		return event.Event{}, err
	}
	e := event.Event{Time: *j.T, Kind: k, Asset: j.Asset, Name: j.Name, Ref: j.Ref, Value: math.NaN()}
	if j.Value != nil {
		e.Value = *j.Value
	}
	switch j.Quality {
	case "", "good":
	case "uncertain":
		e.Quality = event.Uncertain
	case "bad":
		e.Quality = event.Bad
	default:
		return event.Event{}, fmt.Errorf("unknown quality %q", j.Quality)
	}
	if j.Source != "" {
		if e.Source, err = event.ParseSource(j.Source); err != nil {
			return event.Event{}, err
		}
	}
	return e, nil
}
