package opcua

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"twin/plant"
	"twin/plant/event"
)

// dial connects gopcua's client to endpoint (None).
func dial(t testing.TB, endpoint string) *opcua.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := opcua.NewClient(endpoint, opcua.SecurityMode(ua.MessageSecurityModeNone), opcua.AutoReconnect(false))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close(context.Background()) })
	return cl
}

func read(t testing.TB, cl *opcua.Client, node string, attr ua.AttributeID) *ua.DataValue {
	t.Helper()
	res, err := cl.Read(context.Background(), &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{{NodeID: ua.MustParseNodeID(node), AttributeID: attr}}})
	if err != nil || len(res.Results) != 1 {
		t.Fatalf("read %s %v: %v", node, attr, err)
	}
	return res.Results[0]
}

// value reads an attribute that must be there.
func value(t testing.TB, cl *opcua.Client, node string, attr ua.AttributeID) any {
	t.Helper()
	dv := read(t, cl, node, attr)
	if dv.Status != ua.StatusOK || dv.Value == nil {
		t.Fatalf("%s %v: status %v", node, attr, dv.Status)
	}
	return dv.Value.Value()
}

// browse lists the references of node of type rt and its subtypes, in
// direction dir.
func browse(t testing.TB, cl *opcua.Client, node string, rt uint32, dir ua.BrowseDirection) []*ua.ReferenceDescription {
	t.Helper()
	res, err := cl.Browse(context.Background(), &ua.BrowseRequest{NodesToBrowse: []*ua.BrowseDescription{{
		NodeID: ua.MustParseNodeID(node), BrowseDirection: dir, ReferenceTypeID: ua.NewNumericNodeID(0, rt), IncludeSubtypes: true, ResultMask: 63}}})
	if err != nil || len(res.Results) != 1 || res.Results[0].StatusCode != ua.StatusOK {
		t.Fatalf("browse %s: %v %+v", node, err, res)
	}
	return res.Results[0].References
}

// find returns the reference to node among refs.
func find(refs []*ua.ReferenceDescription, node string) *ua.ReferenceDescription {
	for _, r := range refs {
		if r.NodeID.NodeID.String() == node {
			return r
		}
	}
	return nil
}

