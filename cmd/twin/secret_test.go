package main

import (
	"strings"
	"testing"
)

// TestHelpShowsNoSecret: with $TWIN_TOKEN and $TWIN_API_TOKEN set, no
// command's -h prints them (the old --token took them as its default,
// and flag printed the default).
func TestHelpShowsNoSecret(t *testing.T) {
	const web, api = "webtok-0a1b2c3d4e5f", "tw_apitok-9z8y7x6w5v"
	t.Setenv("TWIN_TOKEN", web)
	t.Setenv("TWIN_API_TOKEN", api)
	for _, name := range []string{"serve", "api", "demo"} {
		if commands[name] == nil {
			t.Fatalf("no command %s", name)
		}
	}
	for name := range commands {
		out, errs, _ := runCLI(t, name, "-h")
		if strings.Contains(out+errs, web) || strings.Contains(out+errs, api) {
			t.Errorf("twin %s -h shows a token:\n%s%s", name, out, errs)
		}
		if (name == "serve" || name == "api" || name == "demo") && !strings.Contains(out+errs, "-token") {
			t.Errorf("twin %s -h does not document --token:\n%s%s", name, out, errs)
		}
	}
	// the value still comes from the environment
	fs := newFlags(commands["api"], new(strings.Builder))
	tok := secretFlag(fs, "token", "TWIN_API_TOKEN", "API token")
	if err := fs.Parse(nil); err != nil || *tok != api {
		t.Fatalf("--token from $TWIN_API_TOKEN: %q %v", *tok, err)
	}
}
