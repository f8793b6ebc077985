// Package client talks to the records API (twin/mes/api) of a running
// twin over HTTP: typed calls for what the command line does with it,
// and Do for any endpoint. Times in requests go as the caller wrote them
// (the server reads a time without an offset as plant time); times in
// answers carry the plant's offset, and Zone names the plant's zone.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"twin/twin/forecast"
	"twin/twin/mes"
	"twin/twin/mes/api"
	"twin/twin/tlsconf"
)

// Client is a client of one twin's records API.
type Client struct {
	server, token string
	http          *http.Client
	ca            string // the CA file trusted, if any

	mu   sync.Mutex
	zone string // the plant's time zone, as the last answer named it
}

// New returns a client of the twin at server ("https://127.0.0.1:8080"),
// authenticated with an API token ("" for public endpoints only).
func New(server, token string) *Client {
	return &Client{server: strings.TrimRight(server, "/"), token: token, http: http.DefaultClient}
}

// TrustCA makes the client trust the CA certificates in file (PEM; a
// twin's own local CA is DATA/tls/ca.pem) besides this machine's roots,
// for a twin on HTTPS with a certificate it made. A certificate the
// client does not trust fails its calls with a *tlsconf.TrustError,
// which says what to give.
func (c *Client) TrustCA(file string) error {
	cfg, err := tlsconf.ClientConfig(file)
	if err != nil {
		return err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	c.http = &http.Client{Transport: t}
	c.ca = file
	return nil
}

// Server is the twin's address.
func (c *Client) Server() string { return c.server }

// HasToken says whether the client sends a token.
func (c *Client) HasToken() bool { return c.token != "" }

// Error is an answer of the API that is not a success: its status, and
// the error, field and code of its body (api's error document).
type Error struct {
	Method, Path string
	Status       int
	Message      string // the body's "error"; "" when the body is not the API's
	Field        string
	Code         string // "out_of_sequence", …
	Body         []byte
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s %s: %s: %s", e.Method, e.Path, http.StatusText(e.Status), bytes.TrimSpace(e.Body))
	}
	return fmt.Sprintf("%s %s: %s", e.Method, e.Path, e.Message)
}

// NotAPI says the server answered, but not as the records API does (a
// web view without records: twin replay, twin play).
func (e *Error) NotAPI() bool { return e.Message == "" && e.Status == http.StatusNotFound }

// UnreachableError is a twin that does not answer.
type UnreachableError struct {
	Server string
	Err    error
}

func (e *UnreachableError) Error() string {
	return "no twin answers at " + e.Server + ": " + e.Err.Error()
}
func (e *UnreachableError) Unwrap() error { return e.Err }

// Do sends a request (in, if not nil, as its JSON body) to path ("/orders"
// or "/api/v1/orders") and decodes a JSON answer into out, if not nil. It
// returns the answer's body.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) ([]byte, error) {
	resp, path, err := c.send(ctx, method, path, in)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode == http.StatusBadRequest && bytes.Contains(b, []byte("HTTP request to an HTTPS server")) {
		return b, fmt.Errorf("%s %s: %s serves HTTPS: use %s (--server or $TWIN_SERVER)", method, path, c.server, "https://"+strings.TrimPrefix(c.server, "http://"))
	}
	if resp.StatusCode >= 300 {
		return b, answerError(method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return b, fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
		}
	}
	return b, nil
}

// send sends a request (in, if not nil, as its JSON body) to path ("/orders"
// or "/api/v1/orders") and returns the answer, its body unread, and the
// path as sent. A twin it cannot reach is an *UnreachableError, one that
// answers on TLS this client does not trust a *tlsconf.TrustError. It
// notes the plant's zone from the answer.
func (c *Client) send(ctx context.Context, method, path string, in any) (*http.Response, string, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, path, fmt.Errorf("%s %s: encoding the request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	if !strings.HasPrefix(path, "/api/") {
		path = "/api/v1" + path
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, body)
	if err != nil {
		return nil, path, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, path, err
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if te := tlsconf.Explain(err, c.server, c.ca); te != err {
			return nil, path, te // it answers, on TLS that does not match
		}
		return nil, path, &UnreachableError{Server: c.server, Err: err}
	}
	if z := resp.Header.Get(api.ZoneHeader); z != "" {
		c.mu.Lock()
		c.zone = z
		c.mu.Unlock()
	}
	return resp, path, nil
}

// answerError is the *Error of an answer of 300 or more with body b.
func answerError(method, path string, status int, b []byte) *Error {
	e := &Error{Method: method, Path: path, Status: status, Body: b}
	var doc struct{ Error, Field, Code string }
	if json.Unmarshal(b, &doc) == nil {
		e.Message, e.Field, e.Code = doc.Error, doc.Field, doc.Code
	}
	return e
}

