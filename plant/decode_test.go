package plant

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"twin/sim"
)

func TestMotorPlant(t *testing.T) {
	p, err := Load("../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "qijiang-motor" || p.Currency != "CNY" || p.Location.String() != "Asia/Shanghai" {
		t.Fatalf("plant %s %s %s", p.ID, p.Currency, p.Location)
	}
	if want := time.Date(2026, 3, 2, 0, 0, 0, 0, p.Location); !p.Start.Equal(want) || p.Start.Weekday() != time.Monday {
		t.Errorf("start %v", p.Start)
	}
	if len(p.WorkCenters) != 12 || len(p.Units) != 17 || len(p.Products) != 3 || len(p.Families) != 3 {
		t.Fatalf("%d work centres, %d units, %d products, %d families", len(p.WorkCenters), len(p.Units), len(p.Products), len(p.Families))
	}
	// the ISA-95 tree: every unit has a work centre, line, area, site above
	for _, u := range p.Units {
		levels := []Level{}
		for n := u.Node; n != nil; n = n.Parent {
			levels = append(levels, n.Level)
		}
		if len(levels) != 5 || levels[4] != SiteLevel || levels[0] != UnitLevel {
			t.Errorf("unit %s: levels %v", u.Path(), levels)
		}
	}
	w2 := find(t, p, "W2")
	if w2.Path() != "qijiang/stator/stator-line/winding/W2" || w2.Power.Busy != 7.5 || w2.Power.Idle != 1.5 {
		t.Errorf("W2 %s power %+v", w2.Path(), w2.Power)
	}
	if len(w2.Failures) != 1 || w2.Failures[0].Name != "wire-break" || w2.Failures[0].TBF.Mean() != 30*3600 ||
		w2.Failures[0].Basis != OperatingTime || w2.Failures[0].Skill != "maintenance" {
		t.Errorf("W2 failures %+v (unit_defaults not applied?)", w2.Failures)
	}
	if w2.Nameplate.SerialNumber != "NT-21-0877" || w2.Nameplate.YearOfConstruction != 2021 {
		t.Errorf("W2 nameplate %+v", w2.Nameplate)
	}
	if ov := find(t, p, "OV1"); ov.WorkCenter.Batch == nil || ov.WorkCenter.Batch.Max != 40 || ov.WorkCenter.Batch.Min != 24 ||
		ov.WorkCenter.Batch.MaxWait != sim.Time(2*time.Hour) || ov.Failures[0].Basis != CalendarTime {
		t.Errorf("oven %+v", ov.WorkCenter.Batch)
	}
	st := p.WorkCenters[0]
	if st.ID() != "stamping" || st.Dispatch != Setup || st.Setup.Time("small", "large").Mean() != 15*60 ||
		st.Setup.Time("", "small").Mean() != 10*60 || st.Setup.Time("small", "small") != nil {
		t.Errorf("stamping %v setup", st.Dispatch)
	}
	if p.WorkCenters[1].Buffer != 40 || p.WorkCenters[1].Skill != "winding" || p.WorkCenters[2].Dispatch != EDD {
		t.Errorf("winding buffer %d skill %q; oven dispatch %v", p.WorkCenters[1].Buffer, p.WorkCenters[1].Skill, p.WorkCenters[2].Dispatch)
	}
	// products, BOM (anchored and aliased), routings, assembly, inspection
	for _, pr := range p.Products {
		if len(pr.BOM) != 5 || pr.BOM[3].Part.ID != "endshield" || pr.BOM[3].Qty != 2 || pr.Routing.ID != "motor" {
			t.Errorf("product %s BOM %+v", pr.ID, pr.BOM)
		}
	}
	motor := p.Products[0].Routing
	if motor.Ops[0].Consumes[1].Part.ID != "bearing" || motor.Ops[0].Consumes[1].Qty != 2 {
		t.Errorf("press-fit consumes %+v", motor.Ops[0].Consumes)
	}
	test := motor.Ops[2].Inspect
	if test == nil || test.Yield != 0.95 || test.Scrap != 0.05 || test.Rework.WorkCenter.ID() != "repair" ||
		test.Rework.Time.Default.Mean() != 1800 || len(test.Characteristics) != 3 || test.Characteristics[0].LSL != 100 {
		t.Errorf("inspection %+v", test)
	}
	wind := p.Routings[0].Ops[1]
	if d := wind.Alternatives[0].Time.For("large"); math.Abs(d.Mean()-16*60) > 1e-6 {
		t.Errorf("large winding time mean %v", d.Mean())
	}
	// calendars: shifts, breaks, holidays (ranges expanded)
	cal := p.Calendar
	if cal.ID != "two-shift" || len(cal.Shifts) != 2 || cal.Shifts[0].Breaks[0] != (Span{11*time.Hour + 30*time.Minute, 12 * time.Hour}) ||
		cal.Shifts[0].Days[time.Sunday] || !cal.Shifts[0].Days[time.Saturday] {
		t.Errorf("calendar %+v", cal)
	}
	if len(cal.Holidays) != 3+9+3+5+3+3+7 {
		t.Errorf("%d holidays", len(cal.Holidays))
	}
	oct3 := time.Date(2026, 10, 3, 10, 0, 0, 0, p.Location) // Saturday, National Day
	if w, _, _ := cal.State(oct3); w {
		t.Error("working on National Day")
	}
	tue := time.Date(2026, 3, 3, 11, 45, 0, 0, p.Location) // in the early shift's break
	if w, _, next := cal.State(tue); w || next.Hour() != 12 {
		t.Errorf("break: working %v until %v", w, next)
	}
	// pools, energy, demand, tags
	if len(p.Pools) != 3 || p.Pools[0].PerShift["late"] != 1 || p.Pools[0].Count != 2 {
		t.Errorf("pools %+v", p.Pools[0])
	}
	if tf := p.Energy.Tariff; len(tf.Periods) != 4 || tf.Periods[0].Price != 1.34 || !tf.Periods[0].Months[7] || tf.Periods[0].Months[6] {
		t.Errorf("tariff %+v", tf)
	}
	if per, _ := p.Energy.Tariff.At(time.Date(2026, 7, 15, 21, 0, 0, 0, p.Location)); per.Name != "critical" {
		t.Errorf("July 21:00 is %s, want critical", per.Name)
	}
	if per, until := p.Energy.Tariff.At(time.Date(2026, 3, 3, 2, 0, 0, 0, p.Location)); per.Name != "valley" || until.Hour() != 7 {
		t.Errorf("02:00 is %s until %v", per.Name, until)
	}
	if e := p.Energy.Emission; e.Factor != 0.5271 || e.Year != 2023 || e.Basis != "location" {
		t.Errorf("emission %+v", e)
	}
	g := p.Demand.Generator
	if g == nil || len(g.Mix) != 3 || g.Mix[2].Weight != 15 || g.Quantity.Mean() != 85.0/3 || len(g.Priority) != 3 || g.Priority[2] != 5 || p.Demand.Dispatch != EDD {
		t.Errorf("generator %+v", g)
	}
	if len(p.Tags.OPCUA) != 1 || len(p.Tags.OPCUA[0].Nodes) != 17*6 || p.Tags.OPCUA[0].Nodes[0].Node != "ns=2;s=PR1.State" ||
		p.Tags.OPCUA[0].Nodes[0].Asset != "qijiang/stator/stator-line/stamping/PR1" || p.Tags.OPCUA[0].Interval != 200*time.Millisecond {
		t.Errorf("opcua tags %+v", p.Tags.OPCUA[0].Nodes[:1])
	}
	mq := p.Tags.MQTT[0]
	if len(mq.Topics) != 17*6 || mq.Topics[6].Topic != "qijiang/stator/W1/state" || mq.Sparkplug.Group != "qijiang" ||
		mq.Sparkplug.Devices[1].Asset != w2.Path() || mq.Sparkplug.Devices[1].Metrics["Power"] != SignalPower {
		t.Errorf("mqtt tags %+v %+v", mq.Topics[6], mq.Sparkplug)
	}
}

