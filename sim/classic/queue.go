package classic

import (
	"fmt"
	"math"

	"twin/sim"
)

// Style is the way a queueing model is written on the kernel.
type Style uint8

const (
	// Events: an arrival event and one departure event per server; the
	// queue is a ring of arrival times. The leanest form.
	Events Style = iota
	// Servers: a source process feeds a store; one process per server
	// takes customers from it. The form of a plant's station.
	Servers
	// Customers: one process per customer that requests a Resource, holds
	// its service time and releases it: SimPy's own way of writing M/M/1.
	// Finished customer processes are reused, so it does not allocate per
	// customer.
	Customers
)

func (s Style) String() string {
	switch s {
	case Events:
		return "events"
	case Servers:
		return "servers"
	case Customers:
		return "customers"
	}
	return fmt.Sprintf("Style(%d)", uint8(s))
}

// ParseStyle parses "events", "servers" or "customers".
func ParseStyle(s string) (Style, error) {
	for _, st := range []Style{Events, Servers, Customers} {
		if st.String() == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("unknown style %q (want events, servers or customers)", s)
}

// Queue describes a G/G/c queue: interarrival and service times in seconds.
type Queue struct {
	Arrival   sim.Dist
	Service   sim.Dist
	Servers   int
	Customers int64 // stop after this many customers have been served
	Warmup    int64 // customers served before statistics start
	Seed      uint64
	Style     Style
}

// QueueResult holds the statistics of one run, after the warm-up.
type QueueResult struct {
	Customers   int64   // served and counted
	Events      uint64  // events dispatched, warm-up included
	Wait        float64 // mean time in queue, seconds (Wq)
	Sojourn     float64 // mean time in system, seconds (W)
	InSystem    float64 // time-average number in system (L)
	Arrivals    int64   // arrivals after the warm-up
	ArrivalRate float64 // observed arrivals per second after the warm-up
	Utilisation float64 // time-average fraction of servers busy
	Span        sim.Time
}

// queueStats collects the statistics shared by the three styles, in
// integer nanoseconds: the time customers waited and spent in the system,
// and the integrals of the number in the system and of the servers busy
// (exact sums, and cheap ones: the queue's hot path is also the kernel's
// benchmark).
type queueStats struct {
	env      *sim.Env
	warm     int64
	target   int64
	served   int64
	arrivals int64
	since    sim.Time
	last     sim.Time // of the last change of nSys or nBusy
	counted  int64    // departures counted (after the warm-up)
	waited   int64    // summed waits, ns
	waits    int64    // waits counted
	sojourn  int64    // summed times in system, ns
	sysArea  int64    // ∫ nSys dt, customers × ns
	busyArea int64    // ∫ nBusy dt, servers × ns
	servers  int
	nSys     int64
	nBusy    int64
}

// tick integrates the counts up to now.
func (q *queueStats) tick(now sim.Time) {
	dt := int64(now - q.last)
	q.sysArea += q.nSys * dt
	q.busyArea += q.nBusy * dt
	q.last = now
}

func (q *queueStats) arrive() {
	q.tick(q.env.Now())
	q.nSys++
	q.arrivals++
}

func (q *queueStats) start(arrived sim.Time) {
	now := q.env.Now()
	q.tick(now)
	q.nBusy++
	q.waited += int64(now - arrived)
	q.waits++
}

// depart records a departure and reports whether the run is complete.
func (q *queueStats) depart(arrived sim.Time) bool {
	now := q.env.Now()
	q.tick(now)
	q.nSys--
	q.nBusy--
	q.served++
	if q.served == q.warm {
		q.waited, q.waits, q.sojourn, q.counted = 0, 0, 0, 0
		q.sysArea, q.busyArea = 0, 0
		q.arrivals = 0
		q.since = now
		return false
	}
	if q.served > q.warm {
		q.sojourn += int64(now - arrived)
		q.counted++
	}
	if q.served >= q.target {
		q.env.Stop()
		return true
	}
	return false
}

func (q *queueStats) result() QueueResult {
	now := q.env.Now()
	q.tick(now)
	span := now - q.since
	perCustomer := func(sum, n int64) float64 {
		if n == 0 {
			return math.NaN()
		}
		return float64(sum) / float64(n) / float64(sim.Second)
	}
	r := QueueResult{
		Customers: q.counted,
		Events:    q.env.Fired(),
		Wait:      perCustomer(q.waited, q.waits),
		Sojourn:   perCustomer(q.sojourn, q.counted),
		Arrivals:  q.arrivals,
		Span:      span,
	}
	if span > 0 {
		r.InSystem = float64(q.sysArea) / float64(span)
		r.Utilisation = float64(q.busyArea) / float64(span) / float64(q.servers)
		r.ArrivalRate = float64(q.arrivals) / span.Seconds()
	}
	return r
}

// Run simulates the queue.
func (cfg Queue) Run() QueueResult {
	if cfg.Servers < 1 {
		cfg.Servers = 1
	}
	env := sim.New(sim.Options{Seed: cfg.Seed})
	st := &queueStats{env: env, warm: cfg.Warmup, target: cfg.Warmup + cfg.Customers, servers: cfg.Servers}
	arrivals := env.Stream("arrivals")
	service := env.Stream("service")
	switch cfg.Style {
	case Events:
		runEvents(env, cfg, st, arrivals, service)
	case Servers:
		runServers(env, cfg, st, arrivals, service)
	case Customers:
		runCustomers(env, cfg, st, arrivals, service)
	}
	env.Run()
	return st.result()
}

// ring is a FIFO of arrival times; its size is a power of two.
type ring struct {
	buf        []sim.Time
	head, size int
}

func (r *ring) push(t sim.Time) {
	if r.size == len(r.buf) {
		nb := make([]sim.Time, max(16, 2*len(r.buf)))
		for i := 0; i < r.size; i++ {
			nb[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.size)&(len(r.buf)-1)] = t
	r.size++
}

func (r *ring) pop() sim.Time {
	t := r.buf[r.head]
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.size--
	return t
}

func runEvents(env *sim.Env, cfg Queue, st *queueStats, arrivals, service *sim.Stream) {
	var queue ring
	type server struct {
		done    sim.Event
		arrived sim.Time
	}
	servers := make([]server, cfg.Servers)
	idle := make([]int, 0, cfg.Servers)
	for i := cfg.Servers - 1; i >= 0; i-- {
		idle = append(idle, i)
	}
	begin := func(i int, arrived sim.Time) {
		st.start(arrived)
		servers[i].arrived = arrived
		env.ScheduleIn(&servers[i].done, service.Duration(cfg.Service))
	}
	for i := range servers {
		i := i
		servers[i].done.Init("depart", func() {
			if st.depart(servers[i].arrived) {
				return
			}
			if queue.size > 0 {
				begin(i, queue.pop())
			} else {
				idle = append(idle, i)
			}
		})
	}
	var arrive sim.Event
	arrive.Init("arrive", func() {
		now := env.Now()
		st.arrive()
		if n := len(idle); n > 0 {
			i := idle[n-1]
			idle = idle[:n-1]
			begin(i, now)
		} else {
			queue.push(now)
		}
		env.ScheduleIn(&arrive, arrivals.Duration(cfg.Arrival))
	})
	env.ScheduleIn(&arrive, arrivals.Duration(cfg.Arrival))
}

func runServers(env *sim.Env, cfg Queue, st *queueStats, arrivals, service *sim.Stream) {
	queue := sim.NewStore[sim.Time](env, "queue", 0)
	env.Process("source", func(p *sim.Proc, step int) {
		switch step {
		case 1:
			st.arrive()
			queue.TryPut(p.Now())
			fallthrough
		case 0:
			p.Hold(arrivals.Duration(cfg.Arrival), 1)
		}
	})
	for i := 0; i < cfg.Servers; i++ {
		var arrived sim.Time
		env.Process(fmt.Sprintf("server%d", i), func(p *sim.Proc, step int) {
			switch step {
			case 0:
				queue.Get(p, &arrived, 1)
			case 1:
				st.start(arrived)
				p.Hold(service.Duration(cfg.Service), 2)
			case 2:
				if !st.depart(arrived) {
					queue.Get(p, &arrived, 1)
				}
			}
		})
	}
}

func runCustomers(env *sim.Env, cfg Queue, st *queueStats, arrivals, service *sim.Stream) {
	server := env.NewResource("server", cfg.Servers, sim.FIFO)
	type customer struct {
		p       *sim.Proc
		arrived sim.Time
		body    sim.ProcFunc
	}
	var free []*customer
	body := func(c *customer) sim.ProcFunc {
		return func(p *sim.Proc, step int) {
			switch step {
			case 0:
				c.arrived = p.Now()
				st.arrive()
				server.Request(p, 1)
			case 1:
				st.start(c.arrived)
				p.Hold(service.Duration(cfg.Service), 2)
			case 2:
				server.Release(p)
				st.depart(c.arrived)
				// Ending here returns the customer for reuse.
				free = append(free, c)
			}
		}
	}
	env.Process("source", func(p *sim.Proc, step int) {
		if step == 1 {
			if n := len(free); n > 0 {
				c := free[n-1]
				free = free[:n-1]
				c.p.Restart("customer", c.body)
			} else {
				c := &customer{}
				c.body = body(c)
				c.p = env.Process("customer", c.body)
			}
		}
		p.Hold(arrivals.Duration(cfg.Arrival), 1)
	})
}
