// Command twin is the digital twin and MES of a discrete-manufacturing
// plant: one binary, one subcommand per capability. Run "twin help".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata" // the zone database, for hosts and containers without /usr/share/zoneinfo
)

// A Command is one subcommand: cmd/go's shape.
type Command struct {
	Name  string
	Usage string // arguments after the name
	Short string // one line for "twin help"
	Long  string // shown by "twin help NAME"
	// Run runs the command with its arguments (flags included). Output goes
	// to stdout; errors are returned, not printed.
	Run func(ctx context.Context, args []string, stdout io.Writer) error
}

var commands = map[string]*Command{}

func register(c *Command) { commands[c.Name] = c }

// errUsage makes main print the command's usage and exit with status 2.
var errUsage = errors.New("usage")

// flagError is a flag the command does not know or a flag's bad value:
// main prints it with the usage line, and exits with status 2.
type flagError struct{ error }

func main() {
	if os.Getenv("GOGC") == "" {
		// Simulation runs keep small heaps and allocate steadily: at the
		// default GOGC=100 the collector runs so often that its write
		// barriers cost parallel replications a quarter of their speed
		// (1.4× on 2 cores instead of 1.8×). Memory is not the constraint.
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		help(stderr, nil)
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" {
		help(stdout, args[1:])
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "twin: unknown command %q; run \"twin help\"\n", name)
		return 2
	}
	err := c.Run(ctx, args[1:], stdout)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(flagError)):
		fmt.Fprintf(stderr, "twin %s: %v\nusage: twin %s %s\nrun \"twin help %s\" for details\n", c.Name, err, c.Name, c.Usage, c.Name)
		return 2
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "usage: twin %s %s\nrun \"twin help %s\" for details\n", c.Name, c.Usage, c.Name)
		return 2
	default:
		fmt.Fprintf(stderr, "twin %s: %v\n", c.Name, err)
		return 1
	}
}

func help(w io.Writer, args []string) {
	if len(args) > 0 {
		if c, ok := commands[args[0]]; ok {
			fmt.Fprintf(w, "usage: twin %s %s\n\n%s\n", c.Name, c.Usage, strings.TrimSpace(c.Long))
			return
		}
		fmt.Fprintf(w, "twin: unknown help topic %q\n", args[0])
		return
	}
	fmt.Fprintln(w, "twin: a digital twin and MES for discrete-manufacturing plants.")
	fmt.Fprintln(w, "\nusage: twin <command> [arguments]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].Short)
	}
	fmt.Fprintln(w, "\nrun \"twin help <command>\" for a command's details.")
}

// newFlags returns a flag set that reports errors instead of exiting and
// prints its usage to w on -h.
func newFlags(c *Command, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: twin %s %s\n\n%s\n\nflags:\n", c.Name, c.Usage, strings.TrimSpace(c.Long))
		fs.PrintDefaults()
	}
	return fs
}

// parseAll parses the flags of fs wherever they stand among args (before,
// between or after the positional arguments, as people type them:
// "twin play FILE --variant X") and returns the positional arguments in
// their order. "--" ends the flags: everything after it is positional.
// Every command parses its arguments with it.
func parseAll(fs *flag.FlagSet, args []string) ([]string, error) {
	// the flag package prints its errors and the whole usage; the usage
	// is for -h, an error gets one line and a pointer to the help
	out := fs.Output()
	fs.SetOutput(io.Discard)
	defer fs.SetOutput(out)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(out)
				fs.Usage()
				return nil, err
			}
			return nil, flagError{err}
		}
		rest := fs.Args()
		if used := args[:len(args)-len(rest)]; endsFlags(fs, used) {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// endsFlags tells whether the arguments fs.Parse consumed end with the
// terminator "--" (and not with "--" given as a flag's value).
func endsFlags(fs *flag.FlagSet, used []string) bool {
	n := len(used)
	if n == 0 || used[n-1] != "--" {
		return false
	}
	if n == 1 {
		return true
	}
	prev := strings.TrimLeft(used[n-2], "-")
	if prev == used[n-2] || strings.Contains(prev, "=") {
		return true // not a flag, or a flag with its value
	}
	f := fs.Lookup(prev)
	if f == nil {
		return true
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag() // a bool flag takes no value: "--" ended the flags
}

// noArgs refuses positional arguments for a command that takes none, and
// says what it got: "twin replay data/demo" most likely meant --data.
func noArgs(c *Command, pos []string) error {
	if len(pos) == 0 {
		return nil
	}
	return fmt.Errorf("unexpected argument %q: twin %s takes flags only (%s); run \"twin help %s\"", pos[0], c.Name, c.Usage, c.Name)
}

// fileHint makes the error of a file that is not there say where it was
// looked for, and where the examples are; any other error stays as it is.
func fileHint(err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	where := ""
	if wd, werr := os.Getwd(); werr == nil && !filepath.IsAbs(pe.Path) {
		where = " (in " + wd + ")"
	}
	return fmt.Errorf("no file %s%s: check its name and folder (in the repository, the example scenarios are scenarios/*.yaml and the reference plant plant/reference/motor.yaml)", pe.Path, where)
}
