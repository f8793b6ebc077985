package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"twin/plant/event"
)

// Snapshot encoding, version 3 (what MarshalBinary writes). Deterministic:
// maps are written in key order, so equal states encode to equal bytes.
//
//	snapshot := version:byte time:varint applied:uvarint source:byte faults:uvarint
//	            n:uvarint asset*n  n:uvarint buffer*n  n:uvarint order*n
//	asset    := path:str state:byte since:varint updated:varint quality:byte
//	            job:str op:str counters:map measures:map n:uvarint alarm*n
//	            cycle:varint cycleAt:varint cycleKnown:byte       (version 3)
//	map      := n:uvarint (key:str value:f64)*n        (sorted by key)
//	alarm    := name:str text:str severity:f64 since:varint    (sorted by name)
//	buffer   := path:str level:f64 last:str                    (sorted by path)
//	order    := id:str product:str status:str quantity:f64 done:f64 due:varint
//	            priority:varint released:varint updated:varint (sorted by id)
//	str      := len:uvarint bytes
//	f64      := 8 bytes, IEEE 754, little endian
//
// varint and uvarint are encoding/binary's; assets are sorted by path;
// cycleKnown is 0 or 1; nothing follows the last order.
//
// Versions: UnmarshalBinary reads 3 and 2. Version 2 (written before
// 2026-12) lacks an asset's cycle; it decodes with the cycle unknown
// (zero). Any other version is ErrVersion (a newer twin's snapshot: the
// history store then folds from an older snapshot or from the events);
// bytes that do not follow the grammar are ErrCorrupt.
const snapshotVersion = 3

var (
	// ErrCorrupt is returned when snapshot bytes cannot be decoded.
	ErrCorrupt = errors.New("state: corrupt snapshot")
	// ErrVersion is returned for a snapshot of a version this build does
	// not read; it is also an ErrCorrupt.
	ErrVersion = fmt.Errorf("%w: unknown version", ErrCorrupt)
)

// MarshalBinary encodes the state.
func (s *State) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil), nil }

// AppendBinary appends the encoded state to b.
func (s *State) AppendBinary(b []byte) []byte {
	b = append(b, snapshotVersion)
	b = binary.AppendVarint(b, s.Time)
	b = binary.AppendUvarint(b, s.Applied)
	b = append(b, byte(s.Source))
	b = binary.AppendUvarint(b, s.faults)
	assets := s.Assets()
	b = binary.AppendUvarint(b, uint64(len(assets)))
	for _, a := range assets {
		b = appendStr(b, a.Path)
		b = append(b, byte(a.State))
		b = binary.AppendVarint(b, a.Since)
		b = binary.AppendVarint(b, a.Updated)
		b = append(b, byte(a.Quality))
		b = appendStr(b, a.Job)
		b = appendStr(b, a.Op)
		b = appendMap(b, a.Counters)
		b = appendMap(b, a.Measures)
		names := sortedKeys(a.Alarms)
		b = binary.AppendUvarint(b, uint64(len(names)))
		for _, n := range names {
			al := a.Alarms[n]
			b = appendStr(b, n)
			b = appendStr(b, al.Text)
			b = appendF64(b, al.Severity)
			b = binary.AppendVarint(b, al.Since)
		}
		b = binary.AppendVarint(b, a.Cycle)
		b = binary.AppendVarint(b, a.CycleAt)
		if a.CycleKnown {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	bufs := s.Buffers()
	b = binary.AppendUvarint(b, uint64(len(bufs)))
	for _, x := range bufs {
		b = appendStr(b, x.Path)
		b = appendF64(b, x.Level)
		b = appendStr(b, x.Last)
	}
	orders := s.Orders()
	b = binary.AppendUvarint(b, uint64(len(orders)))
	for _, o := range orders {
		b = appendStr(b, o.ID)
		b = appendStr(b, o.Product)
		b = appendStr(b, o.Status)
		b = appendF64(b, o.Quantity)
		b = appendF64(b, o.Done)
		b = binary.AppendVarint(b, o.Due)
		b = binary.AppendVarint(b, int64(o.Priority))
		b = binary.AppendVarint(b, o.Released)
		b = binary.AppendVarint(b, o.Updated)
	}
	return b
}

// UnmarshalBinary replaces the state with the one encoded in data.
func (s *State) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	v := d.byte()
	if v != snapshotVersion && v != 2 {
		if d.err != nil {
			return d.err
		}
		return fmt.Errorf("%w %d (this build reads 2 and %d)", ErrVersion, v, snapshotVersion)
	}
	var n State
	n.assets, n.buffers, n.orders = map[string]*Asset{}, map[string]*Buffer{}, map[string]*Order{}
	n.Time = d.varint()
	n.Applied = d.uvarint()
	n.Source = event.Source(d.byte())
	n.faults = d.uvarint()
	for i, c := uint64(0), d.count(); i < c && d.err == nil; i++ {
		a := &Asset{Path: d.str(), Alarms: map[string]Alarm{}}
		a.State = event.MachineState(d.byte())
		a.Since = d.varint()
		a.Updated = d.varint()
		a.Quality = event.Quality(d.byte())
		a.Job, a.Op = d.str(), d.str()
		a.Counters, a.Measures = d.fmap(), d.fmap()
		for j, k := uint64(0), d.count(); j < k && d.err == nil; j++ {
			name := d.str()
			a.Alarms[name] = Alarm{Text: d.str(), Severity: d.f64(), Since: d.varint()}
		}
		if v >= 3 {
			a.Cycle, a.CycleAt, a.CycleKnown = d.varint(), d.varint(), d.byte() == 1
		}
		n.assets[a.Path] = a
	}
	for i, c := uint64(0), d.count(); i < c && d.err == nil; i++ {
		x := &Buffer{Path: d.str(), Level: d.f64(), Last: d.str()}
		n.buffers[x.Path] = x
	}
	for i, c := uint64(0), d.count(); i < c && d.err == nil; i++ {
		o := &Order{ID: d.str(), Product: d.str(), Status: d.str(), Quantity: d.f64(), Done: d.f64(), Due: d.varint(), Priority: int(d.varint()), Released: d.varint(), Updated: d.varint()}
		n.orders[o.ID] = o
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.b))
	}
	if d.err != nil {
		return d.err
	}
	*s = n
	return nil
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendF64(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

func appendMap(b []byte, m map[string]float64) []byte {
	keys := sortedKeys(m)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendStr(b, k)
		b = appendF64(b, m[k])
	}
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// decoder reads the encoding; the first error sticks and zero values
// follow, so callers check once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated %s", ErrCorrupt, what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length and rejects one the remaining bytes cannot hold.
func (d *decoder) count() uint64 {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("count")
		return 0
	}
	return n
}

func (d *decoder) str() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) f64() float64 {
	if len(d.b) < 8 {
		d.fail("float")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *decoder) fmap() map[string]float64 {
	m := map[string]float64{}
	for i, c := uint64(0), d.count(); i < c && d.err == nil; i++ {
		k := d.str()
		m[k] = d.f64()
	}
	return m
}
