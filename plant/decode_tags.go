package plant

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"twin/plant/yamldec"
)

// The tag map: OPC UA nodes, MQTT topics and Sparkplug B that tie a live
// plant to this file.

var signals = []Signal{SignalState, SignalGood, SignalReject, SignalPower, SignalEnergy, SignalOrder}

// nodeSignalNames are the OPC UA variable names of the signals (the
// virtual plant's address space uses the same).
var nodeSignalNames = map[Signal]string{
	SignalState: "State", SignalGood: "GoodCount", SignalReject: "RejectCount",
	SignalPower: "PowerKW", SignalEnergy: "EnergyKWh", SignalOrder: "CurrentOrder",
}

// OPCUANodeName is the variable name of sig in the virtual plant's OPC UA
// address space and in an auto tag map ("ns=2;s=W1.State").
func OPCUANodeName(sig Signal) string { return nodeSignalNames[sig] }

// Signals lists the signals the twin understands.
func Signals() []Signal { return append([]Signal(nil), signals...) }

func (d *decoder) signal(n *yaml.Node, field string) Signal {
	s, ok := d.Scalar(n, field, "a signal")
	if !ok {
		return ""
	}
	for _, x := range signals {
		if string(x) == s {
			return x
		}
	}
	names := make([]string, len(signals))
	for i, x := range signals {
		names[i] = string(x)
	}
	d.Errorf(n, field, "want a signal (%s), got %q", strings.Join(names, ", "), s)
	return ""
}

// asset resolves a unit id or an equipment path to the equipment path.
func (d *decoder) asset(n *yaml.Node, field string) string {
	s, ok := d.Scalar(n, field, "a unit id or equipment path")
	if !ok {
		return ""
	}
	if u := d.unitByID[s]; u != nil {
		return u.Path()
	}
	for _, node := range d.p.Nodes {
		if node.Path == s {
			return s
		}
	}
	d.Errorf(n, field, "no unit or equipment %q", s)
	return ""
}

func (d *decoder) valueMap(n *yaml.Node, field string) map[string]string {
	dv := yamldec.Deref(n)
	if dv == nil || dv.Kind != yaml.MappingNode {
		d.Errorf(n, field, "want a mapping of raw values to state names, got %s", yamldec.KindName(n))
		return nil
	}
	m := map[string]string{}
	for _, kv := range yamldec.Pairs(dv) {
		m[yamldec.Deref(kv[0]).Value] = d.Str(kv[1], yamldec.Join(field, yamldec.Deref(kv[0]).Value))
	}
	return m
}

// tags reads the tag map: its OPC UA servers and MQTT brokers.
func (d *decoder) tags(n *yaml.Node) {
	t := &d.p.Tags
	d.fields(n, "tags", "tags", func(key string, v *yaml.Node) {
		switch key {
		case "opcua":
			for i, sn := range d.List(v, "tags.opcua", false) {
				t.OPCUA = append(t.OPCUA, d.opcuaServer(sn, fmt.Sprintf("tags.opcua[%d]", i)))
			}
		case "mqtt":
			for i, bn := range d.List(v, "tags.mqtt", false) {
				t.MQTT = append(t.MQTT, d.mqttBroker(bn, fmt.Sprintf("tags.mqtt[%d]", i)))
			}
		}
	})
}

