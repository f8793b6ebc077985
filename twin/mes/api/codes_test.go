package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Every error answer any test of this package gets through client (the
// rig's HTTP client) is checked against the catalogue of error codes as
// it comes off the wire: JSON with an error and a code, the code in the
// catalogue, the status the catalogue gives it, and the args its message
// needs. A violation fails the package's run (TestMain), naming the
// request and the answer.

// codeCheck is what the checks saw.
var codeCheck struct {
	mu         sync.Mutex
	violations []string
	seen       map[string]int
}

// checkedTransport checks the error answers of the API that pass it.
type checkedTransport struct{ base http.RoundTripper }

func (c checkedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 || !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return resp, nil // the test reads the same error
	}
	if v := checkAnswer(resp.StatusCode, resp.Header.Get("Content-Type"), b); v != "" {
		codeCheck.mu.Lock()
		codeCheck.violations = append(codeCheck.violations, fmt.Sprintf("%s %s → %d %s: %s", req.Method, req.URL.Path, resp.StatusCode, bytes.TrimSpace(b), v))
		codeCheck.mu.Unlock()
	}
	return resp, nil
}

// checkAnswer says what is wrong with an error answer ("": nothing).
func checkAnswer(status int, contentType string, body []byte) string {
	if !strings.HasPrefix(contentType, "application/json") {
		return "not JSON (Content-Type " + contentType + ")"
	}
	var e struct {
		Error string         `json:"error"`
		Code  string         `json:"code"`
		Args  map[string]any `json:"args"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return "not JSON: " + err.Error()
	}
	codeCheck.mu.Lock()
	codeCheck.seen[e.Code]++
	codeCheck.mu.Unlock()
	c, ok := codeOf[e.Code]
	switch {
	case e.Error == "":
		return "no error text"
	case e.Code == "":
		return "no code"
	case !ok:
		return "the code " + e.Code + " is not in the catalogue (errorCodes, errors.go)"
	case c.Status != status:
		return fmt.Sprintf("the catalogue gives %s the status %d", e.Code, c.Status)
	}
	for k := range e.Args {
		if !slices.Contains(c.Args, k) {
			return fmt.Sprintf("args.%s is not among the args the catalogue gives %s (%v)", k, e.Code, c.Args)
		}
	}
	for _, m := range placeholder.FindAllStringSubmatch(c.Message, -1) {
		if _, ok := e.Args[m[1]]; !ok {
			return fmt.Sprintf("the message of %s needs args.%s", e.Code, m[1])
		}
	}
	return ""
}

func TestMain(m *testing.M) {
	codeCheck.seen = map[string]int{}
	client.Transport = checkedTransport{client.Transport}
	code := m.Run()
	if len(codeCheck.violations) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d error answers of the tests break the catalogue of error codes:\n", len(codeCheck.violations))
		for _, v := range codeCheck.violations {
			fmt.Fprintln(os.Stderr, "  "+v)
		}
		code = 1
	}
	if testing.Verbose() {
		var unseen []string
		for _, c := range errorCodes {
			if codeCheck.seen[c.Code] == 0 {
				unseen = append(unseen, c.Code)
			}
		}
		sort.Strings(unseen)
		fmt.Printf("error codes seen in the answers: %d of %d; not seen: %s\n", len(errorCodes)-len(unseen), len(errorCodes), strings.Join(unseen, ", "))
	}
	os.Exit(code)
}

var snake = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestErrorCatalogue: every code is snake_case, has an HTTP error
// status, an English message whose {args} it declares, and says when it
// happens; the checker refuses what it must.
func TestErrorCatalogue(t *testing.T) {
	for _, c := range errorCodes {
		if !snake.MatchString(c.Code) || c.Status < 400 || c.Status > 599 || c.Message == "" || c.When == "" || http.StatusText(c.Status) == "" {
			t.Errorf("%+v: want a snake_case code, an error status, a message and when", c)
		}
		for _, m := range placeholder.FindAllStringSubmatch(c.Message, -1) {
			if !slices.Contains(c.Args, m[1]) {
				t.Errorf("%s: the message has {%s}, which is not among its args %v", c.Code, m[1], c.Args)
			}
		}
	}
	for _, c := range []struct {
		status int
		body   string
		want   string
	}{
		{404, `{"error": "x", "code": "not_found"}`, ""},
		{404, `{"error": "x"}`, "no code"},
		{409, `{"error": "x", "code": "not_found"}`, "status 404"},
		{400, `{"error": "x", "code": "no_such_code"}`, "not in the catalogue"},
		{400, `{"error": "x", "code": "too_long", "args": {"field": "customer"}}`, "needs args.max"},
		{400, `{"error": "x", "code": "too_long", "args": {"field": "f", "max": 3, "other": 1}}`, "args.other"},
	} {
		if got := checkAnswer(c.status, "application/json", []byte(c.body)); c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("%d %s: the check says %q, want %q", c.status, c.body, got, c.want)
		}
	}
}

// TestErrorsDoc keeps ERRORS.md's table the catalogue's.
func TestErrorsDoc(t *testing.T) {
	const begin, end = "<!-- errors:begin -->\n", "<!-- errors:end -->"
	b, err := os.ReadFile("ERRORS.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatal("ERRORS.md has no errors:begin/end markers")
	}
	want := ErrorsTable(errorCodes)
	if got := doc[i+len(begin) : j]; got != want {
		if *update {
			os.WriteFile("ERRORS.md", []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644)
			return
		}
		t.Fatal("ERRORS.md's table is not the catalogue's: run go test ./twin/mes/api -run TestErrorsDoc -update")
	}
}

// TestOpenAPIErrorCodes: the document's Error schema enumerates the
// catalogue's codes.
func TestOpenAPIErrorCodes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
				Required []string `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI(loadPlant(t)), &doc); err != nil {
		t.Fatal(err)
	}
	e := doc.Components.Schemas["Error"]
	var want []string
	for _, c := range errorCodes {
		want = append(want, c.Code)
	}
	got := e.Properties["code"].Enum
	if !slices.Equal(got, want) || !slices.Contains(e.Required, "code") {
		t.Fatalf("the Error schema's code: enum %v, required %v; want the catalogue's %v, required", got, e.Required, want)
	}
}

