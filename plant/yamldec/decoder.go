package yamldec

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxErrors bounds the errors one file collects.
const MaxErrors = 1000

// Decoder collects the errors of one file. Its methods read a value, or
// report what was expected and return the zero value, so that a decoder
// reads on and reports every problem of the file.
type Decoder struct {
	File string
	Errs Errors
}

// Errorf reports a problem with node n (its line and column; line 1 when
// n is nil) at field.
func (d *Decoder) Errorf(n *yaml.Node, field, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	if len(d.Errs) >= MaxErrors {
		return
	}
	d.Errs = append(d.Errs, &FieldError{File: d.File, Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Mapping says which keys a mapping takes and how it is read.
type Mapping struct {
	// Keys lists the keys it takes: another key is reported with the
	// nearest known one and the list, a repeated one as appearing twice.
	// Without Keys, the callback tells which keys it knows, and unknown
	// and repeated keys get short messages.
	Keys []string
	// Merge resolves merge keys (<<: *defaults); without it they are
	// refused.
	Merge bool
	// Optional takes nothing (null) for an empty mapping.
	Optional bool
}

// Fields walks the mapping n at field, calling fn with each key and its
// value; fn returns false for a key it does not know (with Keys, fn is
// called for known keys only). It reports false when n is not a mapping.
func (d *Decoder) Fields(n *yaml.Node, field string, m Mapping, fn func(key string, k, v *yaml.Node) bool) bool {
	n = Deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		null := n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null"
		switch {
		case null && m.Optional:
		case m.Keys != nil:
			d.Errorf(n, field, "want a mapping (%s), got %s", strings.Join(m.Keys, ", "), KindName(n))
		default:
			d.Errorf(n, field, "want a mapping, got %s", KindName(n))
		}
		return false
	}
	var kvs [][2]*yaml.Node
	if m.Merge {
		kvs = Pairs(n)
	} else {
		for i := 0; i+1 < len(n.Content); i += 2 {
			kvs = append(kvs, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
		}
	}
	seen := map[string]bool{}
	for _, kv := range kvs {
		k, v := Deref(kv[0]), kv[1]
		if !m.Merge {
			if k == nil || k.Kind != yaml.ScalarNode {
				d.Errorf(k, field, "want a plain key, got %s", KindName(k))
				continue
			}
			if k.Value == "<<" {
				d.Errorf(k, field, "merge keys (<<) are not supported here")
				continue
			}
		}
		key := k.Value
		if seen[key] {
			if m.Keys != nil {
				d.Errorf(k, Join(field, key), "key %q appears twice", key)
			} else {
				d.Errorf(k, Join(field, key), "repeated key")
			}
			continue
		}
		seen[key] = true
		if m.Keys != nil && !contains(m.Keys, key) {
			msg := fmt.Sprintf("unknown key %q", key)
			if s := Suggest(key, m.Keys); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.Errorf(k, Join(field, key), "%s; known: %s", msg, strings.Join(m.Keys, ", "))
			continue
		}
		if !fn(key, k, v) && m.Keys == nil {
			d.Errorf(k, Join(field, key), "unknown key")
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Scalar returns a scalar's text, or reports that want was expected.
func (d *Decoder) Scalar(n *yaml.Node, field, want string) (string, bool) {
	n = Deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.Errorf(n, field, "want %s, got %s", want, KindName(n))
		return "", false
	}
	return n.Value, true
}

// Str reads a string.
func (d *Decoder) Str(n *yaml.Node, field string) string {
	s, _ := d.Scalar(n, field, "a string")
	return s
}

// Int reads a whole number from lo to hi ("1_000" allowed), want naming
// it in messages ("a whole number", "an integer").
func (d *Decoder) Int(n *yaml.Node, field, want string, lo, hi int) int {
	s, ok := d.Scalar(n, field, want)
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || v < lo || v > hi {
		d.Errorf(n, field, "want %s from %d to %d, got %q", want, lo, hi, s)
		return 0
	}
	return v
}

// Number reads a finite number ("1_000.5" allowed).
func (d *Decoder) Number(n *yaml.Node, field string) float64 {
	s, ok := d.Scalar(n, field, "a number")
	if !ok {
		return 0
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil || v != v || v > 1e300 || v < -1e300 {
		d.Errorf(n, field, "want a number, got %q", s)
		return 0
	}
	return v
}

// Boolean reads true or false (also yes, no, on, off).
func (d *Decoder) Boolean(n *yaml.Node, field string) bool {
	s, ok := d.Scalar(n, field, "true or false")
	if !ok {
		return false
	}
	switch s {
	case "true", "yes", "on":
		return true
	case "false", "no", "off":
		return false
	}
	d.Errorf(n, field, "want true or false, got %q", s)
	return false
}

// List returns a list's elements; nothing (null) is an empty list when
// optional, an error otherwise.
func (d *Decoder) List(n *yaml.Node, field string, optional bool) []*yaml.Node {
	n = Deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		if optional && n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		d.Errorf(n, field, "want a list, got %s", KindName(n))
		return nil
	}
	return n.Content
}

// Strs reads a list of strings, or one string as a list of one, with
// their nodes.
func (d *Decoder) Strs(n *yaml.Node, field string) ([]string, []*yaml.Node) {
	dn := Deref(n)
	if dn != nil && dn.Kind == yaml.ScalarNode && dn.Tag != "!!null" {
		return []string{dn.Value}, []*yaml.Node{dn}
	}
	var out []string
	var nodes []*yaml.Node
	for i, e := range d.List(n, field, false) {
		if s, ok := d.Scalar(e, fmt.Sprintf("%s[%d]", field, i), "a string"); ok {
			out = append(out, s)
			nodes = append(nodes, Deref(e))
		}
	}
	return out, nodes
}
