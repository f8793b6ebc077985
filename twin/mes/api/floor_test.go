package api

import (
	"net/url"
	"strings"
	"testing"

	"twin/twin/mes"
)

// TestFloorInfo: GET /floor gives the floor's screens the plant's zone,
// locale, stations and reasons, to every role that works on the floor.
func TestFloorInfo(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	var f mes.FloorInfo
	r.must("operator", "GET", "/floor", nil, &f, 200)
	if f.Plant != "qijiang-motor" || f.Zone != "Asia/Shanghai" || f.Locale != "zh-CN" {
		t.Errorf("floor: plant %q zone %q locale %q", f.Plant, f.Zone, f.Locale)
	}
	if len(f.Stations) != len(r.p.Units) {
		t.Errorf("%d stations, want the plant's %d machines", len(f.Stations), len(r.p.Units))
	}
	w2 := false
	for _, s := range f.Stations {
		w2 = w2 || s.ID == "W2" && s.WorkCenter == "winding" && s.Path == "qijiang/stator/stator-line/winding/W2" && s.Line == "stator-line"
	}
	if !w2 {
		t.Errorf("W2 not listed with its work centre, path and line: %+v", f.Stations)
	}
	codes := map[string]string{}
	for _, d := range f.DowntimeReasons {
		codes[d.Code] = d.ZH + "/" + d.EN + "/" + d.Loss
	}
	if codes["material"] != "等料/Waiting for material/availability" || codes["changeover"] != "换型/Changeover/setup" || codes["no_operator"] == "" {
		t.Errorf("downtime reasons %v", codes)
	}
	if len(f.ScrapReasons) == 0 || f.ScrapReasons[0].Code != "winding_short" {
		t.Errorf("scrap reasons %+v", f.ScrapReasons)
	}
	for _, role := range []string{"supervisor", "planner", "maintenance", "quality", "manager"} {
		r.must(role, "GET", "/floor", nil, nil, 200)
	}
	r.must("", "GET", "/floor", nil, nil, 401)
}

// TestCardLookUp: GET /card says what a scanned card is, and what a scan
// would do next, as the operation moves on; text that is not a card, a
// forged card and a station's card are refused with their codes.
func TestCardLookUp(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	ops := r.released("PO-7", 4)
	var wind, stamp string
	for _, o := range ops {
		switch {
		case strings.HasSuffix(o, "-stator-wind"):
			wind = o
		case strings.HasSuffix(o, "-stator-stamp"):
			stamp = o
		}
	}
	card := func(op string) mes.CardView {
		t.Helper()
		var v mes.CardView
		r.must("operator", "GET", "/card?token="+url.QueryEscape(r.db.CardToken(op)), nil, &v, 200)
		return v
	}
	v := card(wind)
	if v.Operation.ID != wind || v.Order.ID != "PO-7" || v.Order.Customer != "c" || v.Order.Product != "YE3-100L-4" || v.Order.Quantity != 4 ||
		v.WorkOrder != "PO-7-stator" || v.Next != "start" || v.Available != 0 || v.Remaining != 0 {
		t.Errorf("wind's card before anything ran: %+v", v)
	}
	if v.Instructions == nil || !strings.Contains(v.Instructions.ZH, "匝数") || !strings.Contains(v.Instructions.EN, "turns") {
		t.Errorf("wind's instructions %+v", v.Instructions)
	}
	if len(v.ScrapReasons) != 3 || v.ScrapReasons[0].Code != "winding_short" {
		t.Errorf("wind offers the scrap reasons %+v, want the three its routing names", v.ScrapReasons)
	}
	if len(v.Stations) < 2 || v.Station != "" {
		t.Errorf("wind runs on %v (station %q): the operator picks one", v.Stations, v.Station)
	}
	if s := card(stamp); s.Next != "start" || s.Available != 4 || s.Station == "" {
		t.Errorf("stamp, the first operation: %+v", s)
	}
	four := 4
	r.ok(stamp, "start", nil, nil)
	r.ok(stamp, "confirm", &four, nil)
	if s := card(stamp); s.Next != "done" || s.Confirmed.Good != 4 || s.Remaining != 0 {
		t.Errorf("stamp confirmed: %+v", s)
	}
	r.ok(wind, "start", nil, nil)
	if v := card(wind); v.Next != "confirm" || v.Available != 4 || v.Remaining != 4 || !strings.HasSuffix(v.Station, "/"+opStation(wind)) {
		t.Errorf("wind started after stamp passed on 4: %+v", v)
	}
	// what is not a card
	tok := r.db.CardToken(wind)
	forged := tok[:len(tok)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(tok, "AA")]
	for _, c := range []struct {
		name, token string
		status      int
		code        string
	}{
		{"forged", forged, 404, mes.CodeCardUnknown},
		{"garbage", "hello", 400, mes.CodeCardInvalid},
		{"station card", "twin:station:W2", 400, mes.CodeCardInvalid},
		{"empty", "", 400, mes.CodeCardInvalid},
		{"bad base64", "v1.@@@.xyz", 400, mes.CodeCardInvalid},
	} {
		var e apiError
		if got := r.do("operator", "GET", "/card?token="+url.QueryEscape(c.token), nil, &e); got != c.status {
			t.Errorf("%s: status %d (%+v), want %d", c.name, got, e, c.status)
		}
		if _, err := r.db.LookUpCard(c.token); !hasCode(err, c.code) {
			t.Errorf("%s: %v, want the code %s", c.name, err, c.code)
		}
	}
	r.must("quality", "GET", "/card?token="+url.QueryEscape(tok), nil, nil, 403)
	r.must("planner", "GET", "/card?token="+url.QueryEscape(tok), nil, nil, 200)
}

// hasCode says whether err carries the stable code.
func hasCode(err error, code string) bool {
	var c interface{ Code() string }
	for e := err; e != nil; {
		if x, ok := e.(interface{ Code() string }); ok {
			c = x
			break
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	return c != nil && c.Code() == code
}
