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
	"strings"

	"twin/twin/tlsconf"
)

// Stream sends a request as Do does and returns the answer's body unread,
// for an answer too large to hold (a backup file); the caller closes it.
// An answer of 300 or more is an *Error, as Do's.
func (c *Client) Stream(ctx context.Context, method, path string, in any) (io.ReadCloser, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("%s %s: encoding the request: %w", method, path, err)
	}
	if !strings.HasPrefix(path, "/api/") {
		path = "/api/v1" + path
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if te := tlsconf.Explain(err, c.server, c.ca); te != err {
			return nil, te
		}
		return nil, &UnreachableError{Server: c.server, Err: err}
	}
	if resp.StatusCode < 300 {
		return resp.Body, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	e := &Error{Method: method, Path: path, Status: resp.StatusCode, Body: body}
	var doc struct{ Error, Field, Code string }
	if json.Unmarshal(body, &doc) == nil {
		e.Message, e.Field, e.Code = doc.Error, doc.Field, doc.Code
	}
	return nil, e
}
