package client

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"twin/plant"
	"twin/twin/mes"
	"twin/twin/mes/api"
)

// server is a records API over real TCP, and a planner's and an
// operator's token.
func server(t *testing.T) (srv *httptest.Server, db *mes.DB, planner, operator string) {
	p, err := plant.Load("../../../testdata/plants/motor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 20, 8, 0, 0, 0, p.Location)
	hash := mes.HashPassword("ten chars at least")
	db, err = mes.Open(t.TempDir(), mes.Options{Plant: p, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		HashPassword: func(string) string { return hash }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tok := map[string]string{}
	for _, role := range []string{mes.RolePlanner, mes.RoleOperator} {
		if _, err := db.CreateUser("setup", mes.NewUser{Name: role, Roles: []string{role}, Password: "ten chars at least"}); err != nil {
			t.Fatal(err)
		}
		is, err := db.IssueToken("setup", role, mes.NewToken{Label: "test"})
		if err != nil {
			t.Fatal(err)
		}
		tok[role] = is.Token
	}
	srv = httptest.NewServer(api.New(db, nil))
	t.Cleanup(srv.Close)
	return srv, db, tok[mes.RolePlanner], tok[mes.RoleOperator]
}

// TestClient: an order entered, released and read through the client
// as the command line does, its due time in plant time; the API's
// refusals come back as Errors a caller tells apart.
func TestClient(t *testing.T) {
	srv, db, planner, operator := server(t)
	ctx := context.Background()
	c := New(srv.URL+"/", planner)
	if c.Zone() != nil {
		t.Error("a zone before any answer")
	}
	o, err := c.CreateOrder(ctx, NewOrder{ID: "PO-1", Customer: "Chongqing Pumps", Product: "YE3-100L-4", Quantity: 4, Due: "2026-03-20T16:00"})
	if err != nil {
		t.Fatal(err)
	}
	if z := c.Zone(); z == nil || z.String() != "Asia/Shanghai" {
		t.Errorf("zone %v, want Asia/Shanghai", z)
	}
	if want := time.Date(2026, 3, 20, 16, 0, 0, 0, db.Plant().Location); !o.Due.Equal(want) {
		t.Errorf("due %v, want %v (plant time)", o.Due, want)
	}
	if _, off := o.Due.Zone(); off != 8*3600 {
		t.Errorf("due %v does not carry the plant's offset", o.Due)
	}
	if o, err = c.ReleaseOrder(ctx, "PO-1"); err != nil || o.Status != mes.StatusReleased {
		t.Fatalf("release: %v %+v", err, o)
	}
	rs, err := c.Records(ctx, "PO-1")
	if err != nil || len(rs.Operations) == 0 {
		t.Fatalf("records: %v %+v", err, rs)
	}
	os, err := c.Orders(ctx, mes.StatusReleased)
	if err != nil || len(os) != 1 || os[0].ID != "PO-1" {
		t.Fatalf("orders: %v %+v", err, os)
	}

	var ae *Error
	if _, err := c.Order(ctx, "PO-404"); !errors.As(err, &ae) || ae.Status != http.StatusNotFound || !strings.Contains(ae.Message, "not found") || ae.NotAPI() {
		t.Errorf("a missing order: %v", err)
	}
	if _, err := New(srv.URL, "").Orders(ctx, ""); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Errorf("no token: %v", err)
	}
	if _, err := c.CreateOrder(ctx, NewOrder{Customer: "x", Product: "YE3-100L-4", Quantity: 1, Due: "soon"}); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Field != "due" {
		t.Errorf("a bad due: %v", err)
	}
	// the last operation's card before its predecessors ran
	last := rs.Operations[len(rs.Operations)-1].ID
	_, err = New(srv.URL, operator).Scan(ctx, mes.Scan{Token: db.CardToken(last), Station: "PK1"})
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict || ae.Code != "out_of_sequence" {
		t.Errorf("an out-of-sequence scan: %v", err)
	}

	// a peer that hangs up on every connection
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hungUp := make(chan struct{})
	defer func() { l.Close(); <-hungUp }()
	go func() {
		defer close(hungUp)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := l.Addr().String()
	var ue *UnreachableError
	if _, err := New("http://"+addr, planner).Orders(ctx, ""); !errors.As(err, &ue) || ue.Server != "http://"+addr {
		t.Errorf("nobody there: %v", err)
	}
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	if _, err := New(plain.URL, planner).Orders(ctx, ""); !errors.As(err, &ae) || !ae.NotAPI() {
		t.Errorf("a server without the API: %v", err)
	}
}
