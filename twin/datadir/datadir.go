// Package datadir is the layout of a twin's data directory, the one
// directory twin serve and twin demo keep everything in:
//
//	DIR/                  the history (Badger; twin/store)
//	DIR/mes/              the execution records (Badger; twin/mes), the card key
//	DIR/mes/admin-password the first admin password, until it is changed
//	DIR/plant.yaml        the plant file the twin last ran with
//	DIR/serve.json        while a twin runs on DIR: which, and its addresses
//	DIR/tls/              the HTTPS certificate made for the twin and its local CA
//	                      (twin/tlsconf), kept when a demo starts anew
//
// With it the commands that open a data directory find its plant without
// being told, refuse a directory that is not there instead of making an
// empty one, and say plainly when a running twin holds the directory
// (Badger opens it in one process at a time), pointing to that twin.
//
// It is not the history or the records: twin/store and twin/mes open those.
//
//	st, err := datadir.OpenHistory("data/demo", store.Options{SnapshotEvery: -1})
//	var busy *datadir.InUseError
//	if errors.As(err, &busy) && busy.Server != nil {
//		fmt.Println("a twin runs on it:", busy.Server.Web)
//	}
package datadir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"twin/plant"
	"twin/plant/reference"
	"twin/twin/store"
)

// The files of a data directory.
const (
	PlantName  = "plant.yaml"
	ServerName = "serve.json"
	Records    = "mes"
	// OPCUA holds the OPC UA certificates and the trust file of the
	// servers the twin follows (connectors/opcua): kept by Wipe, since
	// clients trust a certificate once and a new one would be refused.
	OPCUA = "opcua"
	// TLS holds the web view's local CA and certificate (twin/tlsconf):
	// kept by Wipe, since phones and browsers installed the CA.
	TLS = "tls"
	// MQTT holds the MQTT clients' session journals (connectors/mqtt):
	// the receive times of readings without a timestamp, by packet
	// identifier, that make a broker's redelivery after a crash stored
	// once. It belongs with the history: Wipe removes it.
	MQTT = "mqtt"
)

// MissingError is a data directory, or the part of one a command needs,
// that is not there.
type MissingError struct {
	Dir  string // the data directory
	What string // "history", "records"
	Err  error
}

func (e *MissingError) Error() string {
	switch {
	case errors.Is(e.Err, fs.ErrNotExist) && e.What == "history":
		return fmt.Sprintf("no data directory %s%s: give the --data of a twin serve or twin demo (make demo's is data/demo)", e.Dir, cwdNote(e.Dir))
	case errors.Is(e.Err, fs.ErrNotExist):
		return fmt.Sprintf("no records in %s (%s is missing)%s: give the --data of a twin serve or twin demo, which makes the records on its first start", e.Dir, filepath.Join(e.Dir, Records), cwdNote(e.Dir))
	case e.What == "history":
		return fmt.Sprintf("%s holds no history (no Badger files): give the --data of a twin serve or twin demo (make demo's is data/demo)", e.Dir)
	}
	return fmt.Sprintf("%s: %v", e.Dir, e.Err)
}

func (e *MissingError) Unwrap() error { return e.Err }

// cwdNote says where a relative path was looked for.
func cwdNote(dir string) string {
	if filepath.IsAbs(dir) {
		return ""
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	return " (in " + wd + ")"
}

// CheckHistory tells whether dir holds a twin's history, without creating
// anything: a *MissingError if not.
func CheckHistory(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		err = fmt.Errorf("%s is a file, not a directory", dir)
	}
	if err == nil {
		// Badger writes its MANIFEST when it makes a database
		_, err = os.Stat(filepath.Join(dir, "MANIFEST"))
		if errors.Is(err, fs.ErrNotExist) {
			err = errors.New("no MANIFEST")
		}
	}
	if err != nil {
		return &MissingError{Dir: dir, What: "history", Err: err}
	}
	return nil
}

