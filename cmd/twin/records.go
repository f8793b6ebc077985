package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"twin/plant"
	"twin/twin/datadir"
	"twin/twin/mes"
	"twin/twin/mes/client"
)

// The execution records beside the live twin (twin serve, twin demo), and
// the commands that script them over the API (twin orders, twin scan,
// twin api) or set them up on disk (twin users).

// openRecords opens the records in DIR/mes, linked to the live twin, and
// makes the first admin account when there is none.
func openRecords(p *plant.Plant, dir string, tw *live, now func() time.Time, log *slog.Logger, stdout io.Writer) (*mes.DB, error) {
	db, err := mes.Open(filepath.Join(dir, datadir.Records), mes.Options{Plant: p, History: tw.st, Live: tw.in, Now: now, Logger: log, Room: tw.disk.Check})
	if err != nil {
		return nil, datadir.Busy(dir, err)
	}
	if err := firstAdmin(db, dir, stdout); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// adminPasswordFile keeps the first admin password that twin serve or
// demo made up, readable by its owner only, until the password is changed:
// a start that fails after printing it, or output that scrolled away,
// does not lose the only account.
func adminPasswordFile(dir string) string {
	return filepath.Join(dir, datadir.Records, "admin-password")
}

// firstAdmin makes the account admin when the records have none, its
// password from $TWIN_ADMIN_PASSWORD or made up (and kept in
// adminPasswordFile, and to be changed at the first sign-in: the API
// answers anything else 403 password_change_required); on later starts
// it points to that file until the password has been changed, and then
// removes it.
func firstAdmin(db *mes.DB, dir string, stdout io.Writer) error {
	file := adminPasswordFile(dir)
	change := fmt.Sprintf("until you change it, which the first sign-in must: POST /api/v1/login with new_password, or POST /api/v1/me/password; or twin users passwd --data %s --name admin, the twin stopped", dir)
	has, err := db.HasUsers()
	if err != nil {
		return err
	}
	if has {
		b, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if ok, err := db.PasswordIs("admin", strings.TrimSpace(string(b))); err != nil || !ok {
			if err == nil { // changed: the file has done its work
				err = os.Remove(file)
			}
			return err
		}
		fmt.Fprintf(stdout, "  first account           admin, its password in %s (%s)\n", file, change)
		return nil
	}
	pw := os.Getenv("TWIN_ADMIN_PASSWORD")
	if pw == "" {
		pw = randomToken()
		// on disk before the account exists: no account without its password
		if err := os.WriteFile(file, []byte(pw+"\n"), 0o600); err != nil {
			return fmt.Errorf("keep the first admin password: %w", err)
		}
	}
	// a made-up password is changed at the first sign-in; one from the
	// environment was chosen by whoever set it
	made := os.Getenv("TWIN_ADMIN_PASSWORD") == ""
	if _, err := db.CreateUser("setup", mes.NewUser{Name: "admin", Roles: []string{mes.RoleAdmin, mes.RoleManager}, Password: pw, MustChangePassword: made}); err != nil {
		return err
	}
	if os.Getenv("TWIN_ADMIN_PASSWORD") != "" {
		fmt.Fprintf(stdout, "  first account           admin, password from $TWIN_ADMIN_PASSWORD\n")
		return nil
	}
	fmt.Fprintf(stdout, "  first account           admin, password %s   (kept in %s %s)\n", pw, file, change)
	return nil
}

func init() {
	register(&Command{
		Name:  "orders",
		Usage: "[list|add|release|cancel|close|makeup|show|records] [flags] [ID]",
		Short: "production orders in the records, over the API",
		Long: `Orders lists, enters, releases, cancels and shows production orders
through the records API of a running twin serve or twin demo (--server,
default $TWIN_SERVER or https://127.0.0.1:8080; --token, default
$TWIN_API_TOKEN: an API token, see twin users; --ca, default $TWIN_CA:
the twin's CA, DATA/tls/ca.pem, when it made its own certificate).

  twin orders list [--status S]
  twin orders add --customer C --product P --qty N --due 2026-03-04T16:00 [--priority K] [--id ID]
  twin orders release ID      work orders, operation cards, serial numbers
  twin orders cancel ID
  twin orders show ID         the order
  twin orders records ID      every record of the order (JSON)
  twin orders close ID --reason R    close it short: completed with the good it has
  twin orders makeup ID [--qty N] [--reason R]
                              a make-up for scrap (default: the shortfall), with its
                              part work orders, cards and serial numbers

An order completes when the good of its last operation reaches the
ordered quantity (make-ups included), or when a planner closes it short.`,
		Run: runOrders,
	})
	register(&Command{
		Name:  "scan",
		Usage: "[flags] TOKEN",
		Short: "scan an operation card: start or confirm its operation",
		Long: `Scan sends a card's token (the text its QR code carries) to the records
API, as a terminal at the machine would. Without --action it starts a
pending operation and confirms a started one; --action report counts a
shift's units (--good, --scrap) and keeps the operation started, and the
final confirm adds to them. Scrap needs --scrap-reason when the plant
lists scrap reasons. A scan id (--scan-id, or one made up) makes a
retried scan harmless.

Cards follow the routing: an operation starts after the one that feeds it
has started, and confirms (good + scrap) no more than that one confirmed
good; the records refuse a scan out of sequence and say what comes
first. A supervisor (role supervisor) can accept it anyway with
--override REASON; the override is kept in the audit log.`,
		Run: runScan,
	})
	register(&Command{
		Name:  "api",
		Usage: "[flags] METHOD PATH [JSON]",
		Short: "any records API call: twin api GET /api/v1/kpis?by=day",
		Long: `Api sends one request to the records API and prints the answer; the
endpoints are in /api/v1/openapi.json and twin/mes/api/ROLES.md.`,
		Run: runAPI,
	})
	register(&Command{
		Name:  "users",
		Usage: "add|list|token|passwd|unlock --data DIR [flags]",
		Short: "accounts and API tokens, on disk (the server stopped)",
		Long: `Users manages the accounts of the records in DIR/mes while the server is
stopped (with a server running, use twin api and /api/v1/users).

  twin users add --data DIR --name N --roles operator[,quality…]   (password from stdin)
  twin users list --data DIR
  twin users token --data DIR --name N [--label L]   prints a new API token
  twin users passwd --data DIR --name N              (the new password from stdin)
  twin users unlock --data DIR --name N              ends a lockout after failed sign-ins

A password has at least 12 characters, is not the name, not a common
password and not a keyboard run: a few words make a good one. An account
added here changes its password at the first sign-in (the API answers
anything else 403 password_change_required) unless --keep-password.

Roles: operator, supervisor, quality, maintenance, planner, manager, admin.

The first account, admin, is made by the first twin serve or twin demo on
DIR, which prints its password and keeps it in DIR/mes/admin-password until
it is changed (the first sign-in must change it). Lost it? With the twin
stopped:

  twin users passwd --data DIR --name admin <<< 'a new password'
  twin users token --data DIR --name admin      (then an API token at once)`,
		Run: runUsers,
	})
}

// readPassword reads a password from stdin: a line typed at a terminal
// (prompted on w), or what a pipe or <<< gives.
func readPassword(w io.Writer, name string) (string, error) {
	var b []byte
	var err error
	if isTerminal(os.Stdin) {
		fmt.Fprintf(w, "password for %s (at least 12 characters; it shows as you type), then Enter: ", name)
		b, err = bufio.NewReader(os.Stdin).ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			err = nil
		}
	} else {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 1024))
	}
	if err != nil {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// passwordHint says where the password comes from when the records
// refuse it.
func passwordHint(err error) error {
	var fe *mes.FieldError
	if errors.As(err, &fe) && fe.Field == "password" {
		return fmt.Errorf("%w: the password is read from stdin, e.g. twin users … <<< 'a few words make a good one'", err)
	}
	return err
}

// apiClient is the records API client of the commands: it prints what
// it is not asked to decode, and says what to do when the twin refuses.
type apiClient struct {
	*client.Client
	out io.Writer
	err error // the client's set-up (its CA file): every call returns it
}

func clientFlags(fs *flag.FlagSet) func(io.Writer) *apiClient {
	server := fs.String("server", envOr("TWIN_SERVER", "https://127.0.0.1:8080"), "the twin's `URL` (default $TWIN_SERVER, else https://127.0.0.1:8080)")
	token := secretFlag(fs, "token", "TWIN_API_TOKEN", "API `token` (default $TWIN_API_TOKEN)")
	ca := caFlag(fs)
	return func(w io.Writer) *apiClient { return newAPIClient(*server, *token, caOf(fs, *ca), w) }
}

// newAPIClient is a client of server that trusts the CA in the file ca
// ("": this machine's roots only).
func newAPIClient(server, token, ca string, w io.Writer) *apiClient {
	c := &apiClient{Client: client.New(server, token), out: w}
	if ca != "" {
		if err := c.TrustCA(ca); err != nil {
			c.err = fmt.Errorf("--ca: %w", err)
		}
	}
	return c
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// call sends a request and decodes a JSON answer into out (nil: print it).
func (c *apiClient) call(ctx context.Context, method, path string, in, out any) error {
	if c.err != nil {
		return c.err
	}
	b, err := c.Do(ctx, method, path, in, out)
	if err != nil {
		return c.explain(err)
	}
	if out != nil {
		return nil
	}
	if json.Valid(b) {
		var buf bytes.Buffer
		json.Indent(&buf, b, "", "  ")
		buf.WriteByte('\n')
		_, err = c.out.Write(buf.Bytes())
		return err
	}
	_, err = c.out.Write(b)
	return err
}

// explain turns the client's errors into what a person at the command
// line can do about them.
func (c *apiClient) explain(err error) error {
	var ue *client.UnreachableError
	if errors.As(err, &ue) {
		return fmt.Errorf("no twin answers at %s (%v): start one (twin demo, twin serve), or give the address of the one running, which it printed as \"records API  https://…\": --server URL or $TWIN_SERVER", c.Server(), ue.Err)
	}
	var ae *client.Error
	if errors.As(err, &ae) {
		switch {
		case ae.NotAPI():
			return fmt.Errorf("%s %s: %s answers, but has no records API there: give the address twin serve or twin demo printed as \"records API  https://…\" (twin replay and twin play serve the web page only)", ae.Method, ae.Path, c.Server())
		case ae.Status == http.StatusUnauthorized:
			return fmt.Errorf("%s %s: %s", ae.Method, ae.Path, c.tokenHint())
		}
	}
	return err
}

// tokenHint says how to get an API token, when the API refused the
// request for the lack of one.
func (c *apiClient) tokenHint() string {
	get := fmt.Sprintf(`sign in: export TWIN_API_TOKEN=$(twin api POST /api/v1/login '{"name":"admin","password":"…"}' --server %s | sed -n 's/.*"token": "\([^"]*\)".*/\1/p')`, c.Server()) +
		"; or, with the twin stopped, twin users token --data DIR --name admin (the first admin password is in DIR/mes/admin-password until it is changed)"
	if !c.HasToken() {
		return "no API token: give one with $TWIN_API_TOKEN or --token T. To get one, " + get
	}
	return "the API refused the token (expired, revoked, or of another twin). A new one: " + get
}

func runOrders(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["orders"], stdout)
	mk := clientFlags(fs)
	status := fs.String("status", "", "list: only orders in this status")
	customer := fs.String("customer", "", "add: customer")
	product := fs.String("product", "", "add: product id")
	qty := fs.Int("qty", 0, "add: quantity; makeup: units (default the shortfall)")
	due := fs.String("due", "", "add: due `time`: plant time (2026-12-01T16:00, in the plant's zone, whatever this computer's) or RFC 3339")
	prio := fs.Int("priority", 0, "add: customer priority")
	id := fs.String("id", "", "add: order number (default: generated)")
	reason := fs.String("reason", "", "close, makeup: why")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	verb := "list"
	if len(pos) > 0 {
		verb, pos = pos[0], pos[1:]
	}
	c := mk(stdout)
	arg := ""
	if len(pos) > 0 {
		arg = pos[0]
	}
	switch verb {
	case "list":
		return listOrders(ctx, c, *status, stdout)
	case "add":
		if *due == "" {
			return errors.New("--due: want a due time like 2026-12-01T16:00 (plant time) or RFC 3339")
		}
		// the text goes as it is: the server reads a time without an
		// offset as plant time, whatever this computer's zone
		return c.call(ctx, "POST", "/orders", struct {
			ID       string `json:"id"`
			Customer string `json:"customer"`
			Priority int    `json:"priority"`
			Product  string `json:"product"`
			Quantity int    `json:"quantity"`
			Due      string `json:"due"`
		}{*id, *customer, *prio, *product, *qty, *due}, nil)
	case "release", "cancel":
		if arg == "" {
			return errUsage
		}
		return c.call(ctx, "POST", "/orders/"+url.PathEscape(arg)+"/"+verb, nil, nil)
	case "close":
		if arg == "" {
			return errUsage
		}
		if *reason == "" {
			return fmt.Errorf("orders close %s: --reason is required: say why the order is closed short", arg)
		}
		return c.call(ctx, "POST", "/orders/"+url.PathEscape(arg)+"/close", mes.CloseRequest{Reason: *reason}, nil)
	case "makeup":
		if arg == "" {
			return errUsage
		}
		return c.call(ctx, "POST", "/orders/"+url.PathEscape(arg)+"/makeup", mes.MakeUpRequest{Quantity: *qty, Reason: *reason}, nil)
	case "show":
		if arg == "" {
			return errUsage
		}
		return c.call(ctx, "GET", "/orders/"+url.PathEscape(arg), nil, nil)
	case "records":
		if arg == "" {
			return errUsage
		}
		return c.call(ctx, "GET", "/orders/"+url.PathEscape(arg)+"/records", nil, nil)
	}
	return errUsage
}

// listOrders prints the orders (those in status, unless ""), their due
// times in the plant's zone.
func listOrders(ctx context.Context, c *apiClient, status string, stdout io.Writer) error {
	var p mes.Page[mes.Order]
	q := "/orders?limit=1000"
	if status != "" {
		q += "&status=" + url.QueryEscape(status)
	}
	if err := c.call(ctx, "GET", q, nil, &p); err != nil {
		return err
	}
	loc := c.plantZone(p.Items)
	fmt.Fprintln(stdout, zoneNote(loc, time.Now()))
	fmt.Fprintf(stdout, "%-14s %-20s %-12s %5s %5s  %-16s %s\n", "order", "customer", "product", "qty", "good", "due", "status")
	for _, o := range p.Items {
		fmt.Fprintf(stdout, "%-14s %-20s %-12s %5d %5d  %-16s %s\n", o.ID, o.Customer, o.Product, o.Quantity, o.Good, o.Due.In(loc).Format("2006-01-02 15:04"), o.Status)
	}
	return nil
}

// plantZone is the plant's time zone as the server names it, or else the
// offset its times carry.
func (c *apiClient) plantZone(orders []mes.Order) *time.Location {
	if loc := c.Zone(); loc != nil {
		return loc
	}
	for _, o := range orders {
		if !o.Due.IsZero() {
			_, off := o.Due.Zone()
			return time.FixedZone(o.Due.Format("UTC-07:00"), off)
		}
	}
	return time.UTC
}

func runScan(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["scan"], stdout)
	mk := clientFlags(fs)
	action := fs.String("action", "", "start, confirm, or report (a partial count: the operation stays started); default: by the operation's state")
	good := fs.Int("good", -1, "confirm: good quantity (default what was passed on, less what was counted and the scrap); report: good units of this count")
	scrap := fs.Int("scrap", 0, "confirm or report: scrap quantity")
	scrapReason := fs.String("scrap-reason", "", "with --scrap: the `code` of a scrap reason of the plant (twin api GET /api/v1/floor lists them)")
	station := fs.String("station", "", "the machine (id)")
	worker := fs.String("worker", "", "the worker's badge (default the token's user)")
	scanID := fs.String("scan-id", "", "this scan's id (default: made up)")
	override := fs.String("override", "", "a supervisor's `reason` to accept a scan out of the routing's sequence (the token's user needs the role supervisor)")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errUsage
	}
	s := mes.Scan{Token: pos[0], Action: *action, Station: *station, Worker: *worker, ScanID: *scanID, Terminal: "cli", Override: *override, ScrapReason: *scrapReason}
	if s.ScanID == "" {
		s.ScanID = "cli-" + randomToken()
	}
	if *good >= 0 {
		s.Good = good
	}
	if *scrap > 0 {
		s.Scrap = scrap
	}
	var res mes.ScanResult
	if err := mk(stdout).call(ctx, "POST", "/scan", s, &res); err != nil {
		if *override == "" && strings.Contains(err.Error(), mes.OverrideHint) {
			return fmt.Errorf("%w\n  a supervisor accepts it with: twin scan TOKEN --override REASON (their --token)", err)
		}
		return err
	}
	dup := ""
	if res.Duplicate {
		dup = " (already so: nothing changed)"
	}
	fmt.Fprintf(stdout, "%s %s on %s%s: %s, good %d, scrap %d\n", res.Operation.ID, res.Action, res.Operation.Station, dup, res.Operation.Name, res.Operation.Good, res.Operation.Scrap)
	if res.Flag != nil {
		fmt.Fprintf(stdout, "flagged: %s\n", res.Flag.Text)
	}
	if ov := res.Override; ov != nil {
		for _, b := range ov.Broken {
			fmt.Fprintf(stdout, "override %s by %s (%s): %s\n", ov.ID, ov.By, ov.Reason, b.Text)
		}
	}
	return nil
}

