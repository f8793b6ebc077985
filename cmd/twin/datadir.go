package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"twin/twin/datadir"
)

// The data directory of the commands: its plant, the running twin that
// holds it, and what to say when it is missing or held (twin/datadir).

// loadPlant loads the plant of a command on the data directory dir (see
// datadir.LoadPlant) and, when w is not nil, says which plant it is.
func loadPlant(w io.Writer, dir, file string, builtin bool) (*datadir.Plant, error) {
	p, err := datadir.LoadPlant(dir, file, builtin)
	if err != nil {
		return nil, err
	}
	if w != nil {
		fmt.Fprintf(w, "plant %s: %s\n", p.ID, p.From)
	}
	return p, nil
}

// announce writes into dir which twin runs on it and where (serve.json),
// for the commands that will find the directory held; the function it
// returns removes it (on a clean stop).
func announce(dir, command string, wv *webView) func() {
	s := datadir.Server{Command: command, PID: os.Getpid(), Started: time.Now()}
	if wv != nil {
		s.Web = wv.url
		if wv.ca != "" { // for commands run from elsewhere
			if s.CA, _ = filepath.Abs(wv.ca); s.CA == "" {
				s.CA = wv.ca
			}
		}
		if wv.api {
			s.API = wv.base + "/api/v1/"
		}
	}
	if err := datadir.Announce(dir, s); err != nil {
		fmt.Fprintf(os.Stderr, "twin: %v (the commands that find %s in use will not know this twin's address)\n", err, dir)
		return func() {}
	}
	return func() { datadir.Withdraw(dir) }
}

// inUse adds to a *datadir.InUseError (a running twin holds the data
// directory) the ways that work while it runs (see datadir.Advise).
func inUse(err error, ways func(s *datadir.Server) []string) error {
	return datadir.Advise(err, ways)
}

// webWays are the ways to see a running twin's history: its web page and
// the desktop viewer on it.
func webWays(s *datadir.Server) []string {
	if s == nil || s.Web == "" {
		return []string{"its web page (the address twin serve or twin demo printed, \"web view https://…\"): drag the timeline to look back",
			"twin-view --connect 'https://…/?token=…' on that address"}
	}
	return []string{"its web page, " + s.Web + " : drag the timeline at the bottom to look back",
		"twin-view --connect '" + s.Web + "'" + caArg(s)}
}

// apiWays are the ways to the running twin's records.
func apiWays(s *datadir.Server, call string) []string {
	server := "--server https://HOST:PORT"
	if s != nil && s.API != "" {
		server = "--server " + strings.TrimSuffix(s.API, "/api/v1/") + caArg(s)
	}
	return []string{"its records API: twin " + call + " " + server + " --token T (an admin's API token; POST /api/v1/login gives one)"}
}

// caArg is the --ca of a command on the running twin s, if it made its
// own certificate.
func caArg(s *datadir.Server) string {
	if s == nil || s.CA == "" {
		return ""
	}
	return " --ca " + s.CA
}
