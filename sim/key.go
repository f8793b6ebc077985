package sim

// Key mixes a seed and a few integers into one 64-bit key: the identity of
// a random draw. Keyed draws make common random numbers as strong as they
// can be: the processing time of job 17's third operation is the same in
// every scenario variant, whichever machine ends up doing it.
func Key(seed uint64, a, b, c uint64) uint64 {
	return splitmix(splitmix(splitmix(seed^a)^b) ^ c)
}

// Reseed restarts the stream at the sequence identified by key (see Key).
// Drawing after Reseed(k) always gives the same numbers for the same k, so
// a model can keep one stream and reseed it per draw identity. It allocates
// nothing.
func (s *Stream) Reseed(key uint64) {
	s.pcg.Seed(key, splitmix(key^0x6a09e667f3bcc909))
}
