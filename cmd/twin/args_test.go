package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"twin/plant"
	"twin/twin/mes"
	"twin/twin/store"
)

// TestHelpAfterArguments: every registered command takes -h after a
// positional argument as the flag it is (the usage, status 0), not as an
// argument.
func TestHelpAfterArguments(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			for _, args := range [][]string{{name, "x", "-h"}, {name, "-h", "x"}, {name, "x", "y", "--help"}} {
				out, errs, code := runCLI(t, args...)
				if code != 0 || !strings.Contains(out, "usage: twin "+name) {
					t.Fatalf("twin %s: exit %d, want the usage and 0\n%s%s", strings.Join(args[1:], " "), code, out, errs)
				}
			}
		})
	}
}

// apiRecorder is a records API that answers {} and remembers what it was
// sent.
type apiRecorder struct {
	mu   sync.Mutex
	reqs []string // "METHOD PATH?QUERY AUTH BODY"
}

func (a *apiRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.reqs = append(a.reqs, strings.TrimSpace(r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Authorization")+" "+string(b)))
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/v1/orders") && r.Method == "GET" && !strings.Contains(r.URL.Path[len("/api/v1/orders"):], "/"):
		w.Write([]byte(`{"items":[]}`))
	case r.URL.Path == "/api/v1/scan":
		w.Write([]byte(`{"action":"confirm","operation":{"id":"OP-1"}}`))
	default:
		w.Write([]byte(`{}`))
	}
}

func (a *apiRecorder) last() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.reqs) == 0 {
		return ""
	}
	return a.reqs[len(a.reqs)-1]
}

