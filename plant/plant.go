package plant

import (
	"time"

	"twin/sim"
)

// Plant is a plant description with every reference resolved: what Load
// returns. Simulated time 0 is Start; times of day and calendars are read
// in Location.
type Plant struct {
	File     string // the file it was read from
	Version  int
	ID       string
	Name     string
	Unit     string // what the plant calls its finished units ("motors"); see UnitName
	Currency string // ISO 4217 code of every money amount ("CNY")
	Location *time.Location
	Start    time.Time // the instant of simulated time 0
	// Locale is the language the floor's screens open in: LocaleZH or
	// LocaleEN (the default).
	Locale string
	// DowntimeReasons and ScrapReasons are the reasons a person picks
	// for a stop and for scrap, in file order.
	DowntimeReasons []Reason
	ScrapReasons    []Reason

	Site        *Node         // the root of the equipment tree (ISA-95 site)
	Nodes       []*Node       // every equipment node, parents before children
	WorkCenters []*WorkCenter // in file order
	Units       []*Unit       // every machine, in file order
	Families    []string      // product families, for setups and times
	Parts       []*Part
	Products    []*Product
	Routings    []*Routing
	Calendars   []*Calendar
	Calendar    *Calendar // the default calendar of work centres
	Pools       []*Pool   // workers
	Energy      Energy
	Demand      Demand
	Layout      Layout
	Tags        Tags
}

// UnitName is what reports call the plant's finished units: the file's
// unit_name, or "units".
func (p *Plant) UnitName() string {
	if p.Unit == "" {
		return "units"
	}
	return p.Unit
}

// FindProduct returns the product with the id, or nil.
func (p *Plant) FindProduct(id string) *Product {
	for _, pr := range p.Products {
		if pr.ID == id {
			return pr
		}
	}
	return nil
}

// FindUnit returns the machine with the id or equipment path, or nil.
func (p *Plant) FindUnit(idOrPath string) *Unit {
	for _, u := range p.Units {
		if u.ID() == idOrPath || u.Path() == idOrPath {
			return u
		}
	}
	return nil
}

// Level is a level of the ISA-95 equipment hierarchy (B2MML
// EquipmentElementLevel) as discrete plants use it.
type Level uint8

const (
	SiteLevel Level = iota + 1
	AreaLevel
	LineLevel
	WorkCenterLevel
	UnitLevel
)

func (l Level) String() string {
	switch l {
	case SiteLevel:
		return "Site"
	case AreaLevel:
		return "Area"
	case LineLevel:
		return "ProductionLine"
	case WorkCenterLevel:
		return "WorkCenter"
	case UnitLevel:
		return "WorkUnit"
	}
	return "Level?"
}

// Point is a position on the plant's floor plan, in metres from its
// top-left corner (x right, y down).
type Point struct{ X, Y float64 }

// Node is one element of the equipment hierarchy.
type Node struct {
	ID     string
	Name   string
	Level  Level
	Path   string // "qijiang/motor/stator/winding/W2": the asset name in events
	Parent *Node
	Nodes  []*Node // children
	At     Point   // where the views draw it
	Size   Point   // its footprint (width, depth); zero: the views' default

	WorkCenter *WorkCenter // set at WorkCenterLevel
	Unit       *Unit       // set at UnitLevel
	// Saturate, at LineLevel, is the product the line never runs out
	// of: a unit of it always waits at the first operation of its
	// routing (a saturated line); nil: the line gets the plant's demand.
	Saturate *Product
}

// WorkCenter is a group of identical machines fed by one input buffer.
// Routings name work centres; any free unit of the group takes the next job.
type WorkCenter struct {
	Node     *Node
	Index    int
	Units    []*Unit
	Buffer   int   // capacity of the input buffer in parts; 0 means unbounded
	BufferAt Point // where the views draw the buffer
	Dispatch Rule  // how the next job is chosen from the buffer
	Skill    string
	Calendar *Calendar
	Setup    *SetupMatrix // nil: no changeovers
	Batch    *Batch       // nil: one part at a time
	// Blocking is when a full buffer stops the machines that feed it.
	Blocking Blocking
}

// Blocking is the rule by which a full buffer stops the machines upstream.
type Blocking uint8

