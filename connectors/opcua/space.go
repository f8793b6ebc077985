package opcua

import (
	"sync"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/server"
	"github.com/gopcua/opcua/ua"
)

// space is one namespace of the server's address space: objects,
// variables, data types and properties with the attributes OPC UA Part 3
// gives them. It is built before the server starts and read-only for
// clients afterwards; only the variables' values change (set).
//
// It implements gopcua's server.NameSpace itself: v0.9.0's NodeNameSpace
// gives every variable the DataType VariableNode (i=267) as an
// ExpandedNodeId, no ValueRank, AccessLevel or type definition, a
// Description that is a number, and swaps values without a lock.
type space struct {
	srv  *server.Server
	name string
	id   uint16

	nodes map[string]*uaNode // by node id (String form); fixed once built
	top   *uaNode            // what Objects returns: the namespace's first object

	mu sync.RWMutex // guards the values of variables
}

// uaNode is a node of a space.
type uaNode struct {
	id      *ua.NodeID
	class   ua.NodeClass
	browse  *ua.QualifiedName
	display *ua.LocalizedText
	desc    *ua.LocalizedText
	typeDef *ua.NodeID // objects and variables: the HasTypeDefinition target
	refs    []*ua.ReferenceDescription
	// variables
	dataType *ua.NodeID
	rank     int32    // ValueRank: -1 scalar, 1 one dimension
	dims     []uint32 // ArrayDimensions, for arrays
	value    *ua.DataValue
	// data types
	def *ua.ExtensionObject // DataTypeDefinition
	// what gopcua's server sees of the node when it looks it up from
	// another namespace (browsing Objects, a reference from namespace 0)
	gn *server.Node
}

// newSpace adds an empty namespace called name to srv.
func newSpace(srv *server.Server, name string) *space {
	s := &space{srv: srv, name: name, nodes: map[string]*uaNode{}}
	srv.AddNamespace(s)
	return s
}

// add puts n into the space with the attributes every node has (its
// browse name in this namespace unless n has one).
func (s *space) add(n *uaNode, name, desc string) *uaNode {
	if n.browse == nil {
		n.browse = &ua.QualifiedName{NamespaceIndex: s.id, Name: name}
	}
	n.display = &ua.LocalizedText{EncodingMask: ua.LocalizedTextText, Text: name}
	n.desc = &ua.LocalizedText{}
	if desc != "" {
		n.desc = &ua.LocalizedText{EncodingMask: ua.LocalizedTextText, Text: desc}
	}
	refs := server.References{}
	if n.typeDef != nil {
		td := s.std(n.typeDef.IntID())
		r := td.ref(id.HasTypeDefinition, true)
		n.refs = append(n.refs, r)
		refs = append(refs, r)
	}
	n.gn = server.NewNode(n.id, server.Attributes{
		ua.AttributeIDNodeClass:   server.DataValueFromValue(uint32(n.class)),
		ua.AttributeIDBrowseName:  server.DataValueFromValue(n.browse),
		ua.AttributeIDDisplayName: server.DataValueFromValue(n.display),
	}, refs, nil)
	s.nodes[n.id.String()] = n
	if s.top == nil && n.class == ua.NodeClassObject {
		s.top = n
	}
	return n
}

// object adds an object of type typeDef (FolderType, BaseObjectType).
func (s *space) object(nid *ua.NodeID, name, desc string, typeDef uint32) *uaNode {
	return s.add(&uaNode{id: nid, class: ua.NodeClassObject, typeDef: ua.NewNumericNodeID(0, typeDef)}, name, desc)
}

// variable adds a scalar read-only variable (BaseDataVariableType) of
// dataType; it reads BadWaitingForInitialData until set.
func (s *space) variable(nid *ua.NodeID, name, desc string, dataType *ua.NodeID) *uaNode {
	return s.add(&uaNode{id: nid, class: ua.NodeClassVariable, typeDef: ua.NewNumericNodeID(0, id.BaseDataVariableType),
		dataType: dataType, rank: -1, value: &ua.DataValue{EncodingMask: ua.DataValueStatusCode | ua.DataValueServerTimestamp,
			Status: ua.StatusBadWaitingForInitialData, ServerTimestamp: time.Now()}}, name, desc)
}

// property adds a property (PropertyType) holding v, its browse name in
// namespace 0 as the standard's properties have (EnumStrings).
func (s *space) property(nid *ua.NodeID, name string, dataType uint32, v any, dims ...uint32) *uaNode {
	n := &uaNode{id: nid, class: ua.NodeClassVariable, typeDef: ua.NewNumericNodeID(0, id.PropertyType),
		browse: &ua.QualifiedName{NamespaceIndex: 0, Name: name}, dataType: ua.NewNumericNodeID(0, dataType), rank: -1,
		value: &ua.DataValue{EncodingMask: ua.DataValueValue, Value: ua.MustVariant(v)}}
	if len(dims) > 0 {
		n.rank, n.dims = int32(len(dims)), dims
	}
	return s.add(n, name, "")
}

