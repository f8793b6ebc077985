package yamldec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Parse parses the first YAML document of src into a node tree; a syntax
// error is located in file (yaml.v3's "line 3: …"), its message after
// prefix. An empty src gives a nil node and no error; a panic of the YAML
// parser is an error at line 1.
func Parse(file string, src []byte, prefix string) (doc *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, Errors{{File: file, Line: 1, Column: 1, Msg: fmt.Sprintf("cannot parse YAML: %v", r)}}
		}
	}()
	var n yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(src)).Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, SyntaxError(file, err, prefix)
	}
	return &n, nil
}

// SyntaxError turns a yaml.v3 syntax error ("yaml: line 3: …") into a
// located one, its message after prefix.
func SyntaxError(file string, err error, prefix string) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return Errors{{File: file, Line: line, Column: 1, Msg: prefix + msg}}
}

// Deref follows aliases (at most 100).
func Deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// Root returns the top node of a document.
func Root(doc *yaml.Node) *yaml.Node {
	if doc != nil && doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		return Deref(doc.Content[0])
	}
	return Deref(doc)
}

// KindName says what a node is, for "want …, got …" messages.
func KindName(n *yaml.Node) string {
	n = Deref(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// Join appends key to a dotted field path.
func Join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// MapGet returns the value of key k in mapping m, and the index in
// m.Content of the key, or -1.
func MapGet(m *yaml.Node, k string) (*yaml.Node, int) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, -1
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if key := Deref(m.Content[i]); key != nil && key.Kind == yaml.ScalarNode && key.Value == k {
			return m.Content[i+1], i
		}
	}
	return nil, -1
}

// Pairs returns a mapping's key/value pairs, merge keys (<<) resolved:
// the mapping's own keys win over merged ones.
func Pairs(n *yaml.Node) [][2]*yaml.Node {
	var own, merged [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if dk := Deref(k); dk != nil && dk.Value == "<<" && dk.Tag == "!!merge" {
			vs := []*yaml.Node{v}
			if dv := Deref(v); dv != nil && dv.Kind == yaml.SequenceNode {
				vs = dv.Content
			}
			for _, m := range vs {
				if m = Deref(m); m != nil && m.Kind == yaml.MappingNode {
					merged = append(merged, Pairs(m)...)
				}
			}
			continue
		}
		own = append(own, [2]*yaml.Node{k, v})
	}
	has := map[string]bool{}
	for _, kv := range own {
		has[Deref(kv[0]).Value] = true
	}
	for _, kv := range merged {
		if k := Deref(kv[0]).Value; !has[k] {
			has[k] = true
			own = append(own, kv)
		}
	}
	return own
}

// IDOf returns the id (or name) of a list element that is a mapping with
// one, else its index: the element's segment in field paths.
func IDOf(n *yaml.Node, i int) string {
	n = Deref(n)
	if n != nil && n.Kind == yaml.MappingNode {
		for _, kv := range Pairs(n) {
			k, v := Deref(kv[0]), Deref(kv[1])
			if (k.Value == "id" || k.Value == "name") && v != nil && v.Kind == yaml.ScalarNode && v.Value != "" {
				return v.Value
			}
		}
	}
	return strconv.Itoa(i)
}

// Suggest returns the known key nearest to key, if it is near (an edit
// distance under 3).
func Suggest(key string, known []string) string {
	best, bd := "", 3
	for _, k := range known {
		if dist := editDistance(key, k); dist < bd {
			best, bd = k, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