// CheckRecords tells whether dir holds execution records (dir/mes), a
// *MissingError if not.
func CheckRecords(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, Records, "db", "MANIFEST")); err != nil {
		return &MissingError{Dir: dir, What: "records", Err: err}
	}
	return nil
}

// OpenHistory opens the history in an existing data directory: a
// *MissingError when there is none, an *InUseError when a running twin
// holds it.
func OpenHistory(dir string, opt store.Options) (*store.Store, error) {
	if err := CheckHistory(dir); err != nil {
		return nil, err
	}
	st, err := store.Open(dir, opt)
	if err != nil {
		return nil, Busy(dir, err)
	}
	return st, nil
}

// InUseError says that a running twin (or another process) holds a data
// directory: Badger opens a database in one process at a time.
type InUseError struct {
	Dir    string
	Server *Server // what the twin wrote when it started; nil if unknown
	Err    error   // Badger's
}

func (e *InUseError) Error() string {
	who := "another process (a twin serve or twin demo, most likely)"
	if s := e.Server; s != nil {
		who = fmt.Sprintf("a running %s (pid %d", s.Command, s.PID)
		if s.Web != "" {
			who += ", web page " + s.Web
		}
		who += ")"
	}
	return fmt.Sprintf("%s is in use by %s: its history and records open in one process at a time", e.Dir, who)
}

func (e *InUseError) Unwrap() error { return e.Err }

// Busy returns an *InUseError for dir when err, from opening the history
// or the records in dir, is Badger's refusal of a directory another
// process holds; any other error as it is.
func Busy(dir string, err error) error {
	if err == nil || !strings.Contains(err.Error(), "Cannot acquire directory lock") && !held(dir) {
		return err
	}
	e := &InUseError{Dir: dir, Err: err}
	if s, err := ReadServer(dir); err == nil {
		e.Server = s
	}
	return e
}

// Advise adds to an *InUseError the ways that work while the twin runs
// (ways gets what the twin announced, nil if nothing) and the last way,
// stopping it. Any other error is returned as it is. The result is still
// an *InUseError for errors.As.
func Advise(err error, ways func(s *Server) []string) error {
	var busy *InUseError
	if !errors.As(err, &busy) {
		return err
	}
	var b strings.Builder
	b.WriteString(".\nWhat works while it runs:")
	for _, w := range ways(busy.Server) {
		b.WriteString("\n  - " + w)
	}
	stop := "stop that twin (Ctrl-C where it runs"
	if busy.Server != nil && busy.Server.PID > 0 {
		stop += fmt.Sprintf(", or kill %d", busy.Server.PID)
	}
	b.WriteString("\n  - " + stop + "), then run this again")
	return &advised{err: err, advice: b.String()}
}

// advised is an error with advice after its message.
type advised struct {
	err    error
	advice string
}

func (a *advised) Error() string { return a.err.Error() + a.advice }
func (a *advised) Unwrap() error { return a.err }

// Server is what a running twin writes into its data directory (serve.json)
// while it runs, for the commands that find the directory held.
type Server struct {
	Command string    `json:"command"` // "twin serve", "twin demo"
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Web     string    `json:"web,omitempty"` // the web page, with its access token
	API     string    `json:"api,omitempty"` // the records API's base URL (…/api/v1/)
	CA      string    `json:"ca,omitempty"`  // the local CA its clients trust (--ca), when it made its certificate
}

// Announce writes s into dir (readable by its owner only: the web page's
// address carries its access token). Withdraw removes it on a clean stop.
func Announce(dir string, s Server) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, ServerName), append(b, '\n'), 0o600)
}

// Withdraw removes what Announce wrote.
func Withdraw(dir string) error {
	err := os.Remove(filepath.Join(dir, ServerName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// ReadServer reads what the twin running on dir announced. (A twin killed
// with SIGKILL leaves its file behind: trust it only while the directory is
// held, as Busy does.)
func ReadServer(dir string) (*Server, error) {
	b, err := os.ReadFile(filepath.Join(dir, ServerName))
	if err != nil {
		return nil, err
	}
	var s Server
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ServerName), err)
	}
	return &s, nil
}