// Zone is the plant's time zone as the server named it, or nil before
// its first answer (or when this machine has no such zone).
func (c *Client) Zone() *time.Location {
	c.mu.Lock()
	z := c.zone
	c.mu.Unlock()
	if z == "" {
		return nil
	}
	loc, err := time.LoadLocation(z)
	if err != nil {
		return nil
	}
	return loc
}

// Orders lists the orders, of a status or all, up to 1,000.
func (c *Client) Orders(ctx context.Context, status string) ([]mes.Order, error) {
	q := "/orders?limit=1000"
	if status != "" {
		q += "&status=" + url.QueryEscape(status)
	}
	var p mes.Page[mes.Order]
	_, err := c.Do(ctx, "GET", q, nil, &p)
	return p.Items, err
}

// NewOrder is an order to enter, its due time as written: RFC 3339, or
// plant time without an offset.
type NewOrder struct {
	ID       string `json:"id,omitempty"`
	Customer string `json:"customer"`
	Priority int    `json:"priority"`
	Product  string `json:"product"`
	Quantity int    `json:"quantity"`
	Due      string `json:"due"`
}

// CreateOrder enters an order.
func (c *Client) CreateOrder(ctx context.Context, o NewOrder) (*mes.Order, error) {
	out := new(mes.Order)
	_, err := c.Do(ctx, "POST", "/orders", o, out)
	return out, err
}

// Order reads one order.
func (c *Client) Order(ctx context.Context, id string) (*mes.Order, error) {
	out := new(mes.Order)
	_, err := c.Do(ctx, "GET", "/orders/"+url.PathEscape(id), nil, out)
	return out, err
}

// ReleaseOrder releases an order to the floor.
func (c *Client) ReleaseOrder(ctx context.Context, id string) (*mes.Order, error) {
	return c.orderVerb(ctx, id, "release", nil)
}

// CancelOrder cancels an order not started.
func (c *Client) CancelOrder(ctx context.Context, id string) (*mes.Order, error) {
	return c.orderVerb(ctx, id, "cancel", nil)
}

// CloseOrder closes an order short.
func (c *Client) CloseOrder(ctx context.Context, id, reason string) (*mes.Order, error) {
	return c.orderVerb(ctx, id, "close", mes.CloseRequest{Reason: reason})
}

func (c *Client) orderVerb(ctx context.Context, id, verb string, in any) (*mes.Order, error) {
	out := new(mes.Order)
	_, err := c.Do(ctx, "POST", "/orders/"+url.PathEscape(id)+"/"+verb, in, out)
	return out, err
}

// MakeUp releases a make-up work order for an order's scrap.
func (c *Client) MakeUp(ctx context.Context, id string, r mes.MakeUpRequest) (*mes.MakeUp, error) {
	out := new(mes.MakeUp)
	_, err := c.Do(ctx, "POST", "/orders/"+url.PathEscape(id)+"/makeup", r, out)
	return out, err
}

// Records reads every record of an order.
func (c *Client) Records(ctx context.Context, id string) (*mes.OrderRecords, error) {
	out := new(mes.OrderRecords)
	_, err := c.Do(ctx, "GET", "/orders/"+url.PathEscape(id)+"/records", nil, out)
	return out, err
}

// Scan scans a card.
func (c *Client) Scan(ctx context.Context, s mes.Scan) (*mes.ScanResult, error) {
	out := new(mes.ScanResult)
	_, err := c.Do(ctx, "POST", "/scan", s, out)
	return out, err
}

// Forecast asks the twin to forecast its open orders; zero options are
// the server's defaults.
func (c *Client) Forecast(ctx context.Context, horizon time.Duration, replications int) (*forecast.Result, error) {
	q := url.Values{}
	if horizon > 0 {
		q.Set("horizon", horizon.String())
	}
	if replications > 0 {
		q.Set("replications", strconv.Itoa(replications))
	}
	path := "/forecast"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	out := new(forecast.Result)
	_, err := c.Do(ctx, "GET", path, nil, out)
	return out, err
}

// Travellers returns work order wo's job travellers (流转卡) to print:
// format "pdf" or "html", size "a4" (eight cards a sheet) or "label" (one
// 100×70 mm card a page). It checks that the answer is what was asked.
func (c *Client) Travellers(ctx context.Context, wo, format, size string) ([]byte, error) {
	path := "/work-orders/" + url.PathEscape(wo) + "/travellers." + format + "?size=" + url.QueryEscape(size)
	b, err := c.Do(ctx, "GET", path, nil, nil)
	if err != nil {
		return nil, err
	}
	magic := map[string]string{"pdf": "%PDF-", "html": "<!DOCTYPE html>"}[format]
	if magic == "" || !bytes.HasPrefix(b, []byte(magic)) {
		return nil, fmt.Errorf("GET /api/v1%s: %s answered, but not with %s (%.40q…): is it a twin older than its travellers?", path, c.server, strings.ToUpper(format), b)
	}
	return b, nil
}
