package sparkplug

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"twin/connectors/sparkplug/internal/tahupb"
)

// tahuDir holds the reference vectors: vectors.json (what was given to
// Tahu's encoder), <name>.bin (what it made) and tahu.js (the script that
// runs Tahu's own JavaScript library, npm sparkplug-payload).
const tahuDir = "testdata/tahu"

type tahuCase struct {
	Name    string      `json:"name"`
	Topic   string      `json:"topic"`
	Payload tahuPayload `json:"payload"`
}

// tahuPayload is a payload in the form of Tahu's JavaScript library:
// integers as JSON numbers or, beyond 2^53, decimal strings.
type tahuPayload struct {
	Timestamp json.Number  `json:"timestamp"`
	Seq       *json.Number `json:"seq"`
	Metrics   []tahuMetric `json:"metrics"`
}

type tahuMetric struct {
	Name      *string         `json:"name"`
	Alias     *json.Number    `json:"alias"`
	Timestamp *json.Number    `json:"timestamp"`
	Type      string          `json:"type"`
	Value     json.RawMessage `json:"value"`
}

func readTahuCases(t *testing.T) []tahuCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tahuDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Cases []tahuCase }
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("vectors.json: %v", err)
	}
	return v.Cases
}

func uintOf(t *testing.T, what string, n json.Number) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(string(n), 10, 64)
	if err != nil {
		t.Fatalf("%s: want an unsigned integer, got %q", what, n)
	}
	return v
}

// payload is p as the package's Payload: what decoding its bytes must
// give, exactly.
func (p tahuPayload) payload(t *testing.T, name string) *Payload {
	t.Helper()
	out := &Payload{Timestamp: uintOf(t, name+": timestamp", p.Timestamp)}
	if p.Seq != nil {
		out.Seq, out.HasSeq = uintOf(t, name+": seq", *p.Seq), true
	}
	for i, tm := range p.Metrics {
		what := fmt.Sprintf("%s: metric %d", name, i)
		dt, ok := tahupb.DataType_value[tm.Type]
		if !ok {
			t.Fatalf("%s: unknown type %q", what, tm.Type)
		}
		m := Metric{DataType: uint32(dt)}
		if tm.Name != nil {
			m.Name = *tm.Name
		}
		if tm.Alias != nil {
			m.Alias, m.HasAlias = uintOf(t, what+" alias", *tm.Alias), true
		}
		if tm.Timestamp != nil {
			m.Timestamp = uintOf(t, what+" timestamp", *tm.Timestamp)
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(tm.Value))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Fatalf("%s value: %v", what, err)
		}
		switch x := v.(type) {
		case nil:
			m.IsNull = true
		case bool:
			if x {
				m.Value = 1
			}
		case string:
			if isInteger(m.DataType) {
				m.setInt(t, what, x)
			} else {
				m.Str = x
			}
		case json.Number:
			if isInteger(m.DataType) {
				m.setInt(t, what, string(x))
				break
			}
			f, err := x.Float64()
			if err != nil {
				t.Fatalf("%s value: %v", what, err)
			}
			if m.DataType == Float {
				f = float64(float32(f))
			}
			m.Value = f
		default:
			t.Fatalf("%s: value %v", what, v)
		}
		out.Metrics = append(out.Metrics, m)
	}
	return out
}

func (m *Metric) setInt(t *testing.T, what, s string) {
	t.Helper()
	if signed(m.DataType) {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("%s: want an integer, got %q", what, s)
		}
		m.Int, m.Value = uint64(v), float64(v)
		return
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s: want an unsigned integer, got %q", what, s)
	}
	m.Int, m.Value = v, float64(v)
}

// diffPayload says how got differs from want, field by field ("" when
// equal).
func diffPayload(got, want *Payload) string {
	var d []string
	if got.Timestamp != want.Timestamp || got.Seq != want.Seq || got.HasSeq != want.HasSeq {
		d = append(d, fmt.Sprintf("timestamp, seq: got %d, %d (%v), want %d, %d (%v)", got.Timestamp, got.Seq, got.HasSeq, want.Timestamp, want.Seq, want.HasSeq))
	}
	if len(got.Metrics) != len(want.Metrics) {
		return fmt.Sprintf("%d metrics, want %d", len(got.Metrics), len(want.Metrics))
	}
	for i := range got.Metrics {
		g, w := got.Metrics[i], want.Metrics[i]
		if math.IsNaN(g.Value) && math.IsNaN(w.Value) {
			g.Value, w.Value = 0, 0
		}
		if !reflect.DeepEqual(g, w) {
			d = append(d, fmt.Sprintf("metric %d: got %+v, want %+v", i, g, w))
		}
	}
	if len(d) == 0 {
		return ""
	}
	return fmt.Sprint(d)
}

