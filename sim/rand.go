package sim

import (
	"math/rand/v2"
)

// Stream is an independent random stream, seeded from a master seed and a
// name. Give every entity that draws random numbers its own stream
// (Env.Stream("winding/W2")): adding or removing an entity then leaves
// every other entity's draws unchanged, which is what makes common random
// numbers across scenario variants work.
type Stream struct {
	*rand.Rand
	name string
	pcg  *rand.PCG
}

// NewStream returns the stream named name under seed. The same seed and
// name always give the same sequence.
func NewStream(seed uint64, name string) *Stream {
	h := fnv64(name)
	s1 := splitmix(seed ^ h)
	s2 := splitmix(s1 ^ 0x6a09e667f3bcc909)
	pcg := rand.NewPCG(s1, s2)
	return &Stream{Rand: rand.New(pcg), name: name, pcg: pcg}
}

// Name returns the stream's name.
func (s *Stream) Name() string { return s.name }

// Duration draws from d (in seconds) and returns it as simulated time;
// negative draws give 0. The exponential, the commonest on the kernel's
// hot path, is drawn without the interface call (the same number).
func (s *Stream) Duration(d Dist) Time {
	if e, ok := d.(Exponential); ok {
		return FromSeconds(s.ExpFloat64() * e.M)
	}
	return FromSeconds(d.Sample(s))
}

// Bernoulli returns true with probability p.
func (s *Stream) Bernoulli(p float64) bool { return s.Float64() < p }

// Stream returns the environment's stream named name, creating it on first
// use. Streams depend only on the master seed and the name, never on the
// order in which they are created.
func (e *Env) Stream(name string) *Stream {
	if s, ok := e.streams[name]; ok {
		return s
	}
	s := NewStream(e.seed, name)
	e.streams[name] = s
	return s
}

// ReplicationSeed derives the master seed of replication rep from a base
// seed. Variants that use the same base seed and replication number share
// their streams (common random numbers); different replications are
// independent.
func ReplicationSeed(base uint64, rep int) uint64 {
	return splitmix(base + uint64(rep)*0x9e3779b97f4a7c15)
}

// splitmix is the SplitMix64 finaliser: a bijective mix that spreads
// nearby seeds far apart.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// fnv64 is FNV-1a, 64 bits.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
