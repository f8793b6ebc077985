package api

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"twin/twin/mes"
)

var stationOf = map[string]string{"stamp": "PR1", "wind": "W1", "impregnate": "OV1", "cast": "DC1", "machine": "CNC1", "balance": "BAL1",
	"pressfit": "PF1", "assemble": "AS1", "test": "EOL1", "paint": "PT1", "pack": "PK1"}

func opStation(op string) string { return stationOf[op[strings.LastIndex(op, "-")+1:]] }

// BenchmarkScanConfirm: confirmation scans over HTTP on a real port
// against records on disk (synchronous writes, the live link on), each
// operation started beforehand. Scans arrive on a fixed schedule of
// -rate per second (open loop: a late answer does not delay the next
// scan, and latency counts from the scan's scheduled time, so queueing
// shows); rate 0 sends as fast as 32 terminals can (closed loop). Reports
// the confirmations per second achieved and the latency percentiles.
func BenchmarkScanConfirm(b *testing.B) {
	for _, rate := range []int{1000, 0} {
		name := fmt.Sprintf("rate=%d", rate)
		if rate == 0 {
			name = "rate=max"
		}
		b.Run(name, func(b *testing.B) { benchScans(b, rate) })
	}
}

// feeders returns the operations that feed op of the motor plant's
// orders (the one before it in its work order; the rotors' and stators'
// last operations for press-fit and assembly), and op's step along them.
func feeders(op string) (deps []string, step int) {
	product := []string{"pressfit", "assemble", "test", "paint", "pack"}
	for i, name := range product {
		if wo, ok := strings.CutSuffix(op, "-"+name); ok {
			order := wo[:strings.LastIndex(wo, "-YE3-")]
			if i > 0 {
				deps = append(deps, wo+"-"+product[i-1])
			}
			switch name {
			case "pressfit":
				deps = append(deps, order+"-rotor-balance")
			case "assemble":
				deps = append(deps, order+"-stator-impregnate")
			}
			return deps, 4 + i
		}
	}
	for part, seq := range map[string][]string{"stator": {"stamp", "wind", "impregnate"}, "rotor": {"stamp", "cast", "machine", "balance"}} {
		for i, name := range seq {
			if order, ok := strings.CutSuffix(op, "-"+part+"-"+name); ok {
				if i > 0 {
					deps = append(deps, order+"-"+part+"-"+seq[i-1])
				}
				return deps, i
			}
		}
	}
	panic("not an operation of the motor plant: " + op)
}

