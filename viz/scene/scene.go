// Package scene is what the views draw, in plain Go: stations at their
// floor positions coloured by machine state, buffers with their fill,
// the flows between work centres, and the KPI tiles, built from the plant
// file and a twin state. The web page and the desktop viewer both draw a
// Scene; neither knows where the state came from, but both show it
// (Source: live, replay, scenario, forecast).
//
// The palette is fixed so that a colour means the same thing everywhere:
//
//	running      #2e9e44  green
//	idle         #9aa5b1  grey
//	setup        #2f80ed  blue
//	down         #d64545  red
//	maintenance  #9b51e0  purple
//	blocked      #f2994a  orange
//	starved      #f2c94c  yellow
//	off          #4f4f4f  dark grey
//	unknown      #cfd4da  light grey (no data yet)
package scene

import (
	"image/color"
	"sort"
	"time"

	"twin/plant"
	"twin/plant/event"
	"twin/twin/state"
)

// Palette maps machine states to colours.
var Palette = map[event.MachineState]color.RGBA{
	event.Running:     {0x2e, 0x9e, 0x44, 0xff},
	event.Idle:        {0x9a, 0xa5, 0xb1, 0xff},
	event.Setup:       {0x2f, 0x80, 0xed, 0xff},
	event.Down:        {0xd6, 0x45, 0x45, 0xff},
	event.Maintenance: {0x9b, 0x51, 0xe0, 0xff},
	event.Blocked:     {0xf2, 0x99, 0x4a, 0xff},
	event.Starved:     {0xf2, 0xc9, 0x4c, 0xff},
	event.Off:         {0x4f, 0x4f, 0x4f, 0xff},
	event.Unknown:     {0xcf, 0xd4, 0xda, 0xff},
}

// Hex is a colour as #rrggbb.
func Hex(c color.RGBA) string {
	const d = "0123456789abcdef"
	return string([]byte{'#', d[c.R>>4], d[c.R&15], d[c.G>>4], d[c.G&15], d[c.B>>4], d[c.B&15]})
}

// Scene is one frame of the plant.
type Scene struct {
	Plant  string  `json:"plant"`
	Width  float64 `json:"width"` // metres
	Height float64 `json:"height"`
	Source string  `json:"source"` // live, replay, scenario, forecast
	Time   int64   `json:"time"`   // Unix ns of the latest event
	Zone   string  `json:"zone"`   // the plant's time zone (IANA): views show every time in it
	// Locale is the plant's default language for its screens (zh-CN,
	// en; the plant file's locale): a view shows it unless its user
	// chose another.
	Locale   string      `json:"locale,omitempty"`
	Areas    []Area      `json:"areas"`
	Stations []Station   `json:"stations"`
	Buffers  []Buffer    `json:"buffers"`
	Flows    []Flow      `json:"flows"`
	KPIs     KPIs        `json:"kpis"`
	Orders   []OpenOrder `json:"orders"`
	// Alarms are the twin's own (not a machine's): e.g. its data
	// directory's disk is full and nothing is being recorded. Views show
	// them across the top, where nobody misses them.
	Alarms []string `json:"alarms,omitempty"`
}

// Area is a labelled region (an ISA-95 area).
type Area struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
}

// Station is a machine.
type Station struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Path       string   `json:"path"`
	WorkCenter string   `json:"workcenter"`
	Line       string   `json:"line"`
	Area       string   `json:"area"`
	X          float64  `json:"x"` // centre, metres
	Y          float64  `json:"y"`
	W          float64  `json:"w"`
	H          float64  `json:"h"`
	State      string   `json:"state"`
	Color      string   `json:"color"`
	Since      int64    `json:"since"`
	Good       float64  `json:"good"`
	Reject     float64  `json:"reject"`
	PowerKW    float64  `json:"power_kw"`
	EnergyKWh  float64  `json:"energy_kwh"`
	Job        string   `json:"job,omitempty"`
	Alarms     []string `json:"alarms,omitempty"`
	Day        *Figures `json:"day,omitempty"` // its figures for the plant day so far
}

