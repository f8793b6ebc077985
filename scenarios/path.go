package scenarios

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"twin/plant/yamldec"
)

// An override path addresses one value of a plant document: segments
// separated by dots. A segment is a mapping key, or picks an element of a
// list by its id, then its name, then its index from 0
// ("workcenters.winding.buffer", "energy.tariff.periods.valley.price",
// "calendars.two-shift.shifts.0.end"). A segment in brackets may hold dots:
// "units[W2.b].power.busy". When the first segment is not a key of the
// document, it names a kind of thing wherever it sits in the tree: "units.W2"
// is the element with id W2 of the one list called units that has one.

// parsePath splits an override path into segments.
func parsePath(s string) ([]string, error) {
	if s == "" {
		return nil, fmt.Errorf("empty path")
	}
	var segs []string
	i := 0
	for i < len(s) {
		switch s[i] {
		case '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("path %q: no ] after [", s)
			}
			seg := s[i+1 : i+j]
			if seg == "" {
				return nil, fmt.Errorf("path %q: empty []", s)
			}
			segs = append(segs, seg)
			i += j + 1
			if i < len(s) && s[i] != '.' && s[i] != '[' {
				return nil, fmt.Errorf("path %q: want . or [ after ]", s)
			}
			if i < len(s) && s[i] == '.' {
				i++
				if i == len(s) {
					return nil, fmt.Errorf("path %q: ends with .", s)
				}
			}
		default:
			j := strings.IndexAny(s[i:], ".[")
			if j < 0 {
				j = len(s) - i
			}
			seg := s[i : i+j]
			if seg == "" {
				return nil, fmt.Errorf("path %q: empty segment", s)
			}
			if strings.ContainsRune(seg, ']') {
				return nil, fmt.Errorf("path %q: ] without [", s)
			}
			segs = append(segs, seg)
			i += j
			if i < len(s) && s[i] == '.' {
				i++
				if i == len(s) {
					return nil, fmt.Errorf("path %q: ends with .", s)
				}
			}
		}
	}
	return segs, nil
}

// maxCopy bounds the nodes one override may copy, so that aliases nested
// in aliases (a "billion laughs") cannot blow up memory.
const maxCopy = 1 << 20

// copyNode returns a deep copy of n. Aliases stay aliases, pointing at the
// copies of their anchors when those are inside n: a copied document keeps
// its shape and its size.
func copyNode(n *yaml.Node) *yaml.Node {
	seen := map[*yaml.Node]*yaml.Node{}
	var cp func(*yaml.Node) *yaml.Node
	cp = func(n *yaml.Node) *yaml.Node {
		if n == nil {
			return nil
		}
		if c, ok := seen[n]; ok {
			return c
		}
		c := *n
		seen[n] = &c
		if n.Content != nil {
			c.Content = make([]*yaml.Node, len(n.Content))
			for i, k := range n.Content {
				c.Content[i] = cp(k)
			}
		}
		return &c
	}
	c := cp(n)
	// Aliases to anchors inside n point at the copies; others keep their
	// target, which is shared read-only.
	for _, c := range seen {
		if c.Kind == yaml.AliasNode {
			if t, ok := seen[c.Alias]; ok {
				c.Alias = t
			}
		}
	}
	return c
}

// expand returns a copy of n with every alias replaced by a copy of its
// target and every line moved by shift: an override value ready to be
// spliced into a plant document. It fails past maxCopy nodes.
func expand(n *yaml.Node, shift int) (*yaml.Node, error) {
	count := 0
	var cp func(n *yaml.Node, depth int) (*yaml.Node, error)
	cp = func(n *yaml.Node, depth int) (*yaml.Node, error) {
		count++
		if count > maxCopy || depth > 1000 {
			return nil, fmt.Errorf("value too large (aliases nest too deep)")
		}
		pos := n
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
			depth++
			if depth > 1000 {
				return nil, fmt.Errorf("aliases nest too deep")
			}
		}
		c := *n
		c.Anchor, c.Alias = "", nil
		c.Line, c.Column = pos.Line+shift, pos.Column
		if n.Content != nil {
			c.Content = make([]*yaml.Node, len(n.Content))
			for i, k := range n.Content {
				var err error
				if c.Content[i], err = cp(k, depth+1); err != nil {
					return nil, err
				}
			}
		}
		return &c, nil
	}
	return cp(n, 0)
}