// TestTahuDecode: every vector that Tahu's encoder made decodes to exactly
// what was given to it: names, aliases, timestamps, data types, nulls and
// values (64-bit integers to the last bit, a Float as its float32).
func TestTahuDecode(t *testing.T) {
	cases := readTahuCases(t)
	if len(cases) == 0 {
		t.Fatal("no vectors")
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(tahuDir, c.Name+".bin"))
			if err != nil {
				t.Fatalf("%v (run node tahu.js encode in %s)", err, tahuDir)
			}
			got, err := Unmarshal(raw)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffPayload(got, c.Payload.payload(t, c.Name)); d != "" {
				t.Error(d)
			}
			if _, err := ParseTopic(c.Topic); err != nil {
				t.Error(err)
			}
		})
	}
}

// tahuNode returns the command that runs tahu.js, skipping the test when
// node is not installed.
func tahuNode(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed, so Tahu's JavaScript library cannot run: make deps installs it (apt nodejs npm, npm ci in connectors/sparkplug/testdata/tahu)")
	}
	if _, err := os.Stat(filepath.Join(tahuDir, "node_modules/sparkplug-payload")); err != nil {
		t.Fatalf("Tahu's sparkplug-payload is missing: run make deps (npm ci in %s)", tahuDir)
	}
	cmd := exec.Command("node", append([]string{"tahu.js"}, args...)...)
	cmd.Dir = tahuDir
	return cmd
}

// TestTahuEncode: Tahu's own decoder reads the twin's encoding of every
// vector back to what the vector holds; and the checked-in vectors are
// what Tahu's encoder makes of vectors.json today.
func TestTahuEncode(t *testing.T) {
	cases := readTahuCases(t)
	dir := t.TempDir()
	var files []string
	ours := map[string][]byte{}
	for _, c := range cases {
		b := c.Payload.payload(t, c.Name).Marshal()
		f := filepath.Join(dir, c.Name+".bin")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files, ours[c.Name+".bin"] = append(files, f), b
	}
	out, err := tahuNode(t, append([]string{"decode"}, files...)...).Output()
	if err != nil {
		t.Fatalf("tahu.js decode: %v\n%s", err, stderrOf(err))
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	seen := 0
	for i := 0; sc.Scan(); i++ {
		var line struct {
			File    string
			Payload tahuPayload
		}
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		if err := d.Decode(&line); err != nil {
			t.Fatalf("tahu.js decode printed %q: %v", sc.Text(), err)
		}
		c := cases[i]
		if line.File != c.Name+".bin" {
			t.Fatalf("line %d is of %s, want %s.bin", i, line.File, c.Name)
		}
		if d := diffPayload(line.Payload.payload(t, c.Name), c.Payload.payload(t, c.Name)); d != "" {
			t.Errorf("%s: Tahu decodes the twin's encoding as: %s", c.Name, d)
		}
		seen++
	}
	if seen != len(cases) {
		t.Fatalf("Tahu decoded %d payloads, want %d", seen, len(cases))
	}

	// the vectors are reproducible, and how the twin's bytes compare
	regen := t.TempDir()
	if out, err := tahuNode(t, "encode", regen).CombinedOutput(); err != nil {
		t.Fatalf("tahu.js encode: %v\n%s", err, out)
	}
	for _, c := range cases {
		want, _ := os.ReadFile(filepath.Join(tahuDir, c.Name+".bin"))
		got, _ := os.ReadFile(filepath.Join(regen, c.Name+".bin"))
		if !bytes.Equal(got, want) {
			t.Errorf("%s.bin is not what Tahu makes of vectors.json now: run node tahu.js encode in %s and review the diff", c.Name, tahuDir)
		}
		t.Logf("%s: %d bytes; the twin's encoding is byte-identical to Tahu's: %v", c.Name, len(want), bytes.Equal(ours[c.Name+".bin"], want))
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// FuzzUnmarshal: whatever the bytes, Unmarshal returns a payload or an
// error wrapping ErrMalformed, never panics; what it decodes encodes to a
// payload that decodes to itself again. (Not always to the first one: a
// value in a field its data type does not use is read, and written back
// in the data type's field, or not at all for a type without one.)
// Seeded with Tahu's vectors.
func FuzzUnmarshal(f *testing.F) {
	bins, _ := filepath.Glob(filepath.Join(tahuDir, "*.bin"))
	slices.Sort(bins)
	for _, b := range bins {
		raw, err := os.ReadFile(b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte{0x12, 0x02, 0x20})       // a metric cut short
	f.Add([]byte{0x12, 0x03, 0x92, 0x01}) // a template value cut short
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Unmarshal(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		q, err := Unmarshal(p.Marshal())
		if err != nil {
			t.Fatalf("re-encoded payload: %v", err)
		}
		if len(q.Metrics) != len(p.Metrics) || q.Seq != p.Seq || q.HasSeq != p.HasSeq || q.Timestamp != p.Timestamp {
			t.Fatalf("re-encoded payload: %+v, from %+v", q, p)
		}
		r, err := Unmarshal(q.Marshal())
		if err != nil {
			t.Fatalf("re-encoded payload: %v", err)
		}
		if d := diffPayload(r, q); d != "" {
			t.Fatalf("encoding is not a fixed point: %s", d)
		}
	})
}