// Buffer is a work centre's input buffer.
type Buffer struct {
	WorkCenter string  `json:"workcenter"`
	X          float64 `json:"x"`
	Y          float64 `json:"y"`
	Level      float64 `json:"level"`
	Capacity   int     `json:"capacity"` // 0: unbounded
	Fill       float64 `json:"fill"`     // 0–1; for unbounded buffers relative to 50 parts
}

// Flow is a route between two work centres (an arrow on the floor).
type Flow struct {
	From string     `json:"from"`
	To   string     `json:"to"`
	A    [2]float64 `json:"a"`
	B    [2]float64 `json:"b"`
}

// KPIs are the tiles.
type KPIs struct {
	Running    int     `json:"running"`
	Down       int     `json:"down"`
	Machines   int     `json:"machines"`
	Good       float64 `json:"good"` // good parts at the last operation's stations
	WIP        float64 `json:"wip"`  // parts in buffers and machines
	PowerKW    float64 `json:"power_kw"`
	EnergyKWh  float64 `json:"energy_kwh"`
	CO2Kg      float64 `json:"co2_kg"`
	OpenOrders int     `json:"open_orders"`
	Faults     uint64  `json:"faults"`
	// Day is the plant's ISO 22400 figures for its day so far (OEE and its
	// factors, FPY, on-time, units, kWh per unit), the same numbers the
	// records API gives for the day; nil until computed.
	Day *Figures `json:"day,omitempty"`
}

// OpenOrder is a line of the order list.
type OpenOrder struct {
	ID       string  `json:"id"`
	Product  string  `json:"product"`
	Done     float64 `json:"done"`
	Quantity float64 `json:"quantity"`
	Due      int64   `json:"due"`
	Late     bool    `json:"late"`
}

// Layout is the part of a scene that depends only on the plant; Build
// fills in the rest from a state.
type Layout struct {
	p       *plant.Plant
	base    Scene
	final   map[string]bool // work centres of products' last operations
	stByPth map[string]int
}

// NewLayout lays out plant p.
func NewLayout(p *plant.Plant) *Layout {
	l := &Layout{p: p, final: map[string]bool{}, stByPth: map[string]int{}}
	b := &l.base
	b.Plant, b.Width, b.Height = p.ID, p.Layout.Width, p.Layout.Height
	if p.Location != nil && p.Location != time.Local {
		b.Zone = p.Location.String()
	}
	b.Locale = p.Locale
	for _, n := range p.Nodes {
		if n.Level == plant.AreaLevel {
			b.Areas = append(b.Areas, Area{ID: n.ID, Name: n.Name, X: n.At.X, Y: n.At.Y})
		}
	}
	for _, w := range p.WorkCenters {
		area, line := "", ""
		for n := w.Node; n != nil; n = n.Parent {
			switch n.Level {
			case plant.AreaLevel:
				area = n.ID
			case plant.LineLevel:
				line = n.ID
			}
		}
		for i, u := range w.Units {
			x, y := u.Node.At.X, u.Node.At.Y
			if x == 0 && y == 0 { // units without a position: in a row at their work centre
				x, y = w.Node.At.X+float64(i)*3, w.Node.At.Y
			}
			sw, sh := u.Node.Size.X, u.Node.Size.Y
			if sw == 0 {
				sw, sh = 2.6, 2.6
			}
			l.stByPth[u.Path()] = len(b.Stations)
			b.Stations = append(b.Stations, Station{ID: u.ID(), Name: u.Node.Name, Path: u.Path(), WorkCenter: w.ID(), Line: line, Area: area, X: x, Y: y, W: sw, H: sh})
		}
		bx, by := w.BufferAt.X, w.BufferAt.Y
		if bx == 0 && by == 0 {
			bx, by = w.Node.At.X, w.Node.At.Y-4
		}
		b.Buffers = append(b.Buffers, Buffer{WorkCenter: w.ID(), X: bx, Y: by, Capacity: w.Buffer})
	}
	seen := map[[2]string]bool{}
	for _, r := range p.Routings {
		for i := 1; i < len(r.Ops); i++ {
			a, c := r.Ops[i-1].Alternatives, r.Ops[i].Alternatives
			if len(a) == 0 || len(c) == 0 {
				continue
			}
			wa, wc := a[0].WorkCenter, c[0].WorkCenter
			k := [2]string{wa.ID(), wc.ID()}
			if wa == wc || seen[k] {
				continue
			}
			seen[k] = true
			b.Flows = append(b.Flows, Flow{From: wa.ID(), To: wc.ID(), A: [2]float64{wa.Node.At.X, wa.Node.At.Y}, B: [2]float64{wc.Node.At.X, wc.Node.At.Y}})
		}
		// parts feed the operation that consumes them
	}
	for _, pr := range p.Products {
		if r := pr.Routing; r != nil && len(r.Ops) > 0 && len(r.Ops[len(r.Ops)-1].Alternatives) > 0 {
			l.final[r.Ops[len(r.Ops)-1].Alternatives[0].WorkCenter.ID()] = true
		}
	}
	return l
}

