package classic

import (
	"fmt"

	"twin/sim"
)

// MachineShop is SimPy's machine-shop example: identical machines make
// parts and break down now and then; one repairman fixes them, preempting
// his other, less important jobs. Times are in minutes.
type MachineShop struct {
	Machines    int
	PTMean      float64 // mean processing time of a part
	PTSigma     float64 // its standard deviation (normal)
	MTTF        float64 // mean time to failure (exponential, calendar time)
	RepairTime  float64
	JobDuration float64 // the repairman's other jobs
	Weeks       float64
	Seed        uint64
}

// DefaultMachineShop returns SimPy's parameters.
func DefaultMachineShop() MachineShop {
	return MachineShop{Machines: 10, PTMean: 10, PTSigma: 2, MTTF: 300, RepairTime: 30, JobDuration: 30, Weeks: 4, Seed: 42}
}

// MachineShopResult is the outcome of one run.
type MachineShopResult struct {
	Parts       []int // parts made per machine
	Repairs     int
	OtherJobs   int // other jobs the repairman finished
	Preemptions int // times a repair preempted an other job
	Events      uint64
}

type shopMachine struct {
	ms      *MachineShop
	rep     *sim.Resource
	proc    *sim.Proc
	part    *sim.Stream
	parts   int
	repairs int
	broken  bool
	doneIn  sim.Time
}

const (
	msNewPart = iota
	msWorked
	msGotRepairman
	msRepaired
)

func (m *shopMachine) work(p *sim.Proc, step int) {
	switch step {
	case msNewPart:
		m.doneIn = m.part.Duration(sim.Normal{Mu: m.ms.PTMean * 60, Sigma: m.ms.PTSigma * 60})
		p.Hold(m.doneIn, msWorked)
	case msWorked:
		if in := p.Interrupted(); in != nil {
			// Broken while working: keep what is left of the part.
			m.broken = true
			m.doneIn = in.Remaining
			m.rep.RequestPrio(p, 1, msGotRepairman)
			return
		}
		m.parts++
		m.work(p, msNewPart)
	case msGotRepairman:
		p.Hold(sim.FromSeconds(m.ms.RepairTime*60), msRepaired)
	case msRepaired:
		m.rep.Release(p)
		m.repairs++
		m.broken = false
		if m.doneIn > 0 {
			p.Hold(m.doneIn, msWorked)
			return
		}
		m.parts++
		m.work(p, msNewPart)
	}
}

// Run simulates the shop.
func (ms MachineShop) Run() MachineShopResult {
	env := sim.New(sim.Options{Seed: ms.Seed})
	repairman := env.NewResource("repairman", 1, sim.Preemptive)
	machines := make([]*shopMachine, ms.Machines)
	for i := range machines {
		m := &shopMachine{ms: &ms, rep: repairman, part: env.Stream(fmt.Sprintf("machine%d/part", i))}
		machines[i] = m
		m.proc = env.Process(fmt.Sprintf("machine%d", i), m.work)
		failures := env.Stream(fmt.Sprintf("machine%d/failure", i))
		env.Process(fmt.Sprintf("machine%d/breaker", i), func(p *sim.Proc, step int) {
			if step == 1 && !m.broken {
				m.proc.Interrupt("failure")
			}
			p.Hold(failures.Duration(sim.Exponential{M: ms.MTTF * 60}), 1)
		})
	}
	res := MachineShopResult{}
	jobDoneIn := sim.Time(0)
	env.Process("other jobs", func(p *sim.Proc, step int) {
		switch step {
		case 0: // a new job
			jobDoneIn = sim.FromSeconds(ms.JobDuration * 60)
			repairman.RequestPrio(p, 2, 1)
		case 1: // holding the repairman
			p.Hold(jobDoneIn, 2)
		case 2:
			if in := p.Interrupted(); in != nil {
				// Preempted by a repair: the resource was taken from us.
				res.Preemptions++
				jobDoneIn = in.Remaining
				repairman.RequestPrio(p, 2, 1)
				return
			}
			repairman.Release(p)
			res.OtherJobs++
			jobDoneIn = sim.FromSeconds(ms.JobDuration * 60)
			repairman.RequestPrio(p, 2, 1)
		}
	})
	env.RunUntil(sim.FromSeconds(ms.Weeks * 7 * 24 * 3600))
	for _, m := range machines {
		res.Parts = append(res.Parts, m.parts)
		res.Repairs += m.repairs
	}
	res.Events = env.Fired()
	return res
}
