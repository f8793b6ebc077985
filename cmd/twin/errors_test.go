package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"twin/plant"
	"twin/twin/mes"
	"twin/twin/mes/api"
)

// TestAPIErrors: the records commands say what to do when no twin
// answers, when the address is not a twin's, without a token (and the way
// to get one they offer works), and with a token the API refuses.
func TestAPIErrors(t *testing.T) {
	t.Setenv("TWIN_SERVER", "")
	t.Setenv("TWIN_API_TOKEN", "")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	_, errs, code := runCLI(t, "orders", "list", "--server", closed)
	if code != 1 || !strings.Contains(errs, "no twin answers at "+closed) || !strings.Contains(errs, "--server URL or $TWIN_SERVER") || !strings.Contains(errs, "start one (twin demo, twin serve)") {
		t.Fatalf("no server: exit %d\n%s", code, errs)
	}
	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	_, errs, code = runCLI(t, "orders", "list", "--server", other.URL)
	if code != 1 || !strings.Contains(errs, other.URL+" answers, but has no records API there") {
		t.Fatalf("not a twin: exit %d\n%s", code, errs)
	}

	p, err := plant.Load("../../testdata/plants/one-station.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, err := mes.Open(filepath.Join(t.TempDir(), "mes"), mes.Options{Plant: p, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateUser("test", mes.NewUser{Name: "admin", Roles: []string{mes.RoleAdmin, mes.RoleManager}, Password: "the admin password"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(db, nil))
	defer srv.Close()
	t.Setenv("TWIN_SERVER", srv.URL)
	_, errs, code = runCLI(t, "orders", "list")
	if code != 1 || !strings.Contains(errs, "no API token: give one with $TWIN_API_TOKEN or --token T") || !strings.Contains(errs, "twin users token --data DIR --name admin") {
		t.Fatalf("no token: exit %d\n%s", code, errs)
	}
	// the sign-in the message offers, run as it says (its sed as a regexp)
	m := regexp.MustCompile(`export TWIN_API_TOKEN=\$\(twin (api POST /api/v1/login) '(\{[^']*\})' --server (\S+) \| sed -n 's/(.*)/\\1/p'\)`).FindStringSubmatch(errs)
	if m == nil || m[3] != srv.URL {
		t.Fatalf("the message offers no sign-in command:\n%s", errs)
	}
	body := strings.Replace(m[2], "…", "the admin password", 1)
	out, errs2, code := runCLI(t, append(strings.Fields(m[1]), body, "--server", m[3])...)
	if code != 0 {
		t.Fatalf("the offered sign-in: exit %d\n%s", code, errs2)
	}
	sed := regexp.MustCompile(strings.NewReplacer(`\(`, "(", `\)`, ")").Replace(m[4]))
	var tok string
	for _, line := range strings.Split(out, "\n") {
		if s := sed.FindStringSubmatch(line); s != nil {
			tok = s[1]
		}
	}
	if !strings.HasPrefix(tok, "tw_") {
		t.Fatalf("the offered sed finds no token in:\n%s", out)
	}
	t.Setenv("TWIN_API_TOKEN", tok)
	if out, errs, code := runCLI(t, "orders", "list"); code != 0 || !strings.Contains(out, "\norder ") {
		t.Fatalf("with the token: exit %d\n%s%s", code, out, errs)
	}
	t.Setenv("TWIN_API_TOKEN", "tw_not-a-token")
	if _, errs, code := runCLI(t, "orders", "list"); code != 1 || !strings.Contains(errs, "the API refused the token (expired, revoked, or of another twin)") {
		t.Fatalf("a bad token: exit %d\n%s", code, errs)
	}
}

// TestFileErrors: a file that is not there, a scenario's plant that is
// not there, a time the demo cannot read: each error says where and what
// to do, and the demo checks its flags before it starts or writes
// anything.
func TestFileErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	os.WriteFile("s.yaml", []byte("scenario:\n  name: s\nplant: ../nope/motor.yaml\nhorizon: 1d\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", "nope.yaml"}, "no file nope.yaml (in "},
		{[]string{"play", "nope.yaml"}, "no file nope.yaml (in "},
		{[]string{"run", "nope.yaml"}, "no file nope.yaml (in "},
		{[]string{"run", "s.yaml"}, "s.yaml:3:1: plant: no plant file ../nope/motor.yaml (a relative path is taken from the scenario file's folder)"},
		{[]string{"demo", "--plant", "myplant.yaml"}, "no plant file myplant.yaml (in "},
		{[]string{"serve", "--data", "d"}, "no plant: give --plant FILE"},
		{[]string{"demo", "--start", "9am", "--data", "d"}, `--start: want a time like 2026-03-02T08:00 (plant time, Asia/Shanghai), RFC 3339, or -2h; got "9am"`},
		{[]string{"forecast"}, "no data directory data/demo (in "},
		{[]string{"users", "list", "--data", "."}, "no records in . (mes is missing)"},
	} {
		out, errs, code := runCLI(t, c.args...)
		if code != 1 || !strings.Contains(out+errs, c.want) {
			t.Errorf("twin %s: exit %d, want %q\n%s%s", strings.Join(c.args, " "), code, c.want, out, errs)
		}
	}
	if ents, _ := os.ReadDir("."); len(ents) != 1 {
		t.Fatalf("the failed commands left files behind: %v", ents)
	}
}
