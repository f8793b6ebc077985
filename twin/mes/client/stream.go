package client

import (
	"context"
	"io"
)

// Stream sends a request as Do does and returns the answer's body unread,
// for an answer too large to hold (a backup file); the caller closes it.
// An answer of 300 or more is an *Error, as Do's.
func (c *Client) Stream(ctx context.Context, method, path string, in any) (io.ReadCloser, error) {
	resp, path, err := c.send(ctx, method, path, in)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 300 {
		return resp.Body, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return nil, answerError(method, path, resp.StatusCode, body)
}
