package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"twin/plant"
	"twin/twin/mes"
	"twin/viz/scene"
)

// The execution records beside the live twin (twin serve, twin demo), and
// the commands that script them over the API (twin orders, twin scan,
// twin api) or set them up on disk (twin users).

// openRecords opens the records in DIR/mes, linked to the live twin, and
// makes the first admin account when there is none.
func openRecords(p *plant.Plant, dir string, tw *live, now func() time.Time, log *slog.Logger, stdout io.Writer) (*mes.DB, error) {
	db, err := mes.Open(filepath.Join(dir, "mes"), mes.Options{Plant: p, History: tw.st, Live: tw.in, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	if has, err := db.HasUsers(); err != nil || has {
		return db, err
	}
	pw := os.Getenv("TWIN_ADMIN_PASSWORD")
	shown := "from $TWIN_ADMIN_PASSWORD"
	if pw == "" {
		pw, shown = randomToken(), ""
	}
	if _, err := db.CreateUser("setup", mes.NewUser{Name: "admin", Roles: []string{mes.RoleAdmin, mes.RoleManager}, Password: pw}); err != nil {
		db.Close()
		return nil, err
	}
	if shown == "" {
		shown = pw + "   (shown once: sign in and change it)"
	}
	fmt.Fprintf(stdout, "  first account           admin, password %s\n", shown)
	return db, nil
}

// withAlarms adds the records' maintenance alarms (due, overdue) to the
// stations of each scene, read from the records at most every 2 s.
func withAlarms(db *mes.DB, build func() *scene.Scene) func() *scene.Scene {
	var mu sync.Mutex
	var alarms map[string][]string
	var read time.Time
	return func() *scene.Scene {
		sc := build()
		mu.Lock()
		if time.Since(read) > 2*time.Second {
			read = time.Now()
			alarms = map[string][]string{}
			if ms, err := db.Maintenance(true); err == nil {
				for _, m := range ms {
					alarms[m.Plan.Unit] = append(alarms[m.Plan.Unit], fmt.Sprintf("%s %s %s", m.Plan.Kind, m.Plan.Name, m.State))
				}
			}
		}
		for i := range sc.Stations {
			sc.Stations[i].Alarms = append(sc.Stations[i].Alarms, alarms[sc.Stations[i].ID]...)
		}
		mu.Unlock()
		return sc
	}
}

func init() {
	register(&Command{
		Name:  "orders",
		Usage: "[list|add|release|cancel|close|makeup|show|records] [flags] [ID]",
		Short: "production orders in the records, over the API",
		Long: `Orders lists, enters, releases, cancels and shows production orders
through the records API of a running twin serve or twin demo (--server,
default $TWIN_SERVER or http://127.0.0.1:8080; --token, default
$TWIN_API_TOKEN: an API token, see twin users).

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
pending operation and confirms a started one. A scan id (--scan-id, or
one made up) makes a retried scan harmless.

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
endpoints are in /api/v1/openapi.json and twin/mes/ROLES.md.`,
		Run: runAPI,
	})
	register(&Command{
		Name:  "users",
		Usage: "add|list|token --data DIR [flags]",
		Short: "accounts and API tokens, on disk (the server stopped) ",
		Long: `Users manages the accounts of the records in DIR/mes while the server is
stopped (with a server running, use twin api and /api/v1/users).

  twin users add --data DIR --name N --roles operator[,quality…]   (password from stdin)
  twin users list --data DIR
  twin users token --data DIR --name N [--label L]   prints a new API token

Roles: operator, supervisor, quality, maintenance, planner, manager, admin.`,
		Run: runUsers,
	})
}

// client is the API client of the commands.
type client struct {
	server, token string
	out           io.Writer
}

func clientFlags(fs *flag.FlagSet) func(io.Writer) *client {
	server := fs.String("server", envOr("TWIN_SERVER", "http://127.0.0.1:8080"), "the twin's `URL`")
	token := fs.String("token", os.Getenv("TWIN_API_TOKEN"), "API `token` (default $TWIN_API_TOKEN)")
	return func(w io.Writer) *client {
		return &client{server: strings.TrimRight(*server, "/"), token: *token, out: w}
	}
}

// parseAll parses flags placed anywhere among the arguments and returns
// the positional ones.
func parseAll(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// call sends a request and decodes a JSON answer into out (nil: print it).
func (c *client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	if !strings.HasPrefix(path, "/api/") {
		path = "/api/v1" + path
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, body)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		var e struct{ Error, Field string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: %s", method, path, e.Error)
		}
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
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

func runOrders(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["orders"], stdout)
	mk := clientFlags(fs)
	status := fs.String("status", "", "list: only orders in this status")
	customer := fs.String("customer", "", "add: customer")
	product := fs.String("product", "", "add: product id")
	qty := fs.Int("qty", 0, "add: quantity; makeup: units (default the shortfall)")
	due := fs.String("due", "", "add: due date (RFC 3339, or YYYY-MM-DDTHH:MM in this computer's time zone)")
	prio := fs.Int("priority", 0, "add: customer priority")
	id := fs.String("id", "", "add: order number (default: generated)")
	reason := fs.String("reason", "", "close, makeup: why")
	verb := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		verb, args = args[0], args[1:]
	}
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	c := mk(stdout)
	arg := ""
	if len(pos) > 0 {
		arg = pos[0]
	}
	switch verb {
	case "list":
		var p mes.Page[mes.Order]
		q := "/orders?limit=1000"
		if *status != "" {
			q += "&status=" + url.QueryEscape(*status)
		}
		if err := c.call(ctx, "GET", q, nil, &p); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-14s %-20s %-12s %5s %5s  %-16s %s\n", "order", "customer", "product", "qty", "good", "due", "status")
		for _, o := range p.Items {
			fmt.Fprintf(stdout, "%-14s %-20s %-12s %5d %5d  %-16s %s\n", o.ID, o.Customer, o.Product, o.Quantity, o.Good, o.Due.Format("2006-01-02 15:04"), o.Status)
		}
		return nil
	case "add":
		t, err := time.Parse(time.RFC3339, *due)
		if err != nil {
			if t, err = time.ParseInLocation("2006-01-02T15:04", *due, time.Local); err != nil {
				return fmt.Errorf("--due: want RFC 3339 or 2006-01-02T15:04, got %q", *due)
			}
		}
		return c.call(ctx, "POST", "/orders", mes.NewOrder{ID: *id, Customer: *customer, Priority: *prio, Product: *product, Quantity: *qty, Due: t}, nil)
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

func runScan(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["scan"], stdout)
	mk := clientFlags(fs)
	action := fs.String("action", "", "start or confirm (default: by the operation's state)")
	good := fs.Int("good", -1, "confirm: good quantity (default planned − scrap)")
	scrap := fs.Int("scrap", 0, "confirm: scrap quantity")
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
	s := mes.Scan{Token: pos[0], Action: *action, Station: *station, Worker: *worker, ScanID: *scanID, Terminal: "cli", Override: *override}
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

func runUsers(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags(commands["users"], stdout)
	data := fs.String("data", "data", "the twin's data `directory`")
	plantFile := fs.String("plant", "testdata/plants/motor.yaml", "plant `file`")
	name := fs.String("name", "", "account name")
	roles := fs.String("roles", "", "add: comma-separated roles")
	label := fs.String("label", "cli", "token: what the token is for")
	if len(args) == 0 {
		return errUsage
	}
	verb := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	p, err := plant.Load(*plantFile)
	if err != nil {
		return err
	}
	db, err := mes.Open(filepath.Join(*data, "mes"), mes.Options{Plant: p, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return fmt.Errorf("%w (is a twin running on %s? stop it, or use twin api /api/v1/users)", err, *data)
	}
	defer db.Close()
	switch verb {
	case "add":
		pw, err := io.ReadAll(io.LimitReader(os.Stdin, 1024))
		if err != nil {
			return err
		}
		u, err := db.CreateUser("cli", mes.NewUser{Name: *name, Roles: strings.Split(*roles, ","), Password: strings.TrimRight(string(pw), "\r\n")})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s (%s)\n", u.Name, strings.Join(u.Roles, ", "))
	case "list":
		us, err := db.Users()
		if err != nil {
			return err
		}
		for _, u := range us {
			fmt.Fprintf(stdout, "%-16s %-40s disabled=%v\n", u.Name, strings.Join(u.Roles, ","), u.Disabled)
		}
	case "token":
		is, err := db.IssueToken("cli", *name, mes.NewToken{Label: *label})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, is.Token)
	default:
		return errUsage
	}
	return nil
}