// SavePlant keeps src, the plant file a twin runs with, in dir.
func SavePlant(dir string, src []byte) error {
	return writeFile(filepath.Join(dir, PlantName), src, 0o644)
}

// A Plant is a plant and where it came from.
type Plant struct {
	*plant.Plant
	Src  []byte // the file
	From string // where it came from, for people: "myplant.yaml", "data/demo/plant.yaml (…)"
}

// LoadPlant loads the plant of a command given the data directory dir:
// the file given (--plant), else the one dir remembers (dir/plant.yaml,
// written by the last twin serve or twin demo on it), else, when builtin
// is true, the built-in reference plant (plant/reference). Errors say what
// to do.
func LoadPlant(dir, file string, builtin bool) (*Plant, error) {
	var remembered string
	if dir != "" {
		remembered = filepath.Join(dir, PlantName)
	}
	switch {
	case file != "":
		src, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			alt := "leave --plant out for the built-in reference plant"
			if !builtin {
				alt = "see plant/FORMAT.md to write one"
			}
			return nil, fmt.Errorf("no plant file %s%s: give the path of your plant file (the reference plant is plant/reference/motor.yaml in the repository), or %s", file, cwdNote(file), alt)
		}
		if err != nil {
			return nil, err
		}
		p, err := plant.Parse(file, src)
		if err != nil {
			return nil, err
		}
		return &Plant{Plant: p, Src: src, From: file}, nil
	case remembered != "":
		src, err := os.ReadFile(remembered)
		if err == nil {
			p, err := plant.Parse(remembered, src)
			if err != nil {
				return nil, fmt.Errorf("%w\n(the plant file %s remembers from its last twin serve or demo; give --plant FILE to use another)", err, dir)
			}
			return &Plant{Plant: p, Src: src, From: remembered + " (the plant the twin on " + dir + " ran with)"}, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if !builtin {
		return nil, fmt.Errorf("no plant: give --plant FILE, your plant's file with its tag map (plant/FORMAT.md); %s remembers the plant of a twin that ran on it, and %s has none yet", filepath.Join("DIR", PlantName), dir)
	}
	p, err := reference.Plant()
	if err != nil {
		return nil, err
	}
	return &Plant{Plant: p, Src: reference.Source, From: "the built-in reference plant (" + reference.File + ")"}, nil
}

// writeFile writes a file through a temporary one beside it, so that
// nobody reads it half written.
func writeFile(name string, b []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	err = errors.Join(err, f.Chmod(perm), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// Wipe removes a data directory's history, records and what the twin
// wrote beside them, for a demo that starts anew (twin demo --fresh). It
// refuses a directory a running twin holds, and one holding anything a
// twin does not write (it may not be a data directory at all). A
// directory that does not exist is nothing to wipe. The OPC UA
// certificates and trust file (OPCUA) and the local CA (TLS) that phones
// and browsers installed are kept.
func Wipe(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if held(dir) {
		return Busy(dir, errors.New("Cannot acquire directory lock"))
	}
	for _, e := range ents {
		if !ours(e.Name()) {
			return fmt.Errorf("%s holds %s, which a twin does not write: not wiping it (is it a data directory? remove it yourself, or give another --data)", dir, e.Name())
		}
	}
	for _, e := range ents {
		if e.Name() == OPCUA || e.Name() == TLS {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("wipe %s: %w", dir, err)
		}
	}
	return nil
}

// ours tells whether name is something a twin writes in its data
// directory: Badger's files, the records, the plant and server files.
func ours(name string) bool {
	switch name {
	case Records, PlantName, ServerName, OPCUA, TLS, MQTT, "MANIFEST", "KEYREGISTRY", "LOCK", "DISCARD":
		return true
	}
	for _, ext := range []string{".sst", ".vlog", ".mem", ".tmp"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}