const (
	// AfterService: an upstream machine makes its part and, finding the
	// buffer full, holds it (blocked) until a place is free.
	AfterService Blocking = iota
	// BeforeService: an upstream machine starts a part only when the
	// buffer has a place for it, which it keeps until the part arrives.
	BeforeService
)

func (b Blocking) String() string {
	if b == BeforeService {
		return "before"
	}
	return "after"
}

// ID returns the work centre's id.
func (w *WorkCenter) ID() string { return w.Node.ID }

// Path returns the work centre's equipment path.
func (w *WorkCenter) Path() string { return w.Node.Path }

// Unit is one machine (an ISA-95 work unit).
type Unit struct {
	Node        *Node
	Index       int
	WorkCenter  *WorkCenter
	Power       Power
	Failures    []Failure
	Maintenance []Maintenance
	Nameplate   Nameplate
}

// ID returns the unit's id.
func (u *Unit) ID() string { return u.Node.ID }

// Path returns the unit's equipment path.
func (u *Unit) Path() string { return u.Node.Path }

// Nameplate is the identification of OPC 40001-1 (Machinery), for the
// equipment ledger.
type Nameplate struct {
	Manufacturer       string
	Model              string
	SerialNumber       string
	YearOfConstruction int
}

// Power is the electrical draw of a machine per state, in kW. Blocked and
// starved machines draw Idle; planned maintenance draws Down.
type Power struct {
	Off, Idle, Setup, Busy, Down float64
}

// Basis is what a failure or maintenance interval counts.
type Basis uint8

const (
	OperatingTime Basis = iota // busy time: wear comes with work
	CalendarTime               // wall time, whatever the machine does
)

func (b Basis) String() string {
	if b == CalendarTime {
		return "calendar"
	}
	return "operating"
}

// Failure is a failure mode of a machine.
type Failure struct {
	Name  string
	TBF   sim.Dist // time between failures, seconds, counted on Basis
	Basis Basis
	TTR   sim.Dist // time to repair, seconds
	Skill string   // the repair needs a worker with this skill; "" none
}

// Maintenance is planned maintenance of a machine: every Every of Basis
// time, the machine stops after its current operation for Duration.
type Maintenance struct {
	Name     string
	Every    sim.Time
	Basis    Basis
	Duration sim.Dist // seconds
	Skill    string
}

// SetupMatrix gives changeover times between product families.
type SetupMatrix struct {
	Default sim.Dist               // a change without an entry; nil: none
	First   sim.Dist               // the first part after a start; nil: none
	Times   map[[2]string]sim.Dist // [from, to] family
}

// Time returns the changeover from family from to family to, or nil when
// there is none. from is "" for the first part.
func (m *SetupMatrix) Time(from, to string) sim.Dist {
	if m == nil {
		return nil
	}
	if from == "" {
		return m.First
	}
	if d, ok := m.Times[[2]string{from, to}]; ok {
		return d
	}
	if from == to {
		return nil
	}
	return m.Default
}

// Batch makes a work centre process up to Max parts per cycle (an
// impregnation oven). A cycle starts when Max parts wait, or when at least
// Min wait and the oldest has waited MaxWait.
type Batch struct {
	Max        int
	Min        int
	MaxWait    sim.Time
	SameFamily bool // only parts of one family share a cycle
}

// Rule is a dispatch rule: the order in which a work centre takes the jobs
// waiting in its buffer.
type Rule uint8

const (
	FIFO     Rule = iota // first come, first served
	EDD                  // earliest due date of the order
	SPT                  // shortest processing time at this operation
	Priority             // highest customer priority, then EDD
	CR                   // smallest critical ratio: time to due date / remaining work
	Setup                // same family as the last part first (saves changeovers), then EDD
)

var ruleNames = [...]string{"fifo", "edd", "spt", "priority", "cr", "setup"}

func (r Rule) String() string {
	if int(r) < len(ruleNames) {
		return ruleNames[r]
	}
	return "rule?"
}

// Rules lists the dispatch rules.
func Rules() []Rule { return []Rule{FIFO, EDD, SPT, Priority, CR, Setup} }

// Part is a part type: manufactured along a routing, or purchased.
type Part struct {
	ID        string
	Name      string
	Index     int
	Purchased bool
	Routing   *Routing // nil if purchased
	Cost      float64  // per unit, in the plant currency; 0 if unknown
}

