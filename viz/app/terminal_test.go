package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/twin/mes"
	"twin/twin/mes/api"
	"twin/viz/app/e2e"
)

// floorRig is a twin's records API with the app beside it, as twin serve
// mounts them, on a free loopback port, the records (Badger) on disk.
type floorRig struct {
	t   *testing.T
	p   *plant.Plant
	db  *mes.DB
	api *api.API
	srv *httptest.Server
	tok map[string]string // user → API token
}

func newFloorRig(t *testing.T) *floorRig {
	p, err := plant.Load("../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, err := mes.Open(filepath.Join(t.TempDir(), "mes"), mes.Options{Plant: p, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := &floorRig{t: t, p: p, db: db, api: api.New(db, nil), tok: map[string]string{}}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", r.api)
	mux.Handle("/app/", Handler(func() Plant { return Plant{Locale: p.Locale, Zone: p.Location.String()} }))
	r.srv = httptest.NewServer(mux)
	t.Cleanup(func() { r.srv.Close(); db.Close() })
	return r
}

func (r *floorRig) user(name string, roles []string, password string, change bool) {
	r.t.Helper()
	if _, err := r.db.CreateUser("setup", mes.NewUser{Name: name, Roles: roles, Password: password, MustChangePassword: change}); err != nil {
		r.t.Fatal(err)
	}
	if change {
		return // a token of theirs would serve only to change the password
	}
	is, err := r.db.IssueToken("setup", name, mes.NewToken{Label: "e2e"})
	if err != nil {
		r.t.Fatal(err)
	}
	r.tok[name] = is.Token
}

// do calls the API as user; out (if not nil) gets a 2xx answer.
func (r *floorRig) do(user, method, path string, in, out any) (int, []byte) {
	r.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.srv.URL+"/api/v1"+path, body)
	req.Header.Set("Authorization", "Bearer "+r.tok[user])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			r.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, b
}

func (r *floorRig) must(user, method, path string, in, out any) {
	r.t.Helper()
	if code, b := r.do(user, method, path, in, out); code >= 300 {
		r.t.Fatalf("%s %s as %s: %d %s", method, path, user, code, b)
	}
}

// has tells whether the API serves method path (the floor's routes come
// from another branch of the work: until they are there, the terminal's
// reports and stops are not walked).
func (r *floorRig) has(method, path string) bool {
	return slices.ContainsFunc(r.api.Routes(), func(rt api.Route) bool { return rt.Method == method && rt.Path == "/api/v1"+path })
}

// firstOp is the operation that starts a released order's stator: the
// first of its work order, at the lamination press, the press's station
// id and name.
func (r *floorRig) firstOp(order string) (mes.Operation, string, string) {
	r.t.Helper()
	var ops mes.Page[mes.Operation]
	r.must("planner", "GET", "/operations?limit=100&order="+order, nil, &ops)
	for _, op := range ops.Items {
		if op.Seq != 10 || len(op.WorkCenters) != 1 || op.WorkCenters[0] != "stamping" {
			continue
		}
		u := r.p.FindUnit("PR1")
		return op, r.stationID(u), u.Node.Name
	}
	r.t.Fatalf("order %s has no first operation at stamping: %+v", order, ops.Items)
	return mes.Operation{}, "", ""
}

// stationID is the id the API gives unit's station (GET /floor, or the
// equipment ledger of a twin without it).
func (r *floorRig) stationID(u *plant.Unit) string {
	r.t.Helper()
	var list []struct {
		ID, Path, Level string
	}
	if r.has("GET", "/floor") {
		var f struct {
			Stations []struct{ ID, Path, Level string } `json:"stations"`
		}
		r.must("planner", "GET", "/floor", nil, &f)
		list = f.Stations
	} else {
		r.must("planner", "GET", "/equipment", nil, &list)
	}
	for _, s := range list {
		if s.ID == u.Node.ID || s.ID == u.Node.Path || s.Path == u.Node.Path {
			return s.ID
		}
	}
	r.t.Fatalf("no station for %s in %+v", u.Node.Path, list)
	return ""
}

func (r *floorRig) operation(id string) mes.Operation {
	r.t.Helper()
	var op mes.Operation
	r.must("planner", "GET", "/operations/"+url.PathEscape(id), nil, &op)
	return op
}