// TestErrorAnswers: the answers a client meets most carry their codes
// and the args their messages need: the body's faults, a path or a method
// the API does not have, an operation out of sequence.
func TestErrorAnswers(t *testing.T) {
	r := newRig(t, t.TempDir())
	r.users()
	order := func(extra string) string {
		return `{"id": "PO-1", "customer": "c", "product": "YE3-100L-4", "quantity": 2, "due": "2026-03-09T16:00"` + extra + `}`
	}
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		code                     string
		args                     map[string]any
	}{
		{"empty body", "POST", "/orders", "", 400, "invalid_json", map[string]any{"field": "body"}},
		{"not JSON", "POST", "/orders", "{id: 1}", 400, "invalid_json", nil},
		{"two values", "POST", "/orders", `{"id": "PO-1"} {}`, 400, "invalid_json", nil},
		{"unknown field", "POST", "/orders", order(`, "custmer": "x"`), 400, "unknown_field", map[string]any{"field": "custmer"}},
		{"wrong type", "POST", "/orders", `{"id": "PO-1", "quantity": "two"}`, 400, "invalid_type", map[string]any{"field": "quantity", "want": "int"}},
		{"not a time", "POST", "/orders", `{"id": "PO-1", "due": "next Tuesday"}`, 400, "invalid_time", map[string]any{"field": "due"}},
		{"too long", "POST", "/orders", `{"id": "PO-1", "customer": "` + strings.Repeat("长", 201) + `"}`, 400, "too_long", map[string]any{"field": "customer", "max": float64(200)}},
		{"too large", "POST", "/orders", `{"customer": "` + strings.Repeat("x", maxBody) + `"}`, 400, "body_too_large", map[string]any{"max": float64(maxBody)}},
		{"required", "POST", "/users", `{"roles": ["operator"]}`, 400, "required", map[string]any{"field": "name"}},
		{"a bad query", "GET", "/orders?limit=0", "", 400, "invalid_field", map[string]any{"field": "limit"}},
		{"no such path", "GET", "/nothing/here", "", 404, "no_route", map[string]any{"method": "GET", "path": "/api/v1/nothing/here"}},
		{"no such method", "PUT", "/orders", "", 405, "method_not_allowed", map[string]any{"method": "PUT", "path": "/api/v1/orders"}},
		{"no such record", "GET", "/orders/PO-404", "", 404, "not_found", nil},
		{"not signed in", "GET", "/orders", "", 401, "unauthorized", nil},
		{"another role's", "GET", "/users", "", 403, "role_required", map[string]any{"roles": "admin", "user": "u-planner", "user_roles": "planner"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := sendTo(t, r.srv.URL, c.method, c.path, nil, func(req *http.Request) {
				if c.body != "" {
					req.Body = io.NopCloser(strings.NewReader(c.body))
					req.ContentLength = int64(len(c.body))
				}
				switch c.name {
				case "not signed in":
				case "required":
					req.Header.Set("Authorization", "Bearer "+r.tok["admin"])
				default:
					req.Header.Set("Authorization", "Bearer "+r.tok["planner"])
				}
			})
			if a.status != c.status || a.err.Code != c.code {
				t.Fatalf("%d %.300s, want %d %s", a.status, a.body, c.status, c.code)
			}
			for k, v := range c.args {
				if a.err.Args[k] != v {
					t.Fatalf("args %v, want %s = %v", a.err.Args, k, v)
				}
			}
			if c.code == "method_not_allowed" && !strings.Contains(a.header.Get("Allow"), "GET") {
				t.Fatalf("Allow: %q, want the path's methods", a.header.Get("Allow"))
			}
		})
	}
	r.released("SO-21", 5)
	_, e, code := r.scanAs("operator", "SO-21-stator-wind", "start", nil, nil, "")
	want := map[string]any{"operation": "SO-21-stator-wind", "rule": "start_before_predecessor", "before": "SO-21-stator-stamp", "passed": float64(0)}
	for k, v := range want {
		if code != 409 || e.Code != "out_of_sequence" || e.Args[k] != v {
			t.Fatalf("a start out of sequence: %d %+v; want 409 out_of_sequence with args %v", code, e, want)
		}
	}
}