func runAPI(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["api"], stdout)
	mk := clientFlags(fs)
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 || len(pos) > 3 {
		return errUsage
	}
	var in any
	if len(pos) == 3 {
		var raw json.RawMessage
		if err := json.Unmarshal([]byte(pos[2]), &raw); err != nil {
			return fmt.Errorf("the body is not JSON: %v", err)
		}
		in = raw
	}
	return mk(stdout).call(ctx, strings.ToUpper(pos[0]), pos[1], in, nil)
}

// usersCall is the API call that does what a twin users verb does.
var usersCall = map[string]string{
	"add":    `api POST /api/v1/users '{"name":"li","roles":["planner"],"password":"a few words make a good one","must_change_password":true}'`,
	"list":   "api GET /api/v1/users",
	"token":  `api POST /api/v1/users/NAME/tokens '{"label":"terminal"}'`,
	"passwd": `api PATCH /api/v1/users/NAME '{"password":"a few words make a good one"}'`,
	"unlock": "api POST /api/v1/users/NAME/unlock",
}

func runUsers(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["users"], stdout)
	data := fs.String("data", "data", "the twin's data `directory`")
	plantFile := fs.String("plant", "", "plant `file` (default: the plant DIR remembers, else the built-in reference plant)")
	name := fs.String("name", "", "account name")
	roles := fs.String("roles", "", "add: comma-separated roles")
	label := fs.String("label", "cli", "token: what the token is for")
	keep := fs.Bool("keep-password", false, "add: the account need not change its password at the first sign-in")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errUsage
	}
	verb := pos[0]
	if err := datadir.CheckRecords(*data); err != nil {
		return err
	}
	p, err := loadPlant(nil, *data, *plantFile, true)
	if err != nil {
		return err
	}
	db, err := mes.Open(filepath.Join(*data, datadir.Records), mes.Options{Plant: p.Plant, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return inUse(datadir.Busy(*data, err), func(s *datadir.Server) []string {
			return apiWays(s, usersCall[verb])
		})
	}
	defer db.Close()
	if *name == "" && verb != "list" {
		return fmt.Errorf("--name: which account? (twin users list --data %s shows them)", *data)
	}
	switch verb {
	case "add":
		return addUser(db, *name, *roles, *keep, stdout)
	case "passwd":
		return setPassword(db, *data, *name, stdout)
	case "list":
		us, err := db.Users()
		if err != nil {
			return err
		}
		for _, u := range us {
			fmt.Fprintf(stdout, "%-16s %-40s disabled=%v\n", u.Name, strings.Join(u.Roles, ","), u.Disabled)
		}
	case "token":
		return issueToken(db, *data, *name, *label, stdout)
	case "unlock":
		lo, err := db.Unlock("cli", *name)
		if err != nil {
			return fmt.Errorf("%w (twin users list --data %s shows the accounts)", err, *data)
		}
		fmt.Fprintf(stdout, "%s is unlocked (%d failed sign-ins counted)\n", *name, lo.Failures)
	default:
		return errUsage
	}
	return nil
}

