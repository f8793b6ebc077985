package sparkplug

import (
	"strconv"
	"testing"
)

// benchPayloads are what the twin sends and receives most: a DDATA of one
// metric by alias (the virtual plant's) and a DBIRTH of 20 named metrics
// of the twin's datatypes.
func benchPayloads() map[string]*Payload {
	ddata := &Payload{Timestamp: 1772438400123, Seq: 17, HasSeq: true, Metrics: []Metric{
		{Alias: 101, HasAlias: true, Timestamp: 1772438400123, DataType: Double, Value: 7.25}}}
	dbirth := &Payload{Timestamp: 1772438400000, Seq: 1, HasSeq: true}
	types := []uint32{Int32, Int64, UInt32, UInt64, Float, Double, Boolean, String}
	for i := range 20 {
		m := Metric{Name: "Line 1/Station " + strconv.Itoa(i) + "/Value", Alias: uint64(i + 1), HasAlias: true, Timestamp: 1772438400000, DataType: types[i%len(types)], Value: float64(i)}
		if m.DataType == String {
			m.Str = "running"
		}
		dbirth.Metrics = append(dbirth.Metrics, m)
	}
	return map[string]*Payload{"ddata": ddata, "dbirth": dbirth}
}

func BenchmarkMarshal(b *testing.B) {
	for _, name := range []string{"ddata", "dbirth"} {
		p := benchPayloads()[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(p.Marshal())))
			for b.Loop() {
				p.Marshal()
			}
		})
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	for _, name := range []string{"ddata", "dbirth"} {
		raw := benchPayloads()[name].Marshal()
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := Unmarshal(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
