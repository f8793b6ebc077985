// Package build names this build of the twin: the main module's version
// and VCS revision, as the data it writes records (a history's or a
// record database's format names the build that wrote it, so that an
// older build refusing it can say which release to run).
package build

import "runtime/debug"

// Name is "twin <module version> (<12 digits of the revision>)", e.g.
// "twin (devel) (4f1c2a9e0b7d)"; "twin (unknown build)" when the binary
// carries no build information.
func Name() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "twin (unknown build)"
	}
	rev := ""
	for _, kv := range bi.Settings {
		if kv.Key == "vcs.revision" && len(kv.Value) >= 12 {
			rev = " (" + kv.Value[:12] + ")"
		}
		if kv.Key == "vcs.modified" && kv.Value == "true" && rev != "" {
			rev = rev[:len(rev)-1] + ", modified)"
		}
	}
	return "twin " + bi.Main.Version + rev
}
