package api

import (
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"twin/twin/mes"
)

var update = flag.Bool("update", false, "rewrite ROLES.md's table from the route table")

const rolesBegin, rolesEnd = "<!-- roles:begin -->\n", "<!-- roles:end -->"

// TestRolesDoc keeps ROLES.md's table the route table's.
func TestRolesDoc(t *testing.T) {
	b, err := os.ReadFile("ROLES.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, rolesBegin), strings.Index(doc, rolesEnd)
	if i < 0 || j < i {
		t.Fatal("ROLES.md has no roles:begin/end markers")
	}
	want := RolesTable(routes())
	if got := doc[i+len(rolesBegin) : j]; got != want {
		if *update {
			os.WriteFile("ROLES.md", []byte(doc[:i+len(rolesBegin)]+want+doc[j:]), 0o644)
			return
		}
		t.Fatal("ROLES.md's table is not the route table's: run go test ./twin/mes/api -run TestRolesDoc -update")
	}
}

// TestRoleMatrix sends every endpoint a request as every role, and
// without a token, and checks each answer against ROLES.md: a denied cell
// is 403, an allowed one is never 401 or 403. It does so with each role's
// API token, and again with each role's browser session (its cookie and
// CSRF token), where every unsafe method without the CSRF token is 403
// csrf.
func TestRoleMatrix(t *testing.T) {
	t.Run("bearer", func(t *testing.T) {
		r := newRig(t, t.TempDir())
		r.users()
		roleMatrix(t, r)
	})
	t.Run("cookie", func(t *testing.T) {
		r := newRig(t, t.TempDir())
		r.users()
		r.signInAll()
		roleMatrix(t, r)
		for _, rt := range routes() {
			if len(rt.Roles) == 0 || !unsafe(rt.Method) {
				continue
			}
			path := strings.NewReplacer("{id}", "X-1", "{serial}", "X-1", "{name}", "u-operator", "{routing}", "motor", "{op}", "test").Replace(strings.TrimPrefix(rt.Path, "/api/v1"))
			for _, role := range mes.Roles {
				b := *r.sess[role]
				if a := b.send(rt.Method, path, map[string]any{}, ""); a.status != 403 || a.err.Code != "csrf" {
					t.Errorf("%s %s as %s with the cookie, without the CSRF token: %d %s, want 403 csrf", rt.Method, path, role, a.status, a.body)
				}
			}
		}
	})
}

// signInAll signs every role's user in with a browser session, which
// r.do then uses (trading the role's token: no password to hash).
func (r *rig) signInAll() {
	r.sess = map[string]*browser{}
	for _, role := range mes.Roles {
		r.sess[role], _ = r.signIn(mes.SessionLogin{Token: r.tok[role]})
	}
}

func roleMatrix(t *testing.T, r *rig) {
	b, err := os.ReadFile("ROLES.md")
	if err != nil {
		t.Fatal(err)
	}
	cells := 0
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, "|")
		if len(f) != len(mes.Roles)+4 || !strings.Contains("GET POST PUT PATCH DELETE", strings.TrimSpace(f[1])) || strings.TrimSpace(f[1]) == "" {
			continue
		}
		method, path := strings.TrimSpace(f[1]), strings.Trim(strings.TrimSpace(f[2]), "`")
		path = strings.NewReplacer("{id}", "X-1", "{serial}", "X-1", "{name}", "u-operator", "{routing}", "motor", "{op}", "test").Replace(path)
		public := strings.TrimSpace(f[3]) == "public"
		var wg sync.WaitGroup
		for k, role := range mes.Roles {
			allowed := strings.TrimSpace(f[3+k]) == "✓"
			cells++
			wg.Add(1)
			go func() {
				defer wg.Done()
				code := r.do(role, method, path, map[string]any{}, nil)
				switch {
				case public && code == 403: // (login answers wrong credentials with 401)
					t.Errorf("%s %s is public, but %s got %d", method, path, role, code)
				case !public && allowed && (code == 401 || code == 403):
					t.Errorf("%s %s: %s is allowed, got %d", method, path, role, code)
				case !public && !allowed && code != 403:
					t.Errorf("%s %s: %s is denied, got %d", method, path, role, code)
				}
			}()
		}
		wg.Wait()
		if code := r.do("", method, path, map[string]any{}, nil); !public && code != 401 {
			t.Errorf("%s %s without a token: %d, want 401", method, path, code)
		}
		if r.sess != nil && method == "DELETE" && path == "/session" {
			r.signInAll() // each role has signed out
		}
	}
	if want := len(routes()) * len(mes.Roles); cells != want {
		t.Fatalf("ROLES.md has %d cells, the routes %d", cells, want)
	}
}

// TestOpenAPIServed: the document is served without a token, is OpenAPI
// 3, and has every route with its roles.
func TestOpenAPIServed(t *testing.T) {
	r := newRig(t, t.TempDir())
	resp, err := http.Get(r.srv.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("%d %v %q", resp.StatusCode, err, doc.OpenAPI)
	}
	for _, rt := range routes() {
		op := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
		if op == nil {
			t.Fatalf("%s %s is not in the document", rt.Method, rt.Path)
		}
		roles, _ := json.Marshal(op["x-roles"])
		want, _ := json.Marshal(rt.Roles)
		if len(rt.Roles) == 0 {
			want = []byte("[]")
		}
		if string(roles) != string(want) {
			t.Fatalf("%s %s: x-roles %s, want %s", rt.Method, rt.Path, roles, want)
		}
	}
}

// TestAuditVerifyOverHTTP: a manager checks the running records' audit
// chain over the API: intact, every entry counted.
func TestAuditVerifyOverHTTP(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	r.must("planner", "POST", "/orders", mes.NewOrder{ID: "PO-7", Customer: "c", Product: "YE3-100L-4", Quantity: 2, Due: r.now().Add(24 * time.Hour)}, nil, 201)
	all, err := r.db.Audit("", "", time.Time{}, time.Time{}, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got AuditCheck
	r.must("manager", "GET", "/audit/verify", nil, &got, 200)
	if !got.Intact || got.Entries != len(all.Items) || got.Last != all.Items[len(all.Items)-1].Seq || got.Broken != "" {
		t.Fatalf("the check of an untouched log: %+v (%d entries)", got, len(all.Items))
	}
	for i, e := range all.Items {
		if e.Seq != uint64(i+1) || e.Prev != uint64(i) || e.Hash == "" {
			t.Fatalf("entry %d: seq %d prev %d hash %q: not numbered and linked in order", i, e.Seq, e.Prev, e.Hash)
		}
	}
}