// TestFlagsAnywhere runs every registered command with its flags after
// its arguments (and between them, and before, and after "--"), as people
// type them: each case shows by its output that the flags were read.
// A command added without a case here fails the test.
func TestFlagsAnywhere(t *testing.T) {
	rec := &apiRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	t.Setenv("TWIN_SERVER", "http://127.0.0.1:1") // the flags must win
	t.Setenv("TWIN_API_TOKEN", "")
	data := t.TempDir()
	{ // records on disk for twin users
		p, err := plant.Load("../../testdata/plants/one-station.yaml")
		if err != nil {
			t.Fatal(err)
		}
		db, err := mes.Open(filepath.Join(data, "mes"), mes.Options{Plant: p})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateUser("test", mes.NewUser{Name: "li", Roles: []string{mes.RolePlanner}, Password: "a long password"}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		st, err := store.Open(data, store.Options{}) // an empty history, for twin backup and verify
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	bk := filepath.Join(t.TempDir(), "b.tar")
	scen := "../../scenarios/oven-valley.yaml"
	type tc struct {
		args []string
		code int
		want string // in stdout+stderr
		req  string // what the last API request holds ("|" between parts), if anything
	}
	cases := map[string][]tc{
		"bench": {
			{args: []string{"mm1", "--customers", "1000", "--seed", "2"}, want: `"customers":1000,"seed":2`},
			{args: []string{"--customers", "1000", "mm1", "--style", "servers"}, want: `"style":"servers","customers":1000`},
		},
		"example": {
			{args: []string{"--seed", "7", "bank"}, want: "Bank renege"},
			{args: []string{"carwash", "--seed", "nope"}, code: 2, want: `invalid value "nope" for flag -seed`},
		},
		"validate": {
			{args: []string{"../../testdata/plants/one-station.yaml", "--", "-not-a-flag.yaml"}, code: 1, want: "-not-a-flag.yaml"},
		},
		"play": {
			{args: []string{scen, "--variant", "no-such-variant"}, code: 1, want: `has no variant "no-such-variant" (it has: baseline ovens-at-night`},
		},
		"run": {
			{args: []string{scen, "--replications", "-1", "--quiet"}, code: 1, want: "--replications: want 1 to"},
			{args: []string{scen, "--merge", "--shard", "0/2"}, code: 1, want: "--merge takes shard files only"},
		},
		"demo": {
			{args: []string{"data/demo", "--for", "1s"}, code: 1, want: `unexpected argument "data/demo": twin demo takes flags only`},
		},
		"serve": {
			{args: []string{"plant.yaml", "--data", data}, code: 1, want: `unexpected argument "plant.yaml"`},
		},
		"replay": {
			{args: []string{"data/demo", "--speed", "60"}, code: 1, want: `unexpected argument "data/demo"`},
		},
		"forecast": {
			{args: []string{"data/demo", "--horizon", "1h"}, code: 1, want: `unexpected argument "data/demo"`},
		},
		"orders": {
			{args: []string{"list", "--server", srv.URL, "--status", "released", "--token", "t1"}, want: "order", req: "GET /api/v1/orders?limit=1000&status=released Bearer t1"},
			{args: []string{"release", "PO-1", "--server", srv.URL, "--token", "t2"}, req: "POST /api/v1/orders/PO-1/release Bearer t2"},
			{args: []string{"--server", srv.URL, "show", "--token", "t3", "PO-2"}, req: "GET /api/v1/orders/PO-2 Bearer t3"},
		},
		"scan": {
			{args: []string{"v1.card", "--server", srv.URL, "--good", "3", "--token", "t4"}, want: "OP-1 confirm", req: `POST /api/v1/scan Bearer t4 {"token":"v1.card"|"good":3`},
		},
		"travellers": {
			{args: []string{"PO-1-YE3-100L-4", "--server", srv.URL, "--out", filepath.Join(data, "t.pdf"), "--size", "label", "--token", "t7"}, code: 1,
				want: "not with PDF", req: "GET /api/v1/work-orders/PO-1-YE3-100L-4/travellers.pdf?size=label Bearer t7"},
			{args: []string{"--out", filepath.Join(data, "t.txt"), "PO-1", "--server", srv.URL}, code: 2, want: "want a file ending in .pdf or .html"},
		},
		"api": {
			{args: []string{"GET", "/api/v1/kpis?by=day", "--server", srv.URL, "--token", "t5"}, req: "GET /api/v1/kpis?by=day Bearer t5"},
			{args: []string{"POST", "--server", srv.URL, "/api/v1/login", `{"name":"li"}`}, req: `POST /api/v1/login  {"name":"li"}`},
		},
		"audit": {
			{args: []string{"verify", "--data", data}, want: "the chain is intact"},
		},
		"backup": {
			{args: []string{"--out", bk, "--data", data}, want: "backed up into " + bk},
			{args: []string{"--out", bk, "--server", srv.URL, "--token", "t6"}, code: 1, want: "is not a twin backup", req: "POST /api/v1/backup Bearer t6"},
		},
		"restore": {
			{args: []string{bk, "--data", filepath.Join(data, "restored")}, want: "restored " + filepath.Join(data, "restored")},
		},
		"verify": {
			{args: []string{"--data", data}, want: "everything checks"},
			{args: []string{bk, "--data", ""}, want: "the checksums of its"},
		},
		"users": {
			{args: []string{"list", "--data", data, "--plant", "../../testdata/plants/one-station.yaml"}, want: "li "},
			{args: []string{"--data", data, "token", "--plant", "../../testdata/plants/one-station.yaml", "--name", "li", "--label", "t"}, want: "tw_"},
		},
	}
	for name := range commands {
		if _, ok := cases[name]; !ok {
			t.Errorf("command %q has no case in TestFlagsAnywhere: add one that puts its flags after its arguments", name)
		}
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, c := range cases[name] {
			t.Run(name+" "+strings.Join(c.args, " "), func(t *testing.T) {
				out, errs, code := runCLI(t, append([]string{name}, c.args...)...)
				if code != c.code || !strings.Contains(out+errs, c.want) {
					t.Fatalf("exit %d (want %d), want %q in the output:\n%s%s", code, c.code, c.want, out, errs)
				}
				for _, part := range strings.Split(c.req, "|") {
					if c.req != "" && !strings.Contains(rec.last(), part) {
						t.Fatalf("the API got %q, want %q in it", rec.last(), part)
					}
				}
			})
		}
	}
}

// TestParseAll: the helper every command parses with.
func TestParseAll(t *testing.T) {
	for _, c := range []struct {
		args []string
		pos  []string
		name string
		q    bool
	}{
		{[]string{"a", "--name", "n", "b"}, []string{"a", "b"}, "n", false},
		{[]string{"--q", "a", "b", "--name=n"}, []string{"a", "b"}, "n", true},
		{[]string{"a", "--", "--name", "x", "-q"}, []string{"a", "--name", "x", "-q"}, "", false},
		{[]string{"--name", "--", "a", "-q"}, []string{"a"}, "--", true}, // "--" as a value
		{[]string{"-q", "--", "-a"}, []string{"-a"}, "", true},           // a bool flag, then the end of flags
		{[]string{"a", "-", "b"}, []string{"a", "-", "b"}, "", false},    // "-" (stdin) is an argument
	} {
		fs := newFlags(&Command{Name: "t"}, io.Discard)
		name := fs.String("name", "", "")
		q := fs.Bool("q", false, "")
		pos, err := parseAll(fs, c.args)
		if err != nil || !slices.Equal(pos, c.pos) || *name != c.name || *q != c.q {
			t.Errorf("%q: got %q name=%q q=%v err=%v; want %q name=%q q=%v", c.args, pos, *name, *q, err, c.pos, c.name, c.q)
		}
	}
}