// Product is a finished product (a motor model): a family, a bill of
// materials and the routing of its final operations.
type Product struct {
	ID      string
	Name    string
	Family  string
	Index   int
	BOM     []Component
	Routing *Routing
}

// Component is a line of a bill of materials.
type Component struct {
	Part *Part
	Qty  int
}

// Routing is an ordered list of operations.
type Routing struct {
	ID  string
	Ops []*Operation
}

// Operation is one step of a routing.
type Operation struct {
	ID      string
	Name    string
	Index   int // position in the routing
	Routing *Routing
	// Alternatives are the work centres that can do the operation, in
	// order of preference; a job goes to the first with room in its buffer.
	Alternatives []Alternative
	// Consumes lists the parts joined to the job here (assembly): the
	// operation waits until one set made for the same order is available.
	Consumes []Component
	Inspect  *Inspection
	// Instructions are the work instructions the operator's screen
	// shows with the card (plain text, may hold a URL); nil: none.
	Instructions *Text
	// ScrapReasons narrows the plant's scrap reasons to the codes this
	// operation offers; nil: all of them.
	ScrapReasons []string
}

// Alternative is a work centre able to do an operation and its time there.
type Alternative struct {
	WorkCenter *WorkCenter
	Time       Times
}

// Times gives a processing time per product or product family, in
// seconds per part.
type Times struct {
	Default   sim.Dist
	ByFamily  map[string]sim.Dist
	ByProduct map[string]sim.Dist // by product id: wins over the family
}

// For returns the time for family.
func (t Times) For(family string) sim.Dist {
	if d, ok := t.ByFamily[family]; ok {
		return d
	}
	return t.Default
}

// ForProduct returns the time for a part of the given product and family.
func (t Times) ForProduct(product, family string) sim.Dist {
	if d, ok := t.ByProduct[product]; ok {
		return d
	}
	return t.For(family)
}

// Inspection turns an operation into a check: a part passes with
// probability Yield; a failed part is scrapped with probability Scrap, and
// otherwise reworked: at Rework, then inspected again; or from BackTo, an
// operation of the routing at or before this one, doing it and every
// operation after it again. A part that has failed MaxRework times
// already (0: no limit) and fails again is not reworked: PastMax says
// what becomes of it.
type Inspection struct {
	Yield           float64
	Scrap           float64
	Rework          *Alternative // nil: no rework station
	BackTo          *Operation   // nil: no loop back
	MaxRework       int
	PastMax         Outcome
	Characteristics []Characteristic
}

// Reworks reports whether failed parts are reworked (not all scrapped).
func (in *Inspection) Reworks() bool { return in.Rework != nil || in.BackTo != nil }

// Outcome is what becomes of a part that failed an inspection beyond its
// rework limit.
type Outcome uint8

const (
	Scrapped   Outcome = iota // scrapped (a made part is made again)
	Concession                // accepted as it is, by a concession, and sent on
)

func (o Outcome) String() string {
	if o == Concession {
		return "concession"
	}
	return "scrap"
}

// Characteristic is a measured property of an inspection plan.
type Characteristic struct {
	Name     string
	Unit     string
	Nominal  float64
	LSL, USL float64
}

// Calendar is a working-time calendar: when machines and workers work.
type Calendar struct {
	ID       string
	Always   bool // works around the clock, every day, holidays included
	Shifts   []Shift
	Holidays []Date
}

// Shift is a recurring working period.
type Shift struct {
	Name   string
	Days   [7]bool       // indexed by time.Weekday
	Start  time.Duration // time of day
	End    time.Duration // time of day; before Start: the shift ends the next day
	Breaks []Span        // times of day within the shift
}

// Span is a time-of-day interval [From, To); To before From crosses
// midnight.
type Span struct {
	From, To time.Duration
}

// Date is a calendar date in the plant's location.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// Pool is a group of workers with one skill.
type Pool struct {
	ID       string
	Skill    string
	Count    int            // workers on every shift without an entry in PerShift
	PerShift map[string]int // workers by shift name
	Calendar *Calendar      // when they work; nil: the plant calendar
}

// Energy holds the energy prices and the emission factor.
type Energy struct {
	Tariff   Tariff
	Emission Emission
}