// TestAddressSpace reads the address space back over TCP with gopcua's
// client: each variable's DataType, ValueRank, AccessLevel and type
// definition, the equipment tree's folders and objects, and the
// MachineState enumeration.
func TestAddressSpace(t *testing.T) {
	p := testPlant(t)
	s := startServer(t, p, ServerOptions{})
	t.Cleanup(func() { s.Close() }) // after the client's (cleanups run last first)
	w1 := p.Units[1]
	now := time.Now().UnixNano()
	s.Emit(event.Event{Time: now, Kind: event.State, Asset: w1.Path(), Value: float64(event.Running)})
	s.Emit(event.Event{Time: now, Kind: event.Counter, Asset: w1.Path(), Name: "good", Value: 41})
	s.Emit(event.Event{Time: now, Kind: event.Measure, Asset: w1.Path(), Name: "power_kw", Value: 7.5})
	cl := dial(t, s.Endpoint())

	states := "ns=1;s=MachineState"
	for _, c := range []struct {
		variable string
		dataType string
		value    any // after the events above; nil: none yet
	}{
		{"State", "i=12", "running"},
		{"StateCode", states, int32(event.Running)},
		{"GoodCount", "i=7", uint32(41)},
		{"RejectCount", "i=7", nil},
		{"PowerKW", "i=11", 7.5},
		{"EnergyKWh", "i=11", nil},
		{"CurrentOrder", "i=12", nil},
	} {
		t.Run(c.variable, func(t *testing.T) {
			node := s.NodeID(w1.ID(), c.variable)
			if dt, ok := value(t, cl, node, ua.AttributeIDDataType).(*ua.NodeID); !ok || dt.String() != c.dataType {
				t.Errorf("DataType %v (%T), want the NodeId %s", dt, value(t, cl, node, ua.AttributeIDDataType), c.dataType)
			}
			if r := value(t, cl, node, ua.AttributeIDValueRank); r != int32(-1) {
				t.Errorf("ValueRank %v (%T), want -1 (scalar)", r, r)
			}
			for _, a := range []ua.AttributeID{ua.AttributeIDAccessLevel, ua.AttributeIDUserAccessLevel} {
				if l := value(t, cl, node, a); l != byte(ua.AccessLevelTypeCurrentRead) {
					t.Errorf("%v %v (%T), want CurrentRead (1)", a, l, l)
				}
			}
			if nc := value(t, cl, node, ua.AttributeIDNodeClass); nc != int32(ua.NodeClassVariable) {
				t.Errorf("NodeClass %v", nc)
			}
			if d, ok := value(t, cl, node, ua.AttributeIDDescription).(*ua.LocalizedText); !ok || d.Text == "" {
				t.Errorf("Description %v, want a text", value(t, cl, node, ua.AttributeIDDescription))
			}
			td := browse(t, cl, node, id.HasTypeDefinition, ua.BrowseDirectionForward)
			if len(td) != 1 || td[0].NodeID.NodeID.String() != "i=63" {
				t.Errorf("type definitions %v, want BaseDataVariableType (i=63)", td)
			}
			dv := read(t, cl, node, ua.AttributeIDValue)
			switch {
			case c.value == nil && dv.Status != ua.StatusBadWaitingForInitialData:
				t.Errorf("value before the plant wrote: status %v", dv.Status)
			case c.value != nil && (dv.Status != ua.StatusOK || !reflect.DeepEqual(dv.Value.Value(), c.value)):
				t.Errorf("value %v (%T), status %v, want %v (%T)", dv.Value.Value(), dv.Value.Value(), dv.Status, c.value, c.value)
			}
		})
	}

	// the equipment tree: Objects → site → area → line → work centre
	// (folders) → unit (an object) → its variables
	site := browse(t, cl, "i=85", id.HierarchicalReferences, ua.BrowseDirectionForward)
	siteRef := find(site, "ns=2;s="+p.Site.Path)
	if siteRef == nil || siteRef.TypeDefinition.NodeID.String() != "i=61" || siteRef.ReferenceTypeID.IntID() != id.Organizes {
		t.Fatalf("Objects' reference to the site: %+v", siteRef)
	}
	tree := chain(p.Site, w1.Path())
	if len(tree) < 2 {
		t.Fatalf("no way from the site to %s", w1.Path())
	}
	for _, n := range tree {
		want := "i=61" // FolderType
		if n.Unit != nil {
			want = "i=58" // BaseObjectType
		}
		node := "ns=2;s=" + n.Path
		td := browse(t, cl, node, id.HasTypeDefinition, ua.BrowseDirectionForward)
		if len(td) != 1 || td[0].NodeID.NodeID.String() != want {
			t.Errorf("%s: type definition %v, want %s", n.Path, td, want)
		}
		if v := value(t, cl, node, ua.AttributeIDNodeClass); v != int32(ua.NodeClassObject) {
			t.Errorf("%s: NodeClass %v", n.Path, v)
		}
		if up := browse(t, cl, node, id.HierarchicalReferences, ua.BrowseDirectionInverse); len(up) != 1 {
			t.Errorf("%s: %d parents", n.Path, len(up))
		}
	}
	vars := browse(t, cl, "ns=2;s="+w1.Path(), id.HasComponent, ua.BrowseDirectionForward)
	if len(vars) != len(unitVars) {
		t.Errorf("%d variables under the unit, want %d", len(vars), len(unitVars))
	}
	for _, r := range vars {
		if r.NodeClass != ua.NodeClassVariable || r.TypeDefinition.NodeID.String() != "i=63" {
			t.Errorf("variable %v: class %v, type definition %v", r.NodeID, r.NodeClass, r.TypeDefinition)
		}
	}

	// the MachineState enumeration: a subtype of Enumeration with its
	// names in EnumStrings and in its DataTypeDefinition
	if v := value(t, cl, states, ua.AttributeIDNodeClass); v != int32(ua.NodeClassDataType) {
		t.Errorf("MachineState's NodeClass %v", v)
	}
	if v := value(t, cl, states, ua.AttributeIDIsAbstract); v != false {
		t.Errorf("MachineState IsAbstract %v", v)
	}
	if up := browse(t, cl, states, id.HasSubtype, ua.BrowseDirectionInverse); len(up) != 1 || up[0].NodeID.NodeID.String() != "i=29" {
		t.Errorf("MachineState's supertype %v, want Enumeration (i=29)", up)
	}
	if find(browse(t, cl, "i=29", id.HasSubtype, ua.BrowseDirectionForward), states) == nil {
		t.Error("Enumeration does not list MachineState among its subtypes")
	}
	props := browse(t, cl, states, id.HasProperty, ua.BrowseDirectionForward)
	if len(props) != 1 || props[0].BrowseName.Name != "EnumStrings" || props[0].BrowseName.NamespaceIndex != 0 {
		t.Fatalf("MachineState's properties %+v, want EnumStrings", props)
	}
	es := props[0].NodeID.NodeID.String()
	texts, ok := value(t, cl, es, ua.AttributeIDValue).([]*ua.LocalizedText)
	if !ok || len(texts) != len(event.States()) {
		t.Fatalf("EnumStrings %v", value(t, cl, es, ua.AttributeIDValue))
	}
	for i, st := range event.States() {
		if texts[i].Text != st.String() {
			t.Errorf("EnumStrings[%d] %q, want %q", i, texts[i].Text, st)
		}
	}
	if r := value(t, cl, es, ua.AttributeIDValueRank); r != int32(1) {
		t.Errorf("EnumStrings' ValueRank %v, want 1", r)
	}
	if dt := value(t, cl, es, ua.AttributeIDDataType).(*ua.NodeID); dt.String() != "i=21" {
		t.Errorf("EnumStrings' DataType %v, want LocalizedText (i=21)", dt)
	}
	eo, ok := value(t, cl, states, ua.AttributeIDDataTypeDefinition).(*ua.ExtensionObject)
	def, _ := eo.Value.(*ua.EnumDefinition)
	if !ok || def == nil || len(def.Fields) != len(event.States()) || def.Fields[int(event.Running)].Name != "running" || def.Fields[int(event.Running)].Value != int64(event.Running) {
		t.Errorf("MachineState's DataTypeDefinition %+v", eo)
	}

	// read-only
	res, err := cl.Write(context.Background(), &ua.WriteRequest{NodesToWrite: []*ua.WriteValue{{NodeID: ua.MustParseNodeID(s.NodeID(w1.ID(), "GoodCount")),
		AttributeID: ua.AttributeIDValue, Value: &ua.DataValue{EncodingMask: ua.DataValueValue, Value: ua.MustVariant(uint32(1))}}}})
	if err != nil || len(res.Results) != 1 || res.Results[0] != ua.StatusBadNotWritable {
		t.Errorf("write: %v %+v, want BadNotWritable", err, res)
	}
	if v := value(t, cl, s.NodeID(w1.ID(), "GoodCount"), ua.AttributeIDValue); v != uint32(41) {
		t.Errorf("GoodCount %v after a write", v)
	}
	if st := read(t, cl, "ns=2;s=NoSuchUnit.State", ua.AttributeIDValue).Status; st != ua.StatusBadNodeIDUnknown {
		t.Errorf("an unknown node reads %v", st)
	}
}

// chain is the equipment nodes from n down to the one at path.
func chain(n *plant.Node, path string) []*plant.Node {
	if n.Path == path {
		return []*plant.Node{n}
	}
	for _, c := range n.Nodes {
		if rest := chain(c, path); rest != nil {
			return append([]*plant.Node{n}, rest...)
		}
	}
	return nil
}