// Plant returns the plant laid out.
func (l *Layout) Plant() *plant.Plant { return l.p }

// Build makes the scene of state s (which it only reads).
func (l *Layout) Build(s *state.State) *Scene {
	sc := l.base
	sc.Stations = append([]Station(nil), l.base.Stations...)
	sc.Buffers = append([]Buffer(nil), l.base.Buffers...)
	sc.Time, sc.Source = s.Time, s.Source.String()
	k := &sc.KPIs
	k.Machines = len(sc.Stations)
	for i := range sc.Stations {
		st := &sc.Stations[i]
		ms := event.Unknown
		if a := s.Asset(st.Path); a != nil {
			ms = a.State
			st.Since, st.Good, st.Reject = a.Since, a.Counters["good"], a.Counters["reject"]
			st.PowerKW, st.EnergyKWh, st.Job = a.Measures["power_kw"], a.Measures["energy_kwh"], a.Job
			for name := range a.Alarms {
				st.Alarms = append(st.Alarms, name)
			}
			sort.Strings(st.Alarms)
		}
		st.State, st.Color = ms.String(), Hex(Palette[ms])
		switch ms {
		case event.Running:
			k.Running++
		case event.Down:
			k.Down++
		}
		if st.Job != "" {
			k.WIP++
		}
		if l.final[st.WorkCenter] {
			k.Good += st.Good
		}
		k.PowerKW += st.PowerKW
		k.EnergyKWh += st.EnergyKWh
	}
	for i := range sc.Buffers {
		b := &sc.Buffers[i]
		for _, sb := range s.Buffers() {
			if wcOf(sb.Path) == b.WorkCenter {
				b.Level += sb.Level
			}
		}
		capacity := float64(b.Capacity)
		if capacity == 0 {
			capacity = 50
		}
		b.Fill = min(b.Level/capacity, 1)
		k.WIP += b.Level
	}
	k.CO2Kg = k.EnergyKWh * l.p.Energy.Emission.Factor
	for _, o := range s.Orders() {
		if o.Status == "completed" {
			continue
		}
		k.OpenOrders++
		sc.Orders = append(sc.Orders, OpenOrder{ID: o.ID, Product: o.Product, Done: o.Done, Quantity: o.Quantity, Due: o.Due, Late: o.Due != 0 && s.Time > o.Due})
	}
	sort.Slice(sc.Orders, func(i, j int) bool { return sc.Orders[i].Due < sc.Orders[j].Due })
	k.Faults = s.Faults()
	return &sc
}

// wcOf is the work centre of a buffer path ("…/winding/buffer" → "winding").
func wcOf(path string) string {
	end := len(path)
	if n := len("/buffer"); end > n && path[end-n:] == "/buffer" {
		end -= n
	}
	i := end - 1
	for i >= 0 && path[i] != '/' {
		i--
	}
	return path[i+1 : end]
}

// Station returns the station at equipment path, or nil.
func (sc *Scene) Station(path string) *Station {
	for i := range sc.Stations {
		if sc.Stations[i].Path == path {
			return &sc.Stations[i]
		}
	}
	return nil
}

// At returns the station under floor point (x, y), or nil: for clicks.
func (sc *Scene) At(x, y float64) *Station {
	for i := range sc.Stations {
		st := &sc.Stations[i]
		if x >= st.X-st.W/2 && x <= st.X+st.W/2 && y >= st.Y-st.H/2 && y <= st.Y+st.H/2 {
			return st
		}
	}
	return nil
}
