// Package display stops twin-view, before Ebitengine starts, when there
// is no display to draw on: without $DISPLAY, Ebitengine's own
// initialisation panics (GLFW cannot start), so even "twin-view -h" died
// with a stack trace. Here -h prints the usage, and anything else says
// plainly what to do instead (a desktop, xvfb-run, the web page), with a
// non-zero status.
//
// The check runs first because of Go's order of package initialisation
// (dependencies first; among packages ready to start, the first by import
// path): this package imports syscall alone, whose dependencies all sort
// before "unicode/utf8", which every package of Ebitengine's depends on
// and which sorts after "twin/…". So this package is initialised before
// unicode/utf8, hence before Ebitengine. Keep it so: importing anything
// that reaches unicode/utf8 (os, fmt, strings, embed…) loses the race.
//
// It is not a check that a display works: with $DISPLAY set to a display
// nobody serves, Ebitengine still fails its own way. Nor does it parse
// flags: twin-view's main does, once a display is there.
//
//	import _ "twin/cmd/twin-view/internal/display" // in twin-view's main, nowhere else
package display
