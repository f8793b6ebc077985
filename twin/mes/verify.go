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
// entry, and every work order and operation its x/order entry. Derived
// data (x/active, x/oncard) is not checked. Problems past the first
// 1,000 are counted, not listed.
func VerifyIndexes(st *recstore.Store) (*IndexReport, error) {
	rep := &IndexReport{}
	n := 0
	bad := func(format string, a ...any) {
		if n++; len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, fmt.Sprintf(format, a...))
		}
	}
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
					return true
				}
				seq := p[len(p)-1]
				var e recstore.AuditEntry
				ok, gerr := t.Get("aud/"+seq, &e)
				switch {
				case gerr != nil:
					bad("%s: its audit entry aud/%s does not decode: %v", key, seq, gerr)
				case !ok:
					bad("%s: its audit entry aud/%s is missing", key, seq)
				case e.ID != strings.Join(p[2:len(p)-1], "/") || kindName[p[1]] != "" && e.Kind != kindName[p[1]]:
					bad("%s: its audit entry aud/%s is of %s %s", key, seq, e.Kind, e.ID)
				}
			case "time": // x/time/<what>/<kind>/<ns>/<id>
				rep.Indexes++
				if len(p) < 5 {
					bad("%s: a time index entry of the wrong shape", key)
				} else if rk := p[2] + "/" + strings.Join(p[4:], "/"); !exists(rk) {
					bad("%s: its record %s is missing", key, rk)
				}
			default: // x/<by>/<owner>/<kind>/<id>
				rep.Indexes++
				if len(p) < 4 {
					bad("%s: an index entry of the wrong shape", key)
					return true
				}
				if rk := p[len(p)-2] + "/" + p[len(p)-1]; !exists(rk) {
					bad("%s: its record %s is missing", key, rk)
				}
				if p[0] == "order" && !exists("order/"+p[1]) {
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
			if _, gerr := t.Get("aud/"+seq, &e); gerr != nil {
				bad("aud/%s: does not decode: %v", seq, gerr)
				return true
			}
			if k := prefixOf[e.Kind]; k != "" && !exists("x/audit/"+k+"/"+e.ID+"/"+seq) {
				bad("aud/%s (%s %s): its index entry x/audit/%s/%s/%s is missing", seq, e.Kind, e.ID, k, e.ID, seq)
			}
			return err == nil
		})
		for _, kind := range []string{"wo", "op"} {
			t.Scan(kind+"/", "", func(id string, _ int64) bool {
				rep.Records++
				var r struct {
					Order string `json:"order"`
				}
				if _, gerr := t.Get(kind+"/"+id, &r); gerr != nil {
					bad("%s/%s: does not decode: %v", kind, id, gerr)
					return true
				}
				if r.Order != "" && !exists("x/order/"+r.Order+"/"+kind+"/"+id) {
					bad("%s/%s: its index entry x/order/%s/%s/%s is missing", kind, id, r.Order, kind, id)
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
		return rep, fmt.Errorf("mes: verifying the indexes: %w", err)
	}
	return rep, nil
}