func benchScans(b *testing.B, rate int) {
	r := newRig(b, b.TempDir())
	r.users()
	var ops []string
	for n := 0; len(ops) < b.N; n++ {
		ops = append(ops, partsFirst(r.released(fmt.Sprintf("B-%05d", n), 2))...)
	}
	ops = ops[:b.N] // parts first: each operation kept has what feeds it
	// terminals at different machines confirm different work orders: in
	// a random order, not the 12 operations of one order at once (those
	// would conflict with each other and retry), and each after the
	// operations that feed it (the routing's sequence): by step along the
	// routing, and a terminal waits for a feeder still being confirmed
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
	step := map[string]int{}
	for _, op := range ops {
		_, step[op] = feeders(op)
	}
	slices.SortStableFunc(ops, func(a, b string) int { return step[a] - step[b] })
	done := map[string]chan struct{}{}
	for _, op := range ops {
		done[op] = make(chan struct{})
	}
	for lo := 0; lo < len(ops); {
		hi := lo
		for hi < len(ops) && step[ops[hi]] == step[ops[lo]] {
			hi++
		}
		var started sync.WaitGroup
		for t := range 32 {
			started.Go(func() {
				for i := lo + t; i < hi; i += 32 {
					if _, err := r.db.DoScan("op", mes.Scan{Token: r.db.CardToken(ops[i]), Action: "start", Station: opStation(ops[i]), Worker: "W-1"}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		started.Wait()
		lo = hi
	}
	if b.Failed() {
		return
	}
	// let the set-up's writes settle (flushes, compactions) before the clock starts
	time.Sleep(5 * time.Second)
	terminals := 32
	if rate > 0 {
		terminals = 128 // enough that a slow answer never holds up a scheduled scan
	}
	lat := make([]time.Duration, len(ops))
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	t0 := time.Now()
	for range terminals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ops) {
					return
				}
				s := time.Now()
				if rate > 0 {
					s = t0.Add(time.Duration(i) * time.Second / time.Duration(rate))
					time.Sleep(time.Until(s))
				}
				deps, _ := feeders(ops[i])
				for _, dep := range deps {
					if c := done[dep]; c != nil {
						<-c
					}
				}
				var res mes.ScanResult
				if code := r.do("operator", "POST", "/scan", mes.Scan{Token: r.db.CardToken(ops[i]), Action: "confirm", ScanID: fmt.Sprintf("s-%d", i), Good: ptr(2)}, &res); code != 200 || res.Duplicate {
					b.Errorf("scan %d: %d %+v", i, code, res)
					return
				}
				lat[i] = time.Since(s)
				close(done[ops[i]])
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(ops))/el.Seconds(), "confirms/s")
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

// BenchmarkMillion: the backward genealogy of one unit and every record of
// one order, in records holding a million other orders (each with a unit,
// a material booking and their index entries, loaded in bulk with the
// same keys the API writes).
func BenchmarkMillion(b *testing.B) {
	r := newRig(b, b.TempDir())
	const n = 1_000_000
	t0 := time.Now()
	now := r.now()
	err := r.db.Store().Bulk(func(put func(string, []byte) error) error {
		set := func(k string, v []byte) {
			if err := put(k, v); err != nil {
				b.Fatal(err)
			}
		}
		for i := range 1000 {
			lot := fmt.Sprintf("L-%04d", i)
			set("lot/"+lot, fmt.Appendf(nil, `{"id":%q,"material":"bearing","supplier":"HRB","quantity":2000,"remaining":0,"received":%q,"internal":false}`, lot, now.Format(time.RFC3339)))
		}
		for i := range n {
			id := fmt.Sprintf("M-%07d", i)
			serial := id + "-0001"
			lot := fmt.Sprintf("L-%04d", i%1000)
			cons := fmt.Sprintf("CO-M%07d", i)
			set("order/"+id, fmt.Appendf(nil, `{"id":%q,"customer":"C%d","priority":0,"product":"YE3-100L-4","quantity":1,"due":%q,"status":"completed","created":%q,"good":1,"scrap":0,"work_orders":[%q]}`, id, i%300, now.Format(time.RFC3339), now.Format(time.RFC3339), id+"-YE3-100L-4"))
			set("unit/"+serial, fmt.Appendf(nil, `{"serial":%q,"order":%q,"work_order":%q,"product":"YE3-100L-4","status":"passed","created":%q}`, serial, id, id+"-YE3-100L-4", now.Format(time.RFC3339)))
			set("cons/"+cons, fmt.Appendf(nil, `{"id":%q,"lot":%q,"material":"bearing","operation":%q,"order":%q,"serials":[%q],"quantity":2,"at":%q,"by":"op"}`, cons, lot, id+"-YE3-100L-4-pressfit", id, serial, now.Format(time.RFC3339)))
			set("wo/"+id+"-YE3-100L-4", fmt.Appendf(nil, `{"id":%q,"order":%q,"item":"YE3-100L-4","final":true,"routing":"motor","quantity":1,"priority":0,"due":%q,"status":"completed","operations":[],"released":%q}`, id+"-YE3-100L-4", id, now.Format(time.RFC3339), now.Format(time.RFC3339)))
			set("x/order/"+id+"/wo/"+id+"-YE3-100L-4", nil)
			set("x/order/"+id+"/unit/"+serial, nil)
			set("x/order/"+id+"/cons/"+cons, nil)
			set("x/serial/"+serial+"/cons/"+cons, nil)
			set("x/lot/"+lot+"/cons/"+cons, nil)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d orders (%d keys) in %v", n, 9*n, time.Since(t0).Round(time.Second))
	// one order through the real path, in the middle of them
	r.users()
	ops := r.released("M-0500000x", 4)
	r.must("planner", "POST", "/lots", mes.NewLot{ID: "L-BR-X", Material: "bearing", Supplier: "HRB", Quantity: 100}, nil, 201)
	for _, op := range partsFirst(ops) {
		r.must("operator", "POST", "/scan", mes.Scan{Token: r.db.CardToken(op), Action: "confirm", Station: opStation(op), Good: ptr(4)}, nil, 200)
		if strings.HasSuffix(op, "pressfit") {
			r.must("operator", "POST", "/consumptions", mes.NewConsumption{Operation: op, Lot: "L-BR-X"}, nil, 201)
		}
	}
	keys, err := r.db.Store().Count()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("records hold %d keys", keys)
	var gen, rec, other time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t1 := time.Now()
		g, err := r.db.Genealogy("M-0500000x-0002")
		if err != nil || len(g.Materials) != 1 || len(g.Operations) != 5 {
			b.Fatalf("genealogy: %v %+v", err, g)
		}
		t2 := time.Now()
		rs, err := r.db.Records("M-0500000x")
		if err != nil || len(rs.Operations) != 12 || len(rs.Units) != 4 || len(rs.Labour) == 0 {
			b.Fatalf("records: %v", err)
		}
		t3 := time.Now()
		if _, err := r.db.Genealogy(fmt.Sprintf("M-%07d-0001", rand.IntN(n))); err != nil {
			b.Fatal(err)
		}
		gen, rec, other = gen+t2.Sub(t1), rec+t3.Sub(t2), other+time.Since(t3)
	}
	b.ReportMetric(float64(gen.Microseconds())/1000/float64(b.N), "genealogy-ms")
	b.ReportMetric(float64(rec.Microseconds())/1000/float64(b.N), "records-ms")
	b.ReportMetric(float64(other.Microseconds())/1000/float64(b.N), "random-unit-genealogy-ms")
}