// pick returns the index in list s of the element seg names: by id, then
// by name, then by index; -1 if none.
func pick(s *yaml.Node, seg string) int {
	for _, field := range []string{"id", "name"} {
		for i, e := range s.Content {
			if v, _ := yamldec.MapGet(yamldec.Deref(e), field); v != nil {
				if v = yamldec.Deref(v); v.Kind == yaml.ScalarNode && v.Value == seg {
					return i
				}
			}
		}
	}
	if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(s.Content) && seg == strconv.Itoa(i) {
		return i
	}
	return -1
}

// names lists the ids (or names, or keys) a node offers, for error
// messages.
func names(n *yaml.Node) string {
	var out []string
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, yamldec.Deref(n.Content[i]).Value)
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			s := strconv.Itoa(i)
			for _, f := range []string{"id", "name"} {
				if v, _ := yamldec.MapGet(yamldec.Deref(e), f); v != nil && yamldec.Deref(v).Kind == yaml.ScalarNode {
					s = yamldec.Deref(v).Value
					break
				}
			}
			out = append(out, s)
		}
	}
	if len(out) > 12 {
		out = append(out[:12], "…")
	}
	if len(out) == 0 {
		return "it is empty"
	}
	return "have " + strings.Join(out, ", ")
}

// slot is a place in the tree that holds a node: element i of parent's
// Content.
type slot struct {
	parent *yaml.Node
	i      int
}

func (s slot) get() *yaml.Node { return s.parent.Content[s.i] }

// own makes the node in slot s a private copy if it is an alias, so that
// changing it changes this place only, and returns it.
func (s slot) own() *yaml.Node {
	n := s.get()
	if n.Kind == yaml.AliasNode {
		t := yamldec.Deref(n)
		if t == nil {
			return n
		}
		c := copyNode(t)
		c.Anchor = ""
		s.parent.Content[s.i] = c
		return c
	}
	return n
}

// find returns the slots of every child of a key named kind, anywhere
// under n, that seg picks: the kind-and-id lookup of the first segment.
func find(n *yaml.Node, kind, seg string) []slot {
	var out []slot
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || n.Kind == yaml.AliasNode || seen[n] {
			return // aliased subtrees are found where they are defined
		}
		seen[n] = true
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := yamldec.Deref(n.Content[i]), yamldec.Deref(n.Content[i+1])
				if k != nil && k.Value == kind && v != nil {
					switch v.Kind {
					case yaml.SequenceNode:
						if j := pick(v, seg); j >= 0 {
							out = append(out, slot{v, j})
						}
					case yaml.MappingNode:
						if _, j := yamldec.MapGet(v, seg); j >= 0 {
							out = append(out, slot{v, j + 1})
						}
					}
				}
				walk(n.Content[i+1])
			}
		case yaml.SequenceNode, yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c)
			}
		}
	}
	walk(n)
	return out
}

// set puts value at path in the document doc (changing doc) and reports
// what went wrong. key is the position to give a key the override adds.
func set(doc *yaml.Node, path []string, value *yaml.Node, keyLine, keyColumn int) error {
	top := slot{doc, 0}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return fmt.Errorf("the plant document is empty")
	}
	cur := top
	segs := path
	replace := value.Tag == replaceTag
	if replace {
		value.Tag = ""
	}
	if n := top.own(); n.Kind == yaml.MappingNode && len(segs) >= 2 {
		if _, i := yamldec.MapGet(n, segs[0]); i < 0 {
			found := find(n, segs[0], segs[1])
			switch len(found) {
			case 0:
				return fmt.Errorf("no %s %q in the plant", segs[0], segs[1])
			case 1:
				cur, segs = found[0], segs[2:]
			default:
				return fmt.Errorf("%d lists of %s hold %q; write the full path", len(found), segs[0], segs[1])
			}
		}
	}
	where := strings.Join(path[:len(path)-len(segs)], ".")
	for k, seg := range segs {
		n := cur.own()
		last := k == len(segs)-1
		switch n.Kind {
		case yaml.MappingNode:
			_, i := yamldec.MapGet(n, seg)
			if i < 0 {
				if !last {
					return fmt.Errorf("%s has no %q (%s); set %s as a whole", at(where), seg, names(n), strings.Join(path[:len(path)-len(segs)+k+1], "."))
				}
				key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: seg, Line: keyLine, Column: keyColumn}
				n.Content = append(n.Content, key, value)
				return nil
			}
			cur = slot{n, i + 1}
		case yaml.SequenceNode:
			i := pick(n, seg)
			if i < 0 {
				return fmt.Errorf("%s has no element %q (%s)", at(where), seg, names(n))
			}
			cur = slot{n, i}
		default:
			return fmt.Errorf("%s is a value, not a mapping or a list: no %q in it", at(where), seg)
		}
		if where == "" {
			where = seg
		} else {
			where += "." + seg
		}
	}
	if replace {
		cur.parent.Content[cur.i] = value
		return nil
	}
	merge, err := byID(yamldec.Deref(cur.get()), value)
	if err != nil {
		return fmt.Errorf("%s: %v", at(where), err)
	}
	if !merge {
		cur.parent.Content[cur.i] = value
		return nil
	}
	return mergeByID(cur.own(), value, where)
}