// camera makes the fake camera show a card: its PNG from the API (path:
// an operation's or a station's card.png), in a 640×480 video.
func (r *floorRig) camera(file, path string) {
	r.t.Helper()
	req, _ := http.NewRequest("GET", r.srv.URL+"/api/v1"+path+"?scale=8", nil)
	req.Header.Set("Authorization", "Bearer "+r.tok["planner"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	img, err := png.Decode(resp.Body)
	if err != nil {
		r.t.Fatalf("the card's PNG: %v", err)
	}
	if err := e2e.Y4M(file, img, 640, 480, 5); err != nil {
		r.t.Fatal(err)
	}
}

// walk is one way a person works the terminal.
type walk struct {
	name     string
	w, h     int
	browser  string // the browser's language
	want     string // the locale the floor must be shown in
	switchAt string // "signin", "floor" or "": where the person switches the locale
	kiosk    bool   // signs in with the terminal's API token
	change   bool   // the first sign-in: the password must change
	byQR     bool   // picks the station by scanning its QR code (wedge)
	qrCam    bool   // … with the camera
}

// TestTerminalInChromium works released orders from the floor terminal in
// headless Chromium, as an operator does, at phone (390×844) and kiosk
// (1280×800) size, in zh-CN and en (the browser's language, the plant's
// default, the switch on the sign-in page and on the terminal): sign in
// (the forced first password change, a kiosk's token), pick the station
// (its QR code through the camera or typed by a keyboard wedge, or the
// list), scan a real card through a fake camera (a y4m video of the card's
// PNG, decoded by the vendored jsQR: this Chromium has no
// BarcodeDetector), start, clock on and off (checked on the server),
// report good and scrap with a reason, report a stop (等料) and end it,
// go offline, scan the card with the wedge and confirm it, see it pending
// (and the terminal reopened offline from its service worker still has
// it), come back online, and check on the server that the operation was
// confirmed exactly once with every unit counted. The first walk also
// meets refusals: a forged card, and a start the routing refuses, shown in
// the catalogue's words until dismissed. No page overflows sideways; the
// screenshots are in e2e/out/.
func TestTerminalInChromium(t *testing.T) {
	r := newFloorRig(t)
	r.user("planner", []string{mes.RolePlanner}, "planner pass phrase 1", false)
	r.user("li.wei", []string{mes.RoleOperator}, "first pass phrase 1", true)
	r.user("kiosk-stamping", []string{mes.RoleOperator}, "kiosk pass phrase 1", false)
	floorAPI := r.has("GET", "/floor") && r.has("POST", "/downtime")
	if !floorAPI {
		t.Log("this API has no GET /floor and POST /downtime yet: the report and the stop are not walked")
	}
	cat := map[string]map[string]string{"zh-CN": catalogue(t, "zh-CN"), "en": catalogue(t, "en")}
	out := filepath.Join(e2e.Dir(), "out")
	os.RemoveAll(out) // this run's screenshots only
	os.MkdirAll(out, 0o755)
	cam := filepath.Join(t.TempDir(), "camera.y4m")
	walks := []walk{
		{name: "phone-zh", w: 390, h: 844, browser: "zh-CN", want: "zh-CN", change: true, byQR: true},
		{name: "phone-en", w: 390, h: 844, browser: "zh-CN", want: "en", switchAt: "signin"},
		{name: "kiosk-zh", w: 1280, h: 800, browser: "en-US", want: "zh-CN", kiosk: true},
		{name: "kiosk-en", w: 1280, h: 800, browser: "en-US", want: "en", switchAt: "floor", byQR: true, qrCam: true},
	}
	due := time.Date(2026, 12, 20, 16, 0, 0, 0, r.p.Location)
	for i := range walks {
		id := fmt.Sprintf("SO-E2E-%d", i+1)
		r.must("planner", "POST", "/orders", mes.NewOrder{ID: id, Customer: "重庆水泵厂", Priority: 1, Product: "YE3-100L-4", Quantity: 4, Due: due}, nil)
		r.must("planner", "POST", "/orders/"+id+"/release", nil, nil)
	}
	op, _, _ := r.firstOp("SO-E2E-1")
	r.camera(cam, "/operations/"+url.PathEscape(op.ID)+"/card.png") // the camera needs a video before Chromium starts
	b := e2e.Start(t, cam)
	password := "first pass phrase 1"
	for i, wk := range walks {
		t.Run(wk.name, func(t *testing.T) {
			b := b.With(t)
			order := fmt.Sprintf("SO-E2E-%d", i+1)
			op, station, stationName := r.firstOp(order)
			// the locale: the person's choice, else the plant's (GET /floor),
			// else the browser's
			flip := map[string]string{"zh-CN": "en", "en": "zh-CN"}
			loc := map[string]string{"zh-CN": "zh-CN", "en-US": "en"}[wk.browser]
			switch {
			case wk.switchAt == "signin":
				loc = flip[loc]
			case floorAPI:
				loc = "zh-CN" // the motor plant's
			}
			if wk.switchAt == "floor" {
				loc = flip[loc]
			}
			if floorAPI && loc != wk.want {
				t.Fatalf("the walk wants %s, the rules give %s", wk.want, loc)
			}
			wk.want = loc
			tx := cat[wk.want]
			shot := func(step string) {
				t.Helper()
				var ov [2]int
				json.Unmarshal(b.Do("overflow"), &ov)
				if ov[0] > ov[1] {
					t.Errorf("%s: the page is %d px wide in a %d px window (it scrolls sideways)", step, ov[0], ov[1])
				}
				b.Do("shot", filepath.Join(out, fmt.Sprintf("%s-%s.png", wk.name, step)))
			}
			b.Do("context", wk.w, wk.h, wk.browser)
			t.Cleanup(func() {
				if t.Failed() { // what the page showed
					b.Try("shot", filepath.Join(out, wk.name+"-failed.png"))
					errs, _ := b.Try("errors")
					html, _ := b.Try("html", "#work")
					t.Logf("the page's errors: %s\nits main: %s", errs, html)
				}
			})
			b.Do("goto", r.srv.URL+"/app/floor")
			// not signed in: the terminal sends the person to sign in
			b.Do("wait", "#signin")
			// before anyone signs in, the page speaks the plant's language
			// (its file's, /app/plant.json), whatever the browser's
			b.Do("waittext", "#b-signin", cat[r.p.Locale]["signin.submit"])
			if wk.switchAt == "signin" {
				b.Do("click", "#locale")
				b.Do("waittext", "#b-signin", tx["signin.submit"])
			}
			shot("1-signin")
			switch {
			case wk.kiosk:
				b.Do("click", "#kiosk summary")
				b.Do("fill", "#token", r.tok["kiosk-stamping"])
				b.Do("click", "#b-token")
			default:
				b.Do("fill", "#name", "li.wei")
				b.Do("fill", "#password", password)
				b.Do("click", "#b-signin")
				if wk.change {
					b.Do("wait", "#change")
					shot("2-change")
					password = "a new pass phrase for the floor"
					b.Do("fill", "#new1", password)
					b.Do("fill", "#new2", password)
					b.Do("click", "#b-change")
				}
			}
			// ?next=floor: back at the terminal, signed in
			b.Do("wait", "body[data-ready='1']")
			if wk.switchAt == "floor" {
				b.Do("click", "#locale")
			}
			b.Do("waittext", "#b-camera", tx["scan.camera"])
			if got := strings.Trim(string(b.Do("attr", "html", "lang")), `"`); got != wk.want {
				t.Fatalf("the floor is in %q, want %q", got, wk.want)
			}
			b.Do("waittext", "#clock", "Asia/Shanghai")
			if wk.byQR && wk.qrCam && r.has("GET", "/stations/{id}/card.png") {
				r.camera(cam, "/stations/"+url.PathEscape(station)+"/card.png")
				b.Do("click", "#b-camera")
			} else if wk.byQR {
				b.Do("wedge", "#wedge", "twin:station:"+station)
			} else {
				b.Do("wait", "#stations")
				shot("3-stations")
				b.Do("click", fmt.Sprintf("#station-list [data-station=%q]", station))
			}
			b.Do("hidden", "#stations")
			b.Do("waittext", "#b-station", stationName)

			// the card through the camera
			r.camera(cam, "/operations/"+url.PathEscape(op.ID)+"/card.png")
			b.Do("click", "#b-camera")
			b.Do("wait", "#card")
			b.Do("waittext", "#c-title", op.Name)
			if d := strings.Trim(string(b.Do("attr", "body", "data-decoder")), `"`); d != "jsQR" && d != "BarcodeDetector" {
				t.Errorf("decoded by %q", d)
			}
			facts := b.Text("#c-facts")
			wantFacts := []string{order, op.WorkOrder}
			if floorAPI { // GET /card: the order's customer, product and due
				wantFacts = append(wantFacts, "重庆水泵厂", "YE3-100L-4", "Asia/Shanghai")
			}
			for _, want := range wantFacts {
				if !strings.Contains(facts, want) {
					t.Errorf("the card shows %q: no %q", facts, want)
				}
			}
			b.Do("click", "#b-start")
			b.Do("waittext", "#c-state", tx["card.done.started"])
			if got := r.operation(op.ID); got.Status != "started" {
				t.Fatalf("after start the server has %s", got.Status)
			}
			// clock on this job
			b.Do("click", "#b-clock")
			b.Do("waittext", "#b-clock", tx["clock.off"])
			worker := map[bool]string{true: "kiosk-stamping", false: "li.wei"}[wk.kiosk]
			if on := r.clockedOn(worker); !slices.Contains(on, op.ID) {
				t.Errorf("clocked on: the server has %s on %v", worker, on)
			}
			shot("4-started")

			good := 4
			if floorAPI {
				// a part of the shift's work: 1 good, 1 scrapped with its reason
				for range 3 {
					b.Do("click", "#s-good .minus")
				}
				b.Do("click", "#s-scrap .plus")
				b.Do("wait", "#scrap-reasons")
				if d := string(b.Do("attr", "#b-report", "disabled")); d == "null" {
					t.Errorf("report enabled before a scrap reason was picked")
				}
				b.Do("click", "#scrap-reasons [data-reason=lamination_burr]")
				shot("5-report")
				b.Do("click", "#b-report")
				b.Do("waittext", "#c-state", strings.NewReplacer("{good}", "1", "{scrap}", "1").Replace(tx["card.done.reported"]))
				if got := r.operation(op.ID); got.Good != 1 || got.Scrap != 1 || got.Status != "started" {
					t.Fatalf("after the report the server has good %d scrap %d, %s; want 1, 1, started", got.Good, got.Scrap, got.Status)
				}
				good = 3 // 1 reported, and the 2 left of 4 confirmed
				// a stop: waiting for material, then running again
				b.Do("click", "#b-stop")
				b.Do("click", "#down-reasons [data-reason=material]")
				b.Do("wait", "#down")
				b.Do("waittext", "#down-text", map[string]string{"zh-CN": "等料", "en": "Waiting for material"}[wk.want])
				shot("6-stop")
				b.Do("hidden", "#outbox")
				var open []map[string]any
				r.must("planner", "GET", "/downtime?open=true&station="+url.QueryEscape(station), nil, &open)
				if len(open) != 1 || open[0]["reason"] != "material" {
					t.Fatalf("open stops on the server: %v, want one for material", open)
				}
				b.Do("click", "#b-down-end")
				b.Do("hidden", "#down")
				b.Do("hidden", "#outbox")
			}
			b.Do("click", "#b-clock")
			b.Do("waittext", "#b-clock", tx["clock.on"])
			if on := r.clockedOn(worker); slices.Contains(on, op.ID) {
				t.Errorf("clocked off: the server has %s on %v", worker, on)
			}

			// the network goes: the card scanned by the wedge, confirmed
			b.Do("wait", "body[data-sw='1']") // the shell is kept for opening offline
			b.Do("offline", true)
			b.Do("wedge", "#wedge", r.token(op.ID))
			b.Do("wait", "#counts")
			b.Do("click", "#b-confirm")
			b.Do("wait", "#outbox")
			b.Do("waittext", "#net", tx["net.offline"])
			b.Do("wait", "#c-state.waiting")
			if strings.Contains(b.Text("#c-state"), "✔") {
				t.Errorf("offline, the card says done: %q", b.Text("#c-state"))
			}
			shot("7-offline")
			if got := r.operation(op.ID); got.Confirmations != 0 {
				t.Fatalf("offline, the server has %d confirmations", got.Confirmations)
			}
			// reopened offline: the service worker's shell, the outbox on disk
			b.Do("reload")
			b.Do("wait", "body[data-ready='1']")
			b.Do("wait", "#outbox li")
			// the network returns: sent, exactly once
			b.Do("offline", false)
			b.Do("hidden", "#outbox")
			got := r.operation(op.ID)
			if got.Confirmations != 1 || got.Status != "confirmed" || got.Good+got.Scrap != 4 {
				t.Fatalf("online again, the server has %d confirmations, %s, good %d scrap %d; want 1, confirmed, 4 units", got.Confirmations, got.Status, got.Good, got.Scrap)
			}
			if got.Good != good {
				t.Errorf("the server has good %d, want %d", got.Good, good)
			}
			b.Do("wedge", "#wedge", r.token(op.ID))
			b.Do("waittext", "#c-state", tx["card.next.done"])
			shot("8-confirmed")
			if wk.change { // the first walk: what a refusal looks like
				refusals(t, b, r, tx, op, fmt.Sprintf("SO-E2E-%d", len(walks)), func() { shot("9-refused") })
			}
			var errs []string
			json.Unmarshal(b.Do("errors"), &errs)
			for _, e := range errs {
				// a resource the network could not bring (offline, or an
				// endpoint an older twin lacks) is said by the page itself
				if !strings.HasPrefix(e, "console: Failed to load resource") {
					t.Errorf("the page's error: %s", e)
				}
			}
		})
		if t.Failed() {
			break
		}
	}
}

func (r *floorRig) token(op string) string { return r.db.CardToken(op) }

// clockedOn is what the server says worker is clocked on (nil: a twin
// without GET /labour/on).
func (r *floorRig) clockedOn(worker string) []string {
	r.t.Helper()
	if !r.has("GET", "/labour/on") {
		return nil
	}
	var on []mes.OnCard
	r.must("planner", "GET", "/labour/on?worker="+url.QueryEscape(worker), nil, &on)
	var ids []string
	for _, c := range on {
		ids = append(ids, c.Operation)
	}
	return ids
}

// refusals: a card of no operation here is refused in the catalogue's
// words; a start the routing refuses (the operation before has not
// started: out_of_sequence) stays on screen, in words, until dismissed,
// and changes nothing on the server.
func refusals(t *testing.T, b *e2e.Browser, r *floorRig, tx map[string]string, done mes.Operation, order string, shot func()) {
	t.Helper()
	b.Do("wedge", "#wedge", "v1.Zm9yZ2Vk.AAAAAAAAAAAAAAAAAAAAAA") // "forged", signed by no twin
	b.Do("waittext", "#msg", tx["error.card_unknown"])
	var ops mes.Page[mes.Operation]
	r.must("planner", "GET", "/operations?limit=100&order="+order, nil, &ops)
	var next mes.Operation
	for _, op := range ops.Items {
		if op.Seq == 20 && strings.HasSuffix(op.WorkOrder, strings.TrimPrefix(done.WorkOrder, done.Order)) {
			next = op
		}
	}
	if next.ID == "" {
		t.Fatalf("order %s has no second operation in its %s work order", order, done.WorkOrder)
	}
	b.Do("wedge", "#wedge", r.token(next.ID))
	b.Do("waittext", "#c-title", next.Name)
	b.Do("click", "#b-start")
	b.Do("wait", "#outbox li.refused")
	why := b.Text("#outbox li.refused .why")
	var e struct{ Code string }
	// the same start by another operator's terminal: the server's code
	code, body := r.do("kiosk-stamping", "POST", "/scan", map[string]string{"token": r.token(next.ID), "action": "start", "station": "PR1"}, nil)
	json.Unmarshal(body, &e)
	var raw struct {
		Args struct{ Rule string } `json:"args"`
	}
	json.Unmarshal(body, &raw)
	key := "error." + e.Code
	if _, ok := tx[key+"."+raw.Args.Rule]; ok {
		key += "." + raw.Args.Rule
	}
	want := strings.SplitN(tx[key], "{", 2)[0]
	if code < 400 || code >= 500 || e.Code == "" || len(want) < 4 || !strings.Contains(why, want) {
		t.Errorf("the refusal says %q; the server answers %d %s, whose words begin %q", why, code, e.Code, want)
	}
	t.Logf("refused in words: %d %s: %q", code, e.Code, why)
	if got := r.operation(next.ID); got.Status != "pending" {
		t.Errorf("a refused start: the server has %s", got.Status)
	}
	b.Do("wait", "#c-state.refused")
	shot()
	b.Do("click", "#outbox li.refused button")
	b.Do("hidden", "#outbox")
}