// Tariff is a time-of-use electricity tariff. The first period whose months
// and hours match a time gives its price.
type Tariff struct {
	Periods []TariffPeriod
}

// TariffPeriod is a price band (peak, flat, valley, critical peak).
type TariffPeriod struct {
	Name   string
	Price  float64  // per kWh, in the plant currency
	Months [13]bool // indexed by month (1–12); all false: every month
	Hours  []Span   // times of day; empty: all day
}

// Emission is the grid emission factor used for CO2 (GHG Protocol scope 2,
// location-based unless Basis says otherwise).
type Emission struct {
	Factor float64 // kg CO2 per kWh
	Year   int
	Source string
	Basis  string // "location" or "market"
}

// Demand is the work the plant is given.
type Demand struct {
	Orders     []Order
	Generator  *Generator // nil: the order list only
	Dispatch   Rule       // default dispatch rule of work centres
	Priorities []string   // customer priority names, least to most urgent; a priority is an index
}

// Order is a customer order for a quantity of one product.
type Order struct {
	ID       string
	Customer string
	Product  *Product
	Quantity int
	Release  time.Time
	Due      time.Time
	Priority int
}

// Generator creates orders at random.
type Generator struct {
	Interarrival sim.Dist  // seconds between orders
	Mix          []Share   // products, by weight
	Quantity     sim.Dist  // parts per order (rounded, at least 1)
	DueIn        sim.Dist  // seconds from release to due date
	Priority     []float64 // weight of each priority level (Demand.Priorities)
	Customers    []string
	Until        time.Time // no orders after this; zero: none
}

// Share is a product with a weight in a mix.
type Share struct {
	Product *Product
	Weight  float64
}

// Layout is the floor plan the views draw.
type Layout struct {
	Width, Height float64 // metres
}

// Tags map the live plant's signals to assets. The connectors read them;
// nothing downstream sees a node id or a topic.
type Tags struct {
	OPCUA []OPCUAServer
	MQTT  []MQTTBroker
}

// Signal is what a tag carries for its asset.
type Signal string

// The signals the twin understands.
const (
	SignalState  Signal = "state"      // machine state (a number or a name; see ValueMap)
	SignalGood   Signal = "good"       // good parts counter
	SignalReject Signal = "reject"     // rejected parts counter
	SignalPower  Signal = "power_kw"   // power in kW
	SignalEnergy Signal = "energy_kwh" // energy meter in kWh
	SignalOrder  Signal = "order"      // current order
)

// OPCUAServer is an OPC UA endpoint and the nodes to monitor on it.
type OPCUAServer struct {
	Endpoint string
	Policy   string // "None", "Basic256Sha256"
	Mode     string // "None", "Sign", "SignAndEncrypt"
	User     string
	Password string // or "$ENV_VAR"
	Cert     string // client certificate (PEM or DER file)
	Key      string
	Interval time.Duration // publishing interval
	Nodes    []NodeTag
}

// NodeTag maps one OPC UA node to an asset's signal.
type NodeTag struct {
	Node     string // "ns=2;s=W2.State"
	Asset    string // equipment path
	Signal   Signal
	ValueMap map[string]string // raw value → machine state name, for state signals
}

// MQTTBroker is an MQTT broker and the topics to subscribe to.
type MQTTBroker struct {
	URL       string // tcp://host:1883, ssl://host:8883
	ClientID  string
	User      string
	Password  string // or "$ENV_VAR"
	CA        string // CA certificate file for TLS
	Topics    []TopicTag
	Sparkplug *Sparkplug
}

// TopicTag maps a topic carrying JSON to an asset's signal.
type TopicTag struct {
	Topic    string
	Asset    string
	Signal   Signal
	Field    string // JSON field holding the value; "" the whole payload
	ValueMap map[string]string
}

// Sparkplug maps Sparkplug B edge nodes and devices to assets.
type Sparkplug struct {
	Group   string
	HostID  string
	Devices []SparkplugDevice
}

// SparkplugDevice maps one device's metrics to an asset.
type SparkplugDevice struct {
	EdgeNode string
	Device   string // "" for node-level metrics
	Asset    string
	Metrics  map[string]Signal // metric name → signal
}