// enumeration adds a subtype of Enumeration whose values are 0, 1, … named
// names: its EnumStrings property and its DataTypeDefinition.
func (s *space) enumeration(nid *ua.NodeID, name, desc string, names []string) *uaNode {
	n := s.add(&uaNode{id: nid, class: ua.NodeClassDataType}, name, desc)
	texts := make([]*ua.LocalizedText, len(names))
	def := &ua.EnumDefinition{}
	for i, nm := range names {
		texts[i] = &ua.LocalizedText{EncodingMask: ua.LocalizedTextText, Text: nm}
		def.Fields = append(def.Fields, &ua.EnumField{Value: int64(i), Name: nm, DisplayName: texts[i], Description: &ua.LocalizedText{}})
	}
	n.def = ua.NewExtensionObject(def)
	strs := s.property(ua.NewStringNodeID(s.id, nid.StringID()+".EnumStrings"), "EnumStrings", id.LocalizedText, texts, uint32(len(texts)))
	s.link(n, id.HasProperty, strs)
	s.under(id.Enumeration, id.HasSubtype, n)
	return n
}

// std describes a node of namespace 0 (a type, the Objects folder).
func (s *space) std(i uint32) *uaNode {
	nid := ua.NewNumericNodeID(0, i)
	g := s.srv.Node(nid)
	if g == nil {
		return &uaNode{id: nid, browse: &ua.QualifiedName{}, display: &ua.LocalizedText{}}
	}
	return &uaNode{id: nid, class: g.NodeClass(), browse: g.BrowseName(), display: g.DisplayName(), gn: g}
}

// ref is a reference of type rt to n.
func (n *uaNode) ref(rt uint32, forward bool) *ua.ReferenceDescription {
	td := ua.NewTwoByteExpandedNodeID(0)
	if n.typeDef != nil {
		td = ua.NewExpandedNodeID(n.typeDef, "", 0)
	}
	return &ua.ReferenceDescription{ReferenceTypeID: ua.NewNumericNodeID(0, rt), IsForward: forward,
		NodeID: ua.NewExpandedNodeID(n.id, "", 0), BrowseName: n.browse, DisplayName: n.display, NodeClass: n.class, TypeDefinition: td}
}

// link adds the reference rt from parent to child and its inverse.
func (s *space) link(parent *uaNode, rt uint32, child *uaNode) {
	parent.refs = append(parent.refs, child.ref(rt, true))
	child.refs = append(child.refs, parent.ref(rt, false))
}

// under puts n under a node of namespace 0 (Objects, Enumeration): the
// reference rt from there, and its inverse.
func (s *space) under(i uint32, rt uint32, n *uaNode) {
	p := s.std(i)
	if p.gn != nil {
		p.gn.AddRef(n.gn, server.RefType(rt), true)
	}
	n.refs = append(n.refs, p.ref(rt, false))
}

// set makes dv the value of variable n and tells the server's
// subscriptions.
func (s *space) set(n *uaNode, dv *ua.DataValue) {
	s.mu.Lock()
	n.value = dv
	s.mu.Unlock()
	s.srv.ChangeNotification(n.id)
}

// The server.NameSpace methods.

func (s *space) Name() string       { return s.name }
func (s *space) ID() uint16         { return s.id }
func (s *space) SetID(id uint16)    { s.id = id }
func (s *space) Root() *server.Node { return nil }

// AddNode is not how nodes come into a space (see object, variable): it
// adds n as an object without references.
func (s *space) AddNode(n *server.Node) *server.Node {
	s.add(&uaNode{id: n.ID(), class: n.NodeClass()}, n.BrowseName().Name, "")
	return n
}

func (s *space) Node(nid *ua.NodeID) *server.Node {
	if n := s.node(nid); n != nil {
		return n.gn
	}
	return nil
}

func (s *space) Objects() *server.Node {
	if s.top == nil {
		return nil
	}
	return s.top.gn
}

func (s *space) node(nid *ua.NodeID) *uaNode {
	if nid == nil || nid.Namespace() != s.id {
		return nil
	}
	return s.nodes[nid.String()]
}

func bad(st ua.StatusCode) *ua.DataValue {
	return &ua.DataValue{EncodingMask: ua.DataValueStatusCode | ua.DataValueServerTimestamp, Status: st, ServerTimestamp: time.Now()}
}