// addUser adds the account name with roles (comma-separated) and a
// password typed in; unless keep, it changes the password at its first
// sign-in.
func addUser(db *mes.DB, name, roles string, keep bool, stdout io.Writer) error {
	pw, err := readPassword(stdout, name)
	if err != nil {
		return err
	}
	u, err := db.CreateUser("cli", mes.NewUser{Name: name, Roles: strings.Split(roles, ","), Password: pw, MustChangePassword: !keep})
	if err != nil {
		return passwordHint(err)
	}
	fmt.Fprintf(stdout, "added %s (%s)\n", u.Name, strings.Join(u.Roles, ", "))
	if u.MustChangePassword {
		fmt.Fprintf(stdout, "%s changes the password at the first sign-in\n", u.Name)
	}
	return nil
}

// setPassword sets the password of the account name in the records on
// data to one typed in.
func setPassword(db *mes.DB, data, name string, stdout io.Writer) error {
	pw, err := readPassword(stdout, name)
	if err != nil {
		return err
	}
	// whoever stands at the twin chose it: no change at the next sign-in
	if _, err := db.ChangeUser("cli", name, mes.UserChange{Password: pw, MustChangePassword: new(false)}); err != nil {
		return fmt.Errorf("%w (twin users list --data %s shows the accounts)", passwordHint(err), data)
	}
	if name == "admin" {
		os.Remove(adminPasswordFile(data)) // its first password is no longer
	}
	fmt.Fprintf(stdout, "the password of %s is changed\n", name)
	return nil
}

// issueToken prints a new API token of the account name, for label.
func issueToken(db *mes.DB, data, name, label string, stdout io.Writer) error {
	is, err := db.IssueToken("cli", name, mes.NewToken{Label: label})
	if err != nil {
		return fmt.Errorf("%w (twin users list --data %s shows the accounts)", err, data)
	}
	fmt.Fprintln(stdout, is.Token)
	if is.MustChangePassword {
		fmt.Fprintf(os.Stderr, "%s must change the password first: the token is refused (403 password_change_required) until then: twin users passwd --data %s --name %s\n", name, data, name)
	}
	return nil
}
