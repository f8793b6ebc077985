package plant

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
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
	s, ok := d.scalar(n, field, "a signal")
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
	d.errorf(n, field, "want a signal (%s), got %q", strings.Join(names, ", "), s)
	return ""
}

// asset resolves a unit id or an equipment path to the equipment path.
func (d *decoder) asset(n *yaml.Node, field string) string {
	s, ok := d.scalar(n, field, "a unit id or equipment path")
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
	d.errorf(n, field, "no unit or equipment %q", s)
	return ""
}

func (d *decoder) valueMap(n *yaml.Node, field string) map[string]string {
	dv := deref(n)
	if dv == nil || dv.Kind != yaml.MappingNode {
		d.errorf(n, field, "want a mapping of raw values to state names, got %s", kindName(n))
		return nil
	}
	m := map[string]string{}
	for _, kv := range pairs(dv) {
		m[deref(kv[0]).Value] = d.str(kv[1], join(field, deref(kv[0]).Value))
	}
	return m
}

func (d *decoder) tags(n *yaml.Node) {
	t := &d.p.Tags
	d.fields(n, "tags", "tags", func(key string, v *yaml.Node) {
		switch key {
		case "opcua":
			for i, sn := range d.list(v, "tags.opcua") {
				sf := fmt.Sprintf("tags.opcua[%d]", i)
				s := OPCUAServer{Policy: "None", Mode: "None"}
				auto := ""
				d.fields(sn, "opcua", sf, func(key string, v *yaml.Node) {
					f := join(sf, key)
					switch key {
					case "endpoint":
						s.Endpoint = d.str(v, f)
						if !strings.HasPrefix(s.Endpoint, "opc.tcp://") {
							d.errorf(v, f, "want an endpoint like opc.tcp://host:4840, got %q", s.Endpoint)
						}
					case "policy":
						s.Policy = d.str(v, f)
						if s.Policy != "None" && s.Policy != "Basic256Sha256" {
							d.errorf(v, f, "want None or Basic256Sha256, got %q", s.Policy)
						}
					case "mode":
						s.Mode = d.str(v, f)
						if s.Mode != "None" && s.Mode != "Sign" && s.Mode != "SignAndEncrypt" {
							d.errorf(v, f, "want None, Sign or SignAndEncrypt, got %q", s.Mode)
						}
					case "user":
						s.User = d.str(v, f)
					case "password":
						s.Password = d.str(v, f)
					case "cert":
						s.Cert = d.str(v, f)
					case "key":
						s.Key = d.str(v, f)
					case "interval":
						s.Interval = d.duration(v, f)
					case "auto":
						auto = d.str(v, f)
						if !strings.Contains(auto, "{unit}") || !strings.Contains(auto, "{signal}") {
							d.errorf(v, f, "want a node id pattern with {unit} and {signal}, like \"ns=2;s={unit}.{signal}\", got %q", auto)
							auto = ""
						}
					case "nodes":
						for j, tn := range d.list(v, f) {
							tf := fmt.Sprintf("%s[%d]", f, j)
							var nt NodeTag
							has := map[string]bool{}
							d.fields(tn, "node_tag", tf, func(key string, v *yaml.Node) {
								has[key] = true
								switch key {
								case "node":
									nt.Node = d.str(v, tf+".node")
								case "asset":
									nt.Asset = d.asset(v, tf+".asset")
								case "signal":
									nt.Signal = d.signal(v, tf+".signal")
								case "value_map":
									nt.ValueMap = d.valueMap(v, tf+".value_map")
								}
							})
							if !has["node"] || !has["asset"] || !has["signal"] {
								d.errorf(tn, tf, "want node, asset and signal")
								continue
							}
							if nt.Node == "" || nt.Asset == "" || nt.Signal == "" {
								continue
							}
							s.Nodes = append(s.Nodes, nt)
						}
					}
				})
				if (s.Policy == "None") != (s.Mode == "None") {
					d.errorf(sn, sf+".mode", "policy %s with mode %s: both None, or Basic256Sha256 with Sign or SignAndEncrypt", s.Policy, s.Mode)
				}
				if auto != "" {
					for _, u := range d.p.Units {
						for _, sig := range signals {
							node := strings.ReplaceAll(strings.ReplaceAll(auto, "{unit}", u.ID()), "{signal}", nodeSignalNames[sig])
							s.Nodes = append(s.Nodes, NodeTag{Node: node, Asset: u.Path(), Signal: sig})
						}
					}
				}
				t.OPCUA = append(t.OPCUA, s)
			}
		case "mqtt":
			for i, bn := range d.list(v, "tags.mqtt") {
				bf := fmt.Sprintf("tags.mqtt[%d]", i)
				b := MQTTBroker{}
				auto := ""
				d.fields(bn, "mqtt", bf, func(key string, v *yaml.Node) {
					f := join(bf, key)
					switch key {
					case "url":
						b.URL = d.str(v, f)
						if !strings.Contains(b.URL, "://") {
							d.errorf(v, f, "want a broker URL like tcp://host:1883 or ssl://host:8883, got %q", b.URL)
						}
					case "client_id":
						b.ClientID = d.str(v, f)
					case "user":
						b.User = d.str(v, f)
					case "password":
						b.Password = d.str(v, f)
					case "ca":
						b.CA = d.str(v, f)
					case "auto":
						auto = d.str(v, f)
						if !strings.Contains(auto, "{unit}") || !strings.Contains(auto, "{signal}") {
							d.errorf(v, f, "want a topic pattern with {unit} and {signal}, like \"plant/{area}/{unit}/{signal}\", got %q", auto)
							auto = ""
						}
					case "topics":
						for j, tn := range d.list(v, f) {
							tf := fmt.Sprintf("%s[%d]", f, j)
							var tt TopicTag
							has := map[string]bool{}
							d.fields(tn, "topic", tf, func(key string, v *yaml.Node) {
								has[key] = true
								switch key {
								case "topic":
									tt.Topic = d.str(v, tf+".topic")
									if strings.ContainsAny(tt.Topic, "+#") {
										d.errorf(v, tf+".topic", "want a topic without wildcards, got %q", tt.Topic)
									}
								case "asset":
									tt.Asset = d.asset(v, tf+".asset")
								case "signal":
									tt.Signal = d.signal(v, tf+".signal")
								case "field":
									tt.Field = d.str(v, tf+".field")
								case "value_map":
									tt.ValueMap = d.valueMap(v, tf+".value_map")
								}
							})
							if !has["topic"] || !has["asset"] || !has["signal"] {
								d.errorf(tn, tf, "want topic, asset and signal")
								continue
							}
							if tt.Topic == "" || tt.Asset == "" || tt.Signal == "" {
								continue
							}
							b.Topics = append(b.Topics, tt)
						}
					case "sparkplug":
						sp := &Sparkplug{}
						d.fields(v, "sparkplug", f, func(key string, v *yaml.Node) {
							g := join(f, key)
							switch key {
							case "group":
								sp.Group = d.str(v, g)
							case "host_id":
								sp.HostID = d.str(v, g)
							case "devices":
								for k, dn := range d.list(v, g) {
									df := fmt.Sprintf("%s[%d]", g, k)
									dev := SparkplugDevice{Metrics: map[string]Signal{}}
									d.fields(dn, "device", df, func(key string, v *yaml.Node) {
										switch key {
										case "edge_node":
											dev.EdgeNode = d.str(v, df+".edge_node")
										case "device":
											dev.Device = d.str(v, df+".device")
										case "asset":
											dev.Asset = d.asset(v, df+".asset")
										case "metrics":
											dv := deref(v)
											if dv == nil || dv.Kind != yaml.MappingNode {
												d.errorf(v, df+".metrics", "want a mapping of metric names to signals, got %s", kindName(v))
												return
											}
											for _, kv := range pairs(dv) {
												dev.Metrics[deref(kv[0]).Value] = d.signal(kv[1], df+".metrics."+deref(kv[0]).Value)
											}
										}
									})
									if dev.EdgeNode == "" || dev.Asset == "" {
										d.errorf(dn, df, "want edge_node, asset and metrics (device is optional)")
										continue
									}
									sp.Devices = append(sp.Devices, dev)
								}
							}
						})
						if sp.Group == "" {
							d.errorf(v, f+".group", "want the Sparkplug group id")
						}
						b.Sparkplug = sp
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
				t.MQTT = append(t.MQTT, b)
			}
		}
	})
}