func find(t *testing.T, p *Plant, id string) *Unit {
	for _, u := range p.Units {
		if u.ID() == id {
			return u
		}
	}
	t.Fatalf("no unit %s", id)
	return nil
}

// TestTestPlants loads every plant in testdata/plants.
func TestTestPlants(t *testing.T) {
	files, _ := filepath.Glob("../testdata/plants/*.yaml")
	if len(files) < 5 {
		t.Fatalf("%d test plants", len(files))
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%v", err)
		}
	}
	p, _ := Load("../testdata/plants/energy.yaml")
	if o := p.Demand.Orders; len(o) != 1 || o[0].Quantity != 10 || o[0].Due.Sub(o[0].Release) != 24*time.Hour {
		t.Errorf("orders %+v", o)
	}
}

const base = `id: t
families: [f]
calendars: [{id: always, always: true}]
calendar: always
site:
  id: s
  areas:
    - id: a
      lines:
        - id: l
          workcenters:
            - id: m
              units: [{id: M1, power: {busy: 5kW}}]
routings:
  - id: r
    operations: [{id: op, at: m, time: 1h}]
products:
  - {id: p, family: f, routing: r}
`

// TestErrors checks that each mistake is reported at its line and column,
// under its field, saying what was expected.
func TestErrors(t *testing.T) {
	cases := []struct {
		name, old, new string
		line, col      int
		field, msg     string
	}{
		{"bad power", "busy: 5kW", "busy: 5", 13, 46, "units.M1.power.busy", "want a power with a unit"},
		{"unknown power unit", "busy: 5kW", "busy: 5hp", 13, 46, "units.M1.power.busy", `unknown unit "hp"`},
		{"unknown key", "busy: 5kW", "bussy: 5kW", 13, 40, "units.M1.power.bussy", `did you mean "busy"`},
		{"bad duration", "time: 1h", "time: one hour", 16, 40, "routings.r.operations.op.time", "want a duration"},
		{"bad dist", "time: 1h", "time: \"tri(3h, 2h, 1h)\"", 16, 40, "routings.r.operations.op.time", "min ≤ mode ≤ max"},
		{"unknown dist", "time: 1h", "time: poisson(1h)", 16, 40, "routings.r.operations.op.time", `unknown distribution "poisson"`},
		{"unknown work centre", "at: m,", "at: mm,", 16, 31, "routings.r.operations.op.at", `no work centre "mm" (known: m)`},
		{"unknown family", "family: f,", "family: g,", 18, 21, "products.p.family", `no product family "g"`},
		{"unknown routing", "routing: r}", "routing: q}", 18, 33, "products.p.routing", `no routing "q"`},
		{"unknown calendar", "calendar: always", "calendar: alwys", 4, 11, "calendar", `no calendar "alwys"`},
		{"duplicate unit", "units: [{id: M1, power: {busy: 5kW}}]", "units: [{id: M1}, {id: M1}]", 13, 38, "units.M1.id", "already used"},
		{"bad rule", "calendar: always\n", "calendar: always\ndemand: {dispatch: random}\n", 5, 20, "demand.dispatch", "want a dispatch rule"},
		{"bad buffer", "- id: m\n", "- id: m\n              buffer: -3\n", 13, 23, "workcenters.m.buffer", "want a whole number"},
		{"bad yield", "time: 1h}", "time: 1h, inspect: {yield: 120%}}", 16, 61, "routings.r.operations.op.inspect.yield", "between 0 and 1"},
		{"bad time of day", "calendars: [{id: always, always: true}]", "calendars: [{id: always, shifts: [{start: '25:00', end: '08:00'}]}]", 3, 43, "calendars.always.shifts.0.start", "time of day"},
		{"bad price", "calendar: always\n", "calendar: always\nenergy: {tariff: {periods: [{name: flat, price: 0.7}]}}\n", 5, 49, "energy.tariff.periods.flat.price", "0.65 CNY/kWh"},
		{"wrong currency", "calendar: always\n", "calendar: always\nenergy: {tariff: {periods: [{name: flat, price: 0.7 EUR/kWh}]}}\n", 5, 49, "energy.tariff.periods.flat.price", "plant's currency is CNY"},
		{"skill without pool", "- id: m\n", "- id: m\n              skill: welding\n", 13, 22, "workcenters.m.skill", `no worker pool has skill "welding"`},
		{"mapping expected", "power: {busy: 5kW}", "power: 5kW", 13, 39, "units.M1.power", "want a mapping"},
		{"time of an unknown product", "time: 1h}", "time: {q: 1h}}", 16, 41, "routings.r.operations.op.time.q", `no product family or product "q"`},
		{"tag asset", "calendar: always\n", "calendar: always\ntags: {opcua: [{endpoint: 'opc.tcp://x:4840', nodes: [{node: 'ns=2;s=X', asset: M9, signal: state}]}]}\n", 5, 81, "tags.opcua[0].nodes[0].asset", `no unit or equipment "M9"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(base, c.old, c.new, 1)
			if src == base {
				t.Fatalf("%q not in the base plant", c.old)
			}
			_, err := Parse("p.yaml", []byte(src))
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("want Errors, got %v", err)
			}
			e := es[0]
			if e.File != "p.yaml" || e.Line != c.line || e.Column != c.col || e.Field != c.field || !strings.Contains(e.Msg, c.msg) {
				t.Errorf("got  %v\nwant p.yaml:%d:%d: %s: …%s…", e, c.line, c.col, c.field, c.msg)
			}
		})
	}
	if _, err := Parse("p.yaml", []byte(base)); err != nil {
		t.Fatalf("the base plant: %v", err)
	}
	// an operation without a time for a product that passes through it
	src := strings.NewReplacer("families: [f]", "families: [f, g]", "time: 1h}", "time: {f: 1h}}").Replace(base) + "  - {id: p2, family: g, routing: r}\n"
	_, err := Parse("p.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "p.yaml:16:40: routings.r.operations.op.time: no time for product p2 (family g)") {
		t.Errorf("missing time: %v", err)
	}
	// a time per product wins over its family's
	p, err := Parse("p.yaml", []byte(strings.Replace(base, "time: 1h}", "time: {f: 1h, p: 2h}}", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if tm := p.Routings[0].Ops[0].Alternatives[0].Time; tm.ForProduct("p", "f").Mean() != 7200 || tm.ForProduct("x", "f").Mean() != 3600 {
		t.Errorf("times by product: %+v", tm)
	}
}

// TestAllErrors: a file with several mistakes reports every one, in line
// order.
func TestAllErrors(t *testing.T) {
	src := strings.NewReplacer("busy: 5kW", "busy: 5", "time: 1h", "time: soon", "family: f,", "family: g,").Replace(base)
	_, err := Parse("p.yaml", []byte(src))
	var es Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
	if es[0].Line != 13 || es[1].Line != 16 || es[2].Line != 18 {
		t.Errorf("lines %d %d %d", es[0].Line, es[1].Line, es[2].Line)
	}
	if !strings.Contains(err.Error(), "p.yaml:16:40: routings.r.operations.op.time: want a duration") {
		t.Errorf("message:\n%v", err)
	}
}

func TestOrdersFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "orders.csv"), []byte("id,product,quantity,due,customer\nO1,p,5,2026-01-10,Acme\nO2,q,0,2026-01-11,Acme\n"), 0o644)
	src := strings.Replace(base, "calendar: always\n", "calendar: always\ndemand: {orders_file: orders.csv}\n", 1)
	_, err := Parse(filepath.Join(dir, "p.yaml"), []byte(src))
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("want 2 errors, got %v", err)
	}
	if !strings.HasSuffix(es[0].File, "orders.csv") || es[0].Line != 3 || es[0].Column != 4 || es[0].Field != "product" ||
		es[1].Line != 3 || es[1].Field != "quantity" {
		t.Errorf("errors:\n%v", err)
	}
	os.WriteFile(filepath.Join(dir, "orders.csv"), []byte("id,product,quantity,due,customer\nO1,p,5,2026-01-10,Acme\n"), 0o644)
	p, err := Parse(filepath.Join(dir, "p.yaml"), []byte(src))
	if err != nil || len(p.Demand.Orders) != 1 || p.Demand.Orders[0].Customer != "Acme" || p.Demand.Orders[0].Quantity != 5 {
		t.Fatalf("%v %+v", err, p)
	}
}

func TestUnits(t *testing.T) {
	for s, want := range map[string]time.Duration{"90s": 90 * time.Second, "2.5min": 150 * time.Second, "1.5h": 90 * time.Minute,
		"2d": 48 * time.Hour, "1h30m": 90 * time.Minute, "0": 0, "250ms": 250 * time.Millisecond} {
		if got, err := ParseDuration(s); err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	for _, s := range []string{"", "90", "-5s", "5 parsecs", "1e400h", "h"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
	for s, want := range map[string]float64{"4.5kW": 4.5, "800W": 0.8, "800 W": 0.8, "1.2MW": 1200, "0": 0} {
		if got, err := ParsePower(s); err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	d, err := ParseDist("discrete(90s: 0.2, 100s: 0.8)")
	if err != nil || math.Abs(d.Mean()-98) > 1e-9 {
		t.Errorf("discrete: %v %v", d, err)
	}
	if d, err := ParseDist("erlang(3, 6min)"); err != nil || d.Mean() != 360 {
		t.Errorf("erlang: %v %v", d, err)
	}
	if d, err := ParseNumberDist("tri(5, 20, 60)"); err != nil || math.Abs(d.Mean()-85.0/3) > 1e-9 {
		t.Errorf("tri: %v %v", d, err)
	}
	if _, err := ParseDist("tri(1min, 2min"); err == nil || !strings.Contains(err.Error(), "quote") {
		t.Errorf("unclosed: %v", err)
	}
}

// FuzzParse: whatever the input, Parse never panics and every error is
// located in the file.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../testdata/plants/*.yaml")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Add([]byte(base))
	f.Add([]byte(loopBase))
	f.Add([]byte("id: x\nsite: {id: s, areas: [{id: a, lines: [{id: l, workcenters: [{id: w, units: [{id: u}]}]}]}]}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("<<: {id: x}\n"))
	f.Add([]byte(strings.Replace(base, "calendar: always\n", "calendar: always\nlocale: zh-CN\ndowntime_reasons: [{code: jam, zh: 卡料, loss: setup}, {code: jam}]\nscrap_reasons: [{code: burr, en: Burr}]\n", 1)))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse("f.yaml", src)
		if err == nil {
			if p == nil || len(p.Units) == 0 {
				t.Fatal("no error and no plant")
			}
			return
		}
		var es Errors
		if !errors.As(err, &es) {
			t.Fatalf("not Errors: %T %v", err, err)
		}
		for _, e := range es {
			if e.File != "f.yaml" || e.Line < 1 || e.Msg == "" {
				t.Fatalf("unlocated error %#v", e)
			}
		}
	})
}
