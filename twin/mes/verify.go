package mes

import (
	"fmt"
	"strings"

	"twin/twin/mes/recstore"
)

// IndexReport is what VerifyIndexes found.
type IndexReport struct {
	Indexes  int      // index entries checked
	Records  int      // records and audit entries checked for their index entries
	Problems []string // each wrong index entry or record, with its key
}

// maxProblems bounds the problems a report lists (it counts them all).
const maxProblems = 1000

// VerifyIndexes checks the records' indexes against their records
// (recstore/FORMAT.md, "Indexes"), in one read transaction: every index
// entry names a record that exists (x/order/… also its order; x/audit/…
// an audit entry of that record), every audit entry has its x/audit
// entry, and every work order and operation its x/order entry. A record
// that does not decode is listed as such. Derived data (x/active,
// x/oncard) is not checked. Problems past the first 1,000 are counted,
// not listed.
func VerifyIndexes(st *recstore.Store) (*IndexReport, error) {
	rep, _, err := checkIndexes(st)
	return rep, err
}

// IndexFixes is what RepairIndexes changed.
type IndexFixes struct {
	Removed int // index entries without their record (or of the wrong shape) removed
	Added   int // index entries a record or audit entry lacked, written
}

// RepairIndexes rebuilds what VerifyIndexes finds wrong and can be
// rebuilt from the records: it removes index entries whose record or
// audit entry is missing (a damaged one recstore.Store.Repair moved to
// the quarantine) or that are of the wrong shape or name another record,
// and writes the x/audit and x/order entries that audit entries, work
// orders and operations lack. An index entry whose order is missing
// while its record exists is kept (it is how the record is found from
// the order in the quarantine). Run it after Repair, on a stopped twin.
func RepairIndexes(st *recstore.Store) (IndexFixes, error) {
	var fx IndexFixes
	_, fixes, err := checkIndexes(st)
	if err != nil {
		return fx, err
	}
	for len(fixes) > 0 {
		n := min(len(fixes), 1000)
		err := st.Update("system", "verify.repair", func(t *recstore.Tx) error {
			for _, f := range fixes[:n] {
				var err error
				if f.add {
					err = t.Mark(f.key, nil)
				} else {
					err = t.Delete(f.key)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fx, fmt.Errorf("mes: repairing the indexes: %w", err)
		}
		for _, f := range fixes[:n] {
			if f.add {
				fx.Added++
			} else {
				fx.Removed++
			}
		}
		fixes = fixes[n:]
	}
	return fx, nil
}

// indexFix is an index entry to remove, or to write (add).
type indexFix struct {
	key string
	add bool
}

func checkIndexes(st *recstore.Store) (*IndexReport, []indexFix, error) {
	rep := &IndexReport{}
	var fixes []indexFix
	n := 0
	bad := func(format string, a ...any) {
		if n++; len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, fmt.Sprintf(format, a...))
		}
	}
	del := func(k string) { fixes = append(fixes, indexFix{key: k}) }
	add := func(k string) { fixes = append(fixes, indexFix{key: k, add: true}) }
	err := st.View(func(t *recstore.Tx) error {
		var err error
		exists := func(k string) bool {
			ok, e := t.Exists(k)
			if e != nil && err == nil {
				err = e
			}
			return ok
		}
		t.Scan("x/", "", func(rest string, _ int64) bool {
			key := "x/" + rest
			p := strings.Split(rest, "/")
			switch p[0] {
			case "active", "oncard":
				return true // derived, not an index
			case "audit": // x/audit/<kind>/<id>/<seq>
				rep.Indexes++
				if len(p) < 4 {
					bad("%s: an audit index entry of the wrong shape", key)
					del(key)
					return true
				}
				seq := p[len(p)-1]
				var e recstore.AuditEntry
				ok, gerr := t.Get("aud/"+seq, &e)
				switch {
				case gerr != nil:
					bad("%s: its audit entry aud/%s: %v", key, seq, gerr)
				case !ok && t.PassedOver("aud/"+seq) != nil:
					bad("%s: its audit entry aud/%s does not decode: %v", key, seq, t.PassedOver("aud/"+seq))
				case !ok:
					bad("%s: its audit entry aud/%s is missing", key, seq)
					del(key)
				case e.ID != strings.Join(p[2:len(p)-1], "/") || kindName[p[1]] != "" && e.Kind != kindName[p[1]]:
					bad("%s: its audit entry aud/%s is of %s %s", key, seq, e.Kind, e.ID)
					del(key)
				}
			case "time": // x/time/<what>/<kind>/<ns>/<id>
				rep.Indexes++
				if len(p) < 5 {
					bad("%s: a time index entry of the wrong shape", key)
					del(key)
				} else if rk := p[2] + "/" + strings.Join(p[4:], "/"); !exists(rk) {
					bad("%s: its record %s is missing", key, rk)
					del(key)
				}
			default: // x/<by>/<owner>/<kind>/<id>
				rep.Indexes++
				if len(p) < 4 {
					bad("%s: an index entry of the wrong shape", key)
					del(key)
					return true
				}
				if rk := p[len(p)-2] + "/" + p[len(p)-1]; !exists(rk) {
					bad("%s: its record %s is missing", key, rk)
					del(key)
				} else if p[0] == "order" && !exists("order/"+p[1]) {
					bad("%s: its order order/%s is missing", key, p[1])
				}
			}
			return err == nil
		})
		if err != nil {
			return err
		}
		prefixOf := map[string]string{}
		for k, v := range kindName {
			prefixOf[v] = k
		}
		t.Scan("aud/", "", func(seq string, _ int64) bool {
			rep.Records++
			var e recstore.AuditEntry
			ok, gerr := t.Get("aud/"+seq, &e)
			if gerr == nil && !ok {
				gerr = t.PassedOver("aud/" + seq)
			}
			if gerr != nil {
				bad("aud/%s: does not decode: %v", seq, gerr)
				return true
			}
			if k := prefixOf[e.Kind]; k != "" && !exists("x/audit/"+k+"/"+e.ID+"/"+seq) {
				bad("aud/%s (%s %s): its index entry x/audit/%s/%s/%s is missing", seq, e.Kind, e.ID, k, e.ID, seq)
				add("x/audit/" + k + "/" + e.ID + "/" + seq)
			}
			return err == nil
		})
		for _, kind := range []string{"wo", "op"} {
			t.Scan(kind+"/", "", func(id string, _ int64) bool {
				rep.Records++
				var r struct {
					Order string `json:"order"`
				}
				ok, gerr := t.Get(kind+"/"+id, &r)
				if gerr == nil && !ok {
					gerr = t.PassedOver(kind + "/" + id)
				}
				if gerr != nil {
					bad("%s/%s: does not decode: %v", kind, id, gerr)
					return true
				}
				if r.Order != "" && !exists("x/order/"+r.Order+"/"+kind+"/"+id) {
					bad("%s/%s: its index entry x/order/%s/%s/%s is missing", kind, id, r.Order, kind, id)
					add("x/order/" + r.Order + "/" + kind + "/" + id)
				}
				return err == nil
			})
		}
		return err
	})
	if n > len(rep.Problems) {
		rep.Problems = append(rep.Problems, fmt.Sprintf("… and %d more", n-len(rep.Problems)))
	}
	if err != nil {
		return rep, nil, fmt.Errorf("mes: verifying the indexes: %w", err)
	}
	return rep, fixes, nil
}