// Attribute reads one attribute of a node.
func (s *space) Attribute(nid *ua.NodeID, attr ua.AttributeID) *ua.DataValue {
	n := s.node(nid)
	if n == nil {
		return bad(ua.StatusBadNodeIDUnknown)
	}
	var v any
	switch attr {
	case ua.AttributeIDNodeID:
		v = n.id
	case ua.AttributeIDNodeClass:
		v = int32(n.class)
	case ua.AttributeIDBrowseName:
		v = n.browse
	case ua.AttributeIDDisplayName:
		v = n.display
	case ua.AttributeIDDescription:
		v = n.desc
	case ua.AttributeIDWriteMask, ua.AttributeIDUserWriteMask:
		v = uint32(0)
	}
	switch n.class {
	case ua.NodeClassObject:
		if attr == ua.AttributeIDEventNotifier {
			v = byte(0)
		}
	case ua.NodeClassVariable:
		switch attr {
		case ua.AttributeIDValue:
			s.mu.RLock()
			dv := n.value
			s.mu.RUnlock()
			return dv
		case ua.AttributeIDDataType:
			v = n.dataType
		case ua.AttributeIDValueRank:
			v = n.rank
		case ua.AttributeIDArrayDimensions:
			if n.rank >= 0 {
				v = n.dims
			}
		case ua.AttributeIDAccessLevel, ua.AttributeIDUserAccessLevel:
			v = byte(ua.AccessLevelTypeCurrentRead)
		case ua.AttributeIDAccessLevelEx:
			v = uint32(ua.AccessLevelTypeCurrentRead)
		case ua.AttributeIDMinimumSamplingInterval:
			v = float64(0) // values are pushed as they change
		case ua.AttributeIDHistorizing:
			v = false
		}
	case ua.NodeClassDataType:
		switch attr {
		case ua.AttributeIDIsAbstract:
			v = false
		case ua.AttributeIDDataTypeDefinition:
			if n.def != nil {
				v = n.def
			}
		}
	}
	if v == nil {
		return bad(ua.StatusBadAttributeIDInvalid)
	}
	return &ua.DataValue{EncodingMask: ua.DataValueValue, Value: ua.MustVariant(v)}
}

// SetAttribute is the Write service: the plant's address space is
// read-only.
func (s *space) SetAttribute(nid *ua.NodeID, _ ua.AttributeID, _ *ua.DataValue) ua.StatusCode {
	if s.node(nid) == nil {
		return ua.StatusBadNodeIDUnknown
	}
	return ua.StatusBadNotWritable
}

// refSuper is the supertype of each reference type the spaces use, up to
// References (OPC UA Part 3, 7.1), for browsing with subtypes.
var refSuper = map[uint32]uint32{
	id.HierarchicalReferences: id.References, id.NonHierarchicalReferences: id.References,
	id.HasChild: id.HierarchicalReferences, id.Organizes: id.HierarchicalReferences,
	id.Aggregates: id.HasChild, id.HasSubtype: id.HasChild,
	id.HasComponent: id.Aggregates, id.HasProperty: id.Aggregates,
	id.HasTypeDefinition: id.NonHierarchicalReferences,
}

// refMatches tells whether a reference of type have answers a browse for
// want (with its subtypes when sub).
func refMatches(want *ua.NodeID, sub bool, have *ua.NodeID) bool {
	if want == nil || want.Namespace() == 0 && want.IntID() == 0 {
		return true
	}
	if want.Equal(have) {
		return true
	}
	if !sub || want.Namespace() != 0 || have.Namespace() != 0 {
		return false
	}
	for t, ok := have.IntID(), true; ok; t, ok = refSuper[t] {
		if t == want.IntID() {
			return true
		}
	}
	return false
}

// Browse lists the references of a node the description asks for.
func (s *space) Browse(bd *ua.BrowseDescription) *ua.BrowseResult {
	n := s.node(bd.NodeID)
	if n == nil {
		return &ua.BrowseResult{StatusCode: ua.StatusBadNodeIDUnknown}
	}
	refs := []*ua.ReferenceDescription{}
	for _, r := range n.refs {
		switch {
		case bd.BrowseDirection == ua.BrowseDirectionForward && !r.IsForward,
			bd.BrowseDirection == ua.BrowseDirectionInverse && r.IsForward,
			!refMatches(bd.ReferenceTypeID, bd.IncludeSubtypes, r.ReferenceTypeID),
			bd.NodeClassMask != 0 && bd.NodeClassMask&uint32(r.NodeClass) == 0:
			continue
		}
		refs = append(refs, r)
	}
	return &ua.BrowseResult{StatusCode: ua.StatusGood, References: refs}
}
