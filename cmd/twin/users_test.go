package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"twin/plant"
	"twin/twin/mes"
)

// withStdin runs fn with s on os.Stdin.
func withStdin(t *testing.T, s string, fn func()) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString(s)
	w.Close()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	fn()
}

// TestFirstAdminPassword: the first start prints the admin password it
// made up and keeps it in DATA/mes/admin-password (owner only); a start
// that fails afterwards has not spent it: the next start points to the
// file, whose password signs in. twin users passwd resets it (the file
// goes), and a password changed over the API removes the file at the
// next start.
func TestFirstAdminPassword(t *testing.T) {
	t.Setenv("TWIN_ADMIN_PASSWORD", "")
	plantFile := "../../testdata/plants/one-station.yaml"
	data := t.TempDir()
	file := filepath.Join(data, "mes", "admin-password")
	// a start that fails after the records are made (no address to serve on)
	serve := func() string {
		t.Helper()
		out, errs, code := runCLI(t, "serve", "--plant", plantFile, "--data", data, "--http", "256.0.0.1:80")
		if code != 1 {
			t.Fatalf("serve on a bad address: exit %d\n%s%s", code, out, errs)
		}
		return out
	}
	out := serve()
	m := regexp.MustCompile(`first account +admin, password (\S+) +\(kept in (\S+) until you change it, which the first sign-in must: POST /api/v1/login with new_password, or POST /api/v1/me/password; or twin users passwd --data \S+ --name admin`).FindStringSubmatch(out)
	if m == nil || m[2] != file {
		t.Fatalf("the first start:\n%s", out)
	}
	pw := m[1]
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v, want 0600", file, fi, err)
	}
	if out := serve(); !strings.Contains(out, "first account           admin, its password in "+file) || strings.Contains(out, pw) {
		t.Fatalf("the second start does not point to the file (or prints the password again):\n%s", out)
	}
	p, err := plant.Load(plantFile)
	if err != nil {
		t.Fatal(err)
	}
	check := func(pw string, want bool) {
		t.Helper()
		db, err := mes.Open(filepath.Join(data, "mes"), mes.Options{Plant: p})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if ok, err := db.PasswordIs("admin", pw); err != nil || ok != want {
			t.Fatalf("the password %q is admin's: %v (%v), want %v", pw, ok, err, want)
		}
	}
	if b, _ := os.ReadFile(file); strings.TrimSpace(string(b)) != pw {
		t.Fatalf("the file holds %q, the first start printed %q", b, pw)
	}
	check(pw, true)
	mustChange := func(want bool) {
		t.Helper()
		db, err := mes.Open(filepath.Join(data, "mes"), mes.Options{Plant: p})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		us, err := db.Users()
		if err != nil || len(us) != 1 || us[0].MustChangePassword != want {
			t.Fatalf("the first admin must change the password: %+v %v, want %v", us, err, want)
		}
	}
	mustChange(true) // a made-up password is changed at the first sign-in

	// reset on disk
	withStdin(t, "a new password\n", func() {
		out, errs, code := runCLI(t, "users", "passwd", "--data", data, "--name", "admin")
		if code != 0 || !strings.Contains(out, "the password of admin is changed") {
			t.Fatalf("users passwd: exit %d\n%s%s", code, out, errs)
		}
	})
	check("a new password", true)
	mustChange(false) // chosen at the twin
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("the first password's file outlived its password: %v", err)
	}
	if out := serve(); strings.Contains(out, "first account") {
		t.Fatalf("a start after the change still speaks of the first password:\n%s", out)
	}
	withStdin(t, "short\n", func() {
		_, errs, code := runCLI(t, "users", "passwd", "--data", data, "--name", "admin")
		if code != 1 || !strings.Contains(errs, "at least 12 characters (a few words make a good one: \"blue motor on line two\"): the password is read from stdin") {
			t.Fatalf("a short password: exit %d\n%s", code, errs)
		}
	})
	withStdin(t, "long enough, yes\n", func() {
		_, errs, code := runCLI(t, "users", "passwd", "--data", data, "--name", "nobody")
		if code != 1 || !strings.Contains(errs, "twin users list --data "+data+" shows the accounts") {
			t.Fatalf("an unknown account: exit %d\n%s", code, errs)
		}
	})

	// changed another way (the API) while the file is there: the next start removes it
	data = t.TempDir()
	file = filepath.Join(data, "mes", "admin-password")
	serve()
	db, err := mes.Open(filepath.Join(data, "mes"), mes.Options{Plant: p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ChangeUser("admin", "admin", mes.UserChange{Password: "changed over the API"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if out := serve(); strings.Contains(out, "first account") {
		t.Fatalf("after a change over the API:\n%s", out)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("the first password's file outlived its password: %v", err)
	}
}

// TestUsersUnlock: twin users unlock ends an account's lockout with the
// twin stopped (the lockout is kept in the records).
func TestUsersUnlock(t *testing.T) {
	const pw = "blue motor on line two"
	t.Setenv("TWIN_ADMIN_PASSWORD", pw)
	plantFile := "../../testdata/plants/one-station.yaml"
	data := t.TempDir()
	if out, errs, code := runCLI(t, "serve", "--plant", plantFile, "--data", data, "--http", "256.0.0.1:80"); code != 1 {
		t.Fatalf("serve on a bad address: exit %d\n%s%s", code, out, errs)
	}
	p, err := plant.Load(plantFile)
	if err != nil {
		t.Fatal(err)
	}
	strict := mes.SignInOptions{Account: mes.Limits{Free: 1, Lock: 2}}
	open := func() *mes.DB {
		t.Helper()
		db, err := mes.Open(filepath.Join(data, "mes"), mes.Options{Plant: p, SignIn: strict})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	var se *mes.SignInError
	for range 2 {
		_, err = db.LogIn(t.Context(), mes.Login{Name: "admin", Password: "not the password at all"}, "10.0.0.5")
	}
	db.Close()
	if !errors.As(err, &se) || !se.Locked {
		t.Fatalf("the second failure: %v, want a lockout", err)
	}
	out, errs, code := runCLI(t, "users", "unlock", "--data", data, "--name", "admin")
	if code != 0 || !strings.Contains(out, "admin is unlocked") {
		t.Fatalf("users unlock: exit %d\n%s%s", code, out, errs)
	}
	db = open()
	_, err = db.LogIn(t.Context(), mes.Login{Name: "admin", Password: pw}, "10.0.0.5")
	db.Close()
	if err != nil {
		t.Fatalf("after the unlock: %v", err)
	}
	if _, errs, code := runCLI(t, "users", "unlock", "--data", data, "--name", "admin"); code != 1 || !strings.Contains(errs, "not locked") {
		t.Fatalf("unlock of an account not locked: exit %d %s", code, errs)
	}
}