// opcuaServer reads one OPC UA server: its endpoint, security, login and
// nodes (listed, or an auto pattern for every unit's signals).
func (d *decoder) opcuaServer(n *yaml.Node, sf string) OPCUAServer {
	s := OPCUAServer{Policy: "None", Mode: "None"}
	auto := ""
	d.fields(n, "opcua", sf, func(key string, v *yaml.Node) {
		f := yamldec.Join(sf, key)
		switch key {
		case "endpoint":
			s.Endpoint = d.Str(v, f)
			if !strings.HasPrefix(s.Endpoint, "opc.tcp://") {
				d.Errorf(v, f, "want an endpoint like opc.tcp://host:4840, got %q", s.Endpoint)
			}
		case "policy":
			s.Policy = d.Str(v, f)
			if s.Policy != "None" && s.Policy != "Basic256Sha256" {
				d.Errorf(v, f, "want None or Basic256Sha256, got %q", s.Policy)
			}
		case "mode":
			s.Mode = d.Str(v, f)
			if s.Mode != "None" && s.Mode != "Sign" && s.Mode != "SignAndEncrypt" {
				d.Errorf(v, f, "want None, Sign or SignAndEncrypt, got %q", s.Mode)
			}
		case "user":
			s.User = d.Str(v, f)
		case "password":
			s.Password = d.Str(v, f)
		case "cert":
			s.Cert = d.Str(v, f)
		case "key":
			s.Key = d.Str(v, f)
		case "interval":
			s.Interval = d.duration(v, f)
		case "auto":
			auto = d.Str(v, f)
			if !strings.Contains(auto, "{unit}") || !strings.Contains(auto, "{signal}") {
				d.Errorf(v, f, "want a node id pattern with {unit} and {signal}, like \"ns=2;s={unit}.{signal}\", got %q", auto)
				auto = ""
			}
		case "nodes":
			for j, tn := range d.List(v, f, false) {
				if nt, ok := d.nodeTag(tn, fmt.Sprintf("%s[%d]", f, j)); ok {
					s.Nodes = append(s.Nodes, nt)
				}
			}
		}
	})
	if (s.Policy == "None") != (s.Mode == "None") {
		d.Errorf(n, sf+".mode", "policy %s with mode %s: both None, or Basic256Sha256 with Sign or SignAndEncrypt", s.Policy, s.Mode)
	}
	if auto != "" {
		for _, u := range d.p.Units {
			for _, sig := range signals {
				node := strings.ReplaceAll(strings.ReplaceAll(auto, "{unit}", u.ID()), "{signal}", nodeSignalNames[sig])
				s.Nodes = append(s.Nodes, NodeTag{Node: node, Asset: u.Path(), Signal: sig})
			}
		}
	}
	return s
}

// nodeTag reads one OPC UA node of the tag map; false when it is not
// complete.
func (d *decoder) nodeTag(n *yaml.Node, tf string) (NodeTag, bool) {
	var nt NodeTag
	has := map[string]bool{}
	d.fields(n, "node_tag", tf, func(key string, v *yaml.Node) {
		has[key] = true
		switch key {
		case "node":
			nt.Node = d.Str(v, tf+".node")
		case "asset":
			nt.Asset = d.asset(v, tf+".asset")
		case "signal":
			nt.Signal = d.signal(v, tf+".signal")
		case "value_map":
			nt.ValueMap = d.valueMap(v, tf+".value_map")
		}
	})
	if !has["node"] || !has["asset"] || !has["signal"] {
		d.Errorf(n, tf, "want node, asset and signal")
		return nt, false
	}
	return nt, nt.Node != "" && nt.Asset != "" && nt.Signal != ""
}

// mqttBroker reads one MQTT broker: its URL, login, JSON topics (listed,
// or an auto pattern for every unit's signals) and Sparkplug B.
func (d *decoder) mqttBroker(n *yaml.Node, bf string) MQTTBroker {
	b := MQTTBroker{}
	auto := ""
	d.fields(n, "mqtt", bf, func(key string, v *yaml.Node) {
		f := yamldec.Join(bf, key)
		switch key {
		case "url":
			b.URL = d.Str(v, f)
			if !strings.Contains(b.URL, "://") {
				d.Errorf(v, f, "want a broker URL like tcp://host:1883 or ssl://host:8883, got %q", b.URL)
			}
		case "client_id":
			b.ClientID = d.Str(v, f)
		case "user":
			b.User = d.Str(v, f)
		case "password":
			b.Password = d.Str(v, f)
		case "ca":
			b.CA = d.Str(v, f)
		case "auto":
			auto = d.Str(v, f)
			if !strings.Contains(auto, "{unit}") || !strings.Contains(auto, "{signal}") {
				d.Errorf(v, f, "want a topic pattern with {unit} and {signal}, like \"plant/{area}/{unit}/{signal}\", got %q", auto)
				auto = ""
			}
		case "topics":
			for j, tn := range d.List(v, f, false) {
				if tt, ok := d.topicTag(tn, fmt.Sprintf("%s[%d]", f, j)); ok {
					b.Topics = append(b.Topics, tt)
				}
			}
		case "sparkplug":
			b.Sparkplug = d.sparkplug(v, f)
		}
	})
	if auto != "" {
		for _, u := range d.p.Units {
			area, line := "", ""
			for n := u.Node.Parent; n != nil; n = n.Parent {
				switch n.Level {
				case AreaLevel:
					area = n.ID
				case LineLevel:
					line = n.ID
				}
			}
			for _, sig := range signals {
				r := strings.NewReplacer("{area}", area, "{line}", line, "{workcenter}", u.WorkCenter.ID(), "{unit}", u.ID(), "{signal}", string(sig))
				b.Topics = append(b.Topics, TopicTag{Topic: r.Replace(auto), Asset: u.Path(), Signal: sig, Field: "value"})
			}
		}
	}
	return b
}

