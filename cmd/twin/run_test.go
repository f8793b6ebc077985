package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShardMerge follows the README: twin run --shard i/n on a scenario
// file (here in a folder of its own) without --out, then twin run --merge
// out/<study>/shard-*.json from the same directory, the pattern expanded
// by the shell or reaching twin unexpanded. A pattern that matches
// nothing says where the shard files are written.
func TestShardMerge(t *testing.T) {
	plantFile, err := filepath.Abs("../../testdata/plants/one-station.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	os.Mkdir("studies", 0o755)
	scen := "scenario:\n  name: mystudy\nplant: " + plantFile + "\nhorizon: 2d\nreplications: 4\n"
	if err := os.WriteFile("studies/mystudy.yaml", []byte(scen), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sh := range []string{"0/2", "1/2"} {
		out, errs, code := runCLI(t, "run", "--shard", sh, "studies/mystudy.yaml", "--quiet")
		if code != 0 || !strings.Contains(out, "twin run --merge out/mystudy/shard-*.json") {
			t.Fatalf("run --shard %s: exit %d\n%s%s", sh, code, out, errs)
		}
	}
	shell, _ := filepath.Glob("out/mystudy/shard-*.json")
	if len(shell) != 2 {
		t.Fatalf("the shard files are not where the README's merge line looks: %v", shell)
	}
	for _, args := range [][]string{shell, {"out/mystudy/shard-*.json"}} {
		os.Remove("out/mystudy/results.json")
		out, errs, code := runCLI(t, append([]string{"run", "--merge"}, args...)...)
		if code != 0 || !strings.Contains(out, "results in out/mystudy") {
			t.Fatalf("run --merge %v: exit %d\n%s%s", args, code, out, errs)
		}
		if _, err := os.Stat("out/mystudy/results.json"); err != nil {
			t.Fatal(err)
		}
	}
	_, errs, code := runCLI(t, "run", "--merge", "out/other/shard-*.json")
	if code != 1 || !strings.Contains(errs, "no shard file matches out/other/shard-*.json (in ") || !strings.Contains(errs, "OUT/<scenario name>/shard-i-of-n.json, OUT being --out or out") {
		t.Fatalf("run --merge of nothing: exit %d\n%s", code, errs)
	}
}
