// Package maltego implements netcap's Maltego local transforms: the XML
// message Maltego reads from a local transform's stdout, the parsing of the
// arguments Maltego passes, the transforms over audit record folders and the
// generator of an importable Maltego configuration (.mtz).
//
// Whatever happens, a transform writes exactly one MaltegoMessage to its
// output: results, warnings and errors alike. Anything else on stdout makes
// Maltego reject the answer ("Content is not allowed in prolog").
package maltego

import (
	"encoding/xml"
	"io"
)

// UI message types Maltego knows.
const (
	Inform       = "Inform"
	PartialError = "PartialError"
	FatalError   = "FatalError"
	Debug        = "Debug"
)

// Message is the root element of a local transform's answer.
type Message struct {
	XMLName  xml.Name `xml:"MaltegoMessage"`
	Response Response `xml:"MaltegoTransformResponseMessage"`
}

// Response holds the returned entities and the messages shown to the user.
type Response struct {
	Entities   []Entity    `xml:"Entities>Entity"`
	UIMessages []UIMessage `xml:"UIMessages>UIMessage"`
}

// Entity is one returned graph node.
type Entity struct {
	Type   string  `xml:"Type,attr"`
	Value  string  `xml:"Value"`
	Weight int64   `xml:"Weight"`
	Fields []Field `xml:"AdditionalFields>Field,omitempty"`
}

// Field is an additional property of an entity.
type Field struct {
	Name         string `xml:"Name,attr"`
	DisplayName  string `xml:"DisplayName,attr,omitempty"`
	MatchingRule string `xml:"MatchingRule,attr,omitempty"`
	Value        string `xml:",chardata"`
}

// UIMessage is a line shown in Maltego's output window.
type UIMessage struct {
	Type string `xml:"MessageType,attr"`
	Text string `xml:",chardata"`
}

// Field returns the value of the named additional field, "" if absent.
func (e *Entity) Field(name string) string {
	for _, f := range e.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// AddField appends a property that does not take part in entity matching.
func (e *Entity) AddField(name, display, value string) {
	e.Fields = append(e.Fields, Field{Name: name, DisplayName: display, MatchingRule: "loose", Value: value})
}

// Inform, Warn and Fail append UI messages.
func (m *Message) Inform(text string) { m.ui(Inform, text) }

// Warn appends a PartialError message: the transform ran, but not fully.
func (m *Message) Warn(text string) { m.ui(PartialError, text) }

// Fail appends a FatalError message.
func (m *Message) Fail(text string) { m.ui(FatalError, text) }

func (m *Message) ui(typ, text string) {
	m.Response.UIMessages = append(m.Response.UIMessages, UIMessage{Type: typ, Text: sanitize(text)})
}

// sanitize drops characters XML 1.0 cannot carry at all (encoding/xml
// replaces them with U+FFFD, which is valid, but control bytes from a capture
// would make the graph unreadable).
func sanitize(s string) string {
	ok := true
	for _, r := range s {
		if !validXMLRune(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if validXMLRune(r) {
			out = append(out, r)
		} else {
			out = append(out, '\uFFFD')
		}
	}
	return string(out)
}

func validXMLRune(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// WriteTo writes the message as an XML document. It is the only thing a
// transform ever writes to stdout.
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	for i := range m.Response.Entities {
		e := &m.Response.Entities[i]
		e.Value = sanitize(e.Value)
		for j := range e.Fields {
			e.Fields[j].Value = sanitize(e.Fields[j].Value)
		}
	}
	b, err := xml.MarshalIndent(m, "", " ")
	if err != nil {
		// Cannot happen with these types; still answer with valid XML.
		b = []byte(`<MaltegoMessage><MaltegoTransformResponseMessage><Entities></Entities><UIMessages><UIMessage MessageType="FatalError">could not encode the answer</UIMessage></UIMessages></MaltegoTransformResponseMessage></MaltegoMessage>`)
	}
	b = append([]byte(xml.Header), b...)
	b = append(b, '\n')
	n, err := w.Write(b)
	return int64(n), err
}

// Args are the arguments Maltego passes to a local transform: the value of
// the input entity and its properties.
type Args struct {
	Value string
	Props map[string]string
}

// ParseArgs parses "VALUE" and "k=v#k2=v2" as Maltego passes them to a local
// transform. In the property string '#' separates properties and '=' a name
// from its value; a '#', '=' or '\' inside a name or value is escaped with a
// backslash. Missing arguments give empty values.
func ParseArgs(args []string) Args {
	a := Args{Props: map[string]string{}}
	if len(args) > 0 {
		a.Value = args[0]
	}
	if len(args) > 1 {
		for _, kv := range splitUnescaped(args[1], '#') {
			if kv == "" {
				continue
			}
			parts := splitUnescaped(kv, '=')
			k := unescape(parts[0])
			v := ""
			if len(parts) > 1 {
				// Only the first unescaped '=' separates: rejoin the rest.
				rest := kv[len(parts[0])+1:]
				v = unescape(rest)
			}
			a.Props[k] = v
		}
	}
	return a
}

// splitUnescaped splits s at every sep that is not preceded by an escaping
// backslash; the parts keep their escapes.
func splitUnescaped(s string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++ // skip the escaped byte
		case sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func unescape(s string) string {
	if !containsByte(s, '\\') {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b = append(b, s[i])
	}
	return string(b)
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}