// topicTag reads one JSON topic of the tag map; false when it is not
// complete.
func (d *decoder) topicTag(n *yaml.Node, tf string) (TopicTag, bool) {
	var tt TopicTag
	has := map[string]bool{}
	d.fields(n, "topic", tf, func(key string, v *yaml.Node) {
		has[key] = true
		switch key {
		case "topic":
			tt.Topic = d.Str(v, tf+".topic")
			if strings.ContainsAny(tt.Topic, "+#") {
				d.Errorf(v, tf+".topic", "want a topic without wildcards, got %q", tt.Topic)
			}
		case "asset":
			tt.Asset = d.asset(v, tf+".asset")
		case "signal":
			tt.Signal = d.signal(v, tf+".signal")
		case "field":
			tt.Field = d.Str(v, tf+".field")
		case "value_map":
			tt.ValueMap = d.valueMap(v, tf+".value_map")
		}
	})
	if !has["topic"] || !has["asset"] || !has["signal"] {
		d.Errorf(n, tf, "want topic, asset and signal")
		return tt, false
	}
	return tt, tt.Topic != "" && tt.Asset != "" && tt.Signal != ""
}

// sparkplug reads a broker's Sparkplug B group and devices.
func (d *decoder) sparkplug(n *yaml.Node, f string) *Sparkplug {
	sp := &Sparkplug{}
	d.fields(n, "sparkplug", f, func(key string, v *yaml.Node) {
		g := yamldec.Join(f, key)
		switch key {
		case "group":
			sp.Group = d.Str(v, g)
		case "host_id":
			sp.HostID = d.Str(v, g)
		case "devices":
			for k, dn := range d.List(v, g, false) {
				if dev, ok := d.sparkplugDevice(dn, fmt.Sprintf("%s[%d]", g, k)); ok {
					sp.Devices = append(sp.Devices, dev)
				}
			}
		}
	})
	if sp.Group == "" {
		d.Errorf(n, f+".group", "want the Sparkplug group id")
	}
	return sp
}

// sparkplugDevice reads one Sparkplug device: its edge node, device id,
// asset and metrics; false when it is not complete.
func (d *decoder) sparkplugDevice(n *yaml.Node, df string) (SparkplugDevice, bool) {
	dev := SparkplugDevice{Metrics: map[string]Signal{}}
	d.fields(n, "device", df, func(key string, v *yaml.Node) {
		switch key {
		case "edge_node":
			dev.EdgeNode = d.Str(v, df+".edge_node")
		case "device":
			dev.Device = d.Str(v, df+".device")
		case "asset":
			dev.Asset = d.asset(v, df+".asset")
		case "metrics":
			dv := yamldec.Deref(v)
			if dv == nil || dv.Kind != yaml.MappingNode {
				d.Errorf(v, df+".metrics", "want a mapping of metric names to signals, got %s", yamldec.KindName(v))
				return
			}
			for _, kv := range yamldec.Pairs(dv) {
				dev.Metrics[yamldec.Deref(kv[0]).Value] = d.signal(kv[1], df+".metrics."+yamldec.Deref(kv[0]).Value)
			}
		}
	})
	if dev.EdgeNode == "" || dev.Asset == "" {
		d.Errorf(n, df, "want edge_node, asset and metrics (device is optional)")
		return dev, false
	}
	return dev, true
}
