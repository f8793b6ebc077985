package mes

import "sync/atomic"

// Stats count the card scans the records have carried out since they
// were opened, by outcome (twin/metrics exports them).
type Stats struct {
	// Started and Confirmed count the scans that started or confirmed an
	// operation (a confirmation is counted once: its operation's
	// Confirmations is 1).
	Started   uint64 `json:"started"`
	Confirmed uint64 `json:"confirmed"`
	// Duplicates counts the scans that changed nothing: a retried
	// delivery (a ScanID seen before), a start of a started operation,
	// a confirmation of a confirmed one.
	Duplicates uint64 `json:"duplicates"`
	// Refused counts the scans that returned an error: a bad field or
	// token, the routing's rules, a conflict, a failed write.
	Refused uint64 `json:"refused"`
}

// scanStats are the counters behind Stats.
type scanStats struct {
	started, confirmed, duplicates, refused atomic.Uint64
}

// count counts one scan's outcome.
func (s *scanStats) count(res *ScanResult, err error) {
	switch {
	case err != nil:
		s.refused.Add(1)
	case res.Duplicate:
		s.duplicates.Add(1)
	case res.Action == "started":
		s.started.Add(1)
	case res.Action == "confirmed":
		s.confirmed.Add(1)
	}
}

// Stats returns the scan counters.
func (d *DB) Stats() Stats {
	return Stats{Started: d.scans.started.Load(), Confirmed: d.scans.confirmed.Load(),
		Duplicates: d.scans.duplicates.Load(), Refused: d.scans.refused.Load()}
}

// Closed says whether the records' database is closed (by Close, or by
// Badger after a failure it cannot go on from).
func (d *DB) Closed() bool { return d.st.Closed() }