// replaceTag marks an override value that replaces a list of things with
// ids as a whole instead of merging into it.
const replaceTag = "!replace"

// byID reports whether value, set over old, merges into it by id: value
// is a list whose every element is a mapping with an id, and old a list.
// A list some of whose elements have ids and others not is an error.
func byID(old, value *yaml.Node) (bool, error) {
	if old == nil || old.Kind != yaml.SequenceNode || value.Kind != yaml.SequenceNode || len(value.Content) == 0 {
		return false, nil
	}
	with := 0
	for _, e := range value.Content {
		if idOf(e) != "" {
			with++
		}
	}
	switch with {
	case 0:
		return false, nil
	case len(value.Content):
		return true, nil
	}
	return false, fmt.Errorf("%d of the %d elements have an id: give every element an id (the list merges by id) or none (it replaces the list), or write !replace before the list", with, len(value.Content))
}

// idOf returns the id of a list element that is a mapping with a scalar
// id, or "".
func idOf(e *yaml.Node) string {
	e = yamldec.Deref(e)
	if e == nil || e.Kind != yaml.MappingNode {
		return ""
	}
	v, _ := yamldec.MapGet(e, "id")
	if v = yamldec.Deref(v); v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}

// mergeByID merges the override list value into the plant's list old, by
// id: an element with a new id is added at the end; one with an id old
// has changes that element, the keys it gives replacing the element's
// and its other keys kept; one with remove: true removes it. The other
// elements stay as they are, where they are.
func mergeByID(old, value *yaml.Node, where string) error {
	for _, e := range value.Content {
		e = yamldec.Deref(e)
		id := idOf(e)
		remove := false
		if r, _ := yamldec.MapGet(e, "remove"); r != nil {
			r = yamldec.Deref(r)
			if r.Kind != yaml.ScalarNode || (r.Value != "true" && r.Value != "false") {
				return fmt.Errorf("%s: element %s: remove: want true or false", at(where), id)
			}
			remove = r.Value == "true"
		}
		i := -1
		for k, o := range old.Content {
			if idOf(o) == id {
				i = k
				break
			}
		}
		switch {
		case remove && i < 0:
			return fmt.Errorf("%s has no element %q to remove (%s)", at(where), id, names(old))
		case remove:
			old.Content = append(old.Content[:i], old.Content[i+1:]...)
		case i < 0:
			old.Content = append(old.Content, withoutRemove(e))
		default:
			s := slot{old, i}
			o := s.own()
			if o.Kind != yaml.MappingNode {
				s.parent.Content[s.i] = e
				continue
			}
			o = copyNode(o) // a private copy: an anchor's other users keep theirs
			o.Anchor = ""
			s.parent.Content[s.i] = o
			for k := 0; k+1 < len(e.Content); k += 2 {
				key := yamldec.Deref(e.Content[k])
				if key.Value == "remove" {
					continue
				}
				if _, j := yamldec.MapGet(o, key.Value); j >= 0 {
					o.Content[j+1] = e.Content[k+1]
				} else {
					o.Content = append(o.Content, e.Content[k], e.Content[k+1])
				}
			}
		}
	}
	return nil
}

func at(where string) string {
	if where == "" {
		return "the plant"
	}
	return where
}

// withoutRemove returns mapping e without its remove key.
func withoutRemove(e *yaml.Node) *yaml.Node {
	if _, j := yamldec.MapGet(e, "remove"); j < 0 {
		return e
	}
	c := *e
	c.Content = nil
	for k := 0; k+1 < len(e.Content); k += 2 {
		if yamldec.Deref(e.Content[k]).Value != "remove" {
			c.Content = append(c.Content, e.Content[k], e.Content[k+1])
		}
	}
	return &c
}
