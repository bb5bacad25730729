package connector

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/posluha/posluha/query/value"
)

// Namespaces of the X-Road message protocol 4.0 (PR-MESS).
const (
	nsSOAPEnv = "http://schemas.xmlsoap.org/soap/envelope/"
	nsXRoad   = "http://x-road.eu/xsd/xroad.xsd"
	nsIDs     = "http://x-road.eu/xsd/identifiers"
	nsXSI     = "http://www.w3.org/2001/XMLSchema-instance"
)

// soapHeader is what goes into an X-Road 4.0 SOAP header.
type soapHeader struct {
	client, service []string
	id, userID      string
	issue           string
}

// appendEnvelope writes a SOAP request: the X-Road header and a body whose
// single element is op in namespace ns, with body's members as children.
func appendEnvelope(dst []byte, h soapHeader, ns, op string, body any) ([]byte, error) {
	dst = append(dst, `<?xml version="1.0" encoding="UTF-8"?>`+
		`<SOAP-ENV:Envelope xmlns:SOAP-ENV="`+nsSOAPEnv+`" xmlns:xrd="`+nsXRoad+`" xmlns:id="`+nsIDs+`" xmlns:xsi="`+nsXSI+`">`+
		`<SOAP-ENV:Header>`...)
	objType := "MEMBER"
	if len(h.client) == 4 {
		objType = "SUBSYSTEM"
	}
	dst = append(dst, `<xrd:client id:objectType="`+objType+`">`...)
	dst = appendIdentifier(dst, h.client)
	dst = append(dst, `</xrd:client><xrd:service id:objectType="SERVICE">`...)
	dst = appendIdentifier(dst, h.service)
	dst = append(dst, `</xrd:service>`...)
	dst = appendTextElem(dst, "xrd:id", h.id)
	if h.userID != "" {
		dst = appendTextElem(dst, "xrd:userId", h.userID)
	}
	if h.issue != "" {
		dst = appendTextElem(dst, "xrd:issue", h.issue)
	}
	dst = append(dst, `<xrd:protocolVersion>4.0</xrd:protocolVersion></SOAP-ENV:Header><SOAP-ENV:Body>`...)
	dst = append(dst, `<ns:`+op+` xmlns:ns="`...)
	dst = appendEscaped(dst, ns)
	dst = append(dst, `">`...)
	switch b := body.(type) {
	case nil:
	case *value.Object:
		var err error
		for _, m := range b.Members() {
			if dst, err = appendXMLValue(dst, m.Key, m.Value, 0); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("a SOAP request is an object of elements, got %s", value.TypeName(body))
	}
	dst = append(dst, `</ns:`+op+`></SOAP-ENV:Body></SOAP-ENV:Envelope>`...)
	return dst, nil
}

var identifierParts = []string{"id:xRoadInstance", "id:memberClass", "id:memberCode", "id:subsystemCode", "id:serviceCode", "id:serviceVersion"}

// appendIdentifier writes the parts of a client or service identifier; a
// member-level client has three parts, a service five or six.
func appendIdentifier(dst []byte, parts []string) []byte {
	for i, p := range parts {
		dst = appendTextElem(dst, identifierParts[i], p)
	}
	return dst
}

func appendTextElem(dst []byte, name, text string) []byte {
	dst = append(dst, '<')
	dst = append(dst, name...)
	dst = append(dst, '>')
	dst = appendEscaped(dst, text)
	dst = append(dst, "</"...)
	dst = append(dst, name...)
	return append(dst, '>')
}

func appendEscaped(dst []byte, s string) []byte {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // writes to a buffer, cannot fail
	return append(dst, b.Bytes()...)
}

const maxDepth = 64

// appendXMLValue writes v as element name: arrays repeat the element,
// objects nest, null is xsi:nil.
func appendXMLValue(dst []byte, name string, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errors.New("request nests too deep")
	}
	if !xmlNamePattern.MatchString(name) || strings.HasPrefix(strings.ToLower(name), "xml") {
		return nil, fmt.Errorf("key %q is not an XML element name", name)
	}
	switch t := v.(type) {
	case []any:
		var err error
		for _, e := range t {
			if dst, err = appendXMLValue(dst, name, e, depth+1); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case nil:
		return append(dst, "<"+name+` xsi:nil="true"/>`...), nil
	case *value.Object:
		dst = append(dst, "<"+name+">"...)
		var err error
		for _, m := range t.Members() {
			if dst, err = appendXMLValue(dst, m.Key, m.Value, depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, "</"+name+">"...), nil
	case string:
		return appendTextElem(dst, name, t), nil
	case bool:
		if t {
			return appendTextElem(dst, name, "true"), nil
		}
		return appendTextElem(dst, name, "false"), nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, fmt.Errorf("%s: number %v has no XML form", name, t)
		}
		return appendTextElem(dst, name, string(value.AppendNumber(nil, t))), nil
	}
	return nil, fmt.Errorf("%s: %T has no XML form", name, v)
}

// xmlNode is an element of a decoded SOAP message.
type xmlNode struct {
	space, local string
	children     []*xmlNode
	text         strings.Builder
	nil          bool
}

func (n *xmlNode) child(space, local string) *xmlNode {
	for _, c := range n.children {
		if c.local == local && (space == "" || c.space == space) {
			return c
		}
	}
	return nil
}

// parseXML reads one XML document into a tree, refusing DTDs (entity
// expansion) and nesting deeper than maxDepth.
func parseXML(body []byte) (*xmlNode, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "us-ascii") {
			return r, nil
		}
		return nil, fmt.Errorf("charset %q: only UTF-8 is accepted", label)
	}
	var root *xmlNode
	var stack []*xmlNode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, errors.New("XML nests too deep")
			}
			n := &xmlNode{space: t.Name.Space, local: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == nsXSI && a.Name.Local == "nil" && (a.Value == "true" || a.Value == "1") {
					n.nil = true
				}
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, errors.New("text outside the root element")
				}
				continue
			}
			stack[len(stack)-1].text.Write(t)
		case xml.Directive:
			return nil, errors.New("DTDs are not accepted")
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// soapFault is a decoded SOAP 1.1 fault.
type soapFault struct {
	code, text string
}

// envelope is a decoded SOAP message: the Body's first element or its
// fault, and the X-Road message id of the header ("" when absent).
type envelope struct {
	body  *xmlNode
	fault *soapFault
	id    string
}

// decodeEnvelope returns the first element of the SOAP Body, or the fault
// the Body holds.
func decodeEnvelope(body []byte) (envelope, error) {
	root, err := parseXML(body)
	if err != nil {
		return envelope{}, fmt.Errorf("XML: %w", err)
	}
	if root.space != nsSOAPEnv || root.local != "Envelope" {
		return envelope{}, fmt.Errorf("root element is %s, not a SOAP 1.1 Envelope", root.local)
	}
	var env envelope
	if h := root.child(nsSOAPEnv, "Header"); h != nil {
		if id := h.child(nsXRoad, "id"); id != nil {
			env.id = strings.TrimSpace(id.text.String())
		}
	}
	b := root.child(nsSOAPEnv, "Body")
	if b == nil {
		return envelope{}, errors.New("envelope has no Body")
	}
	if len(b.children) == 0 {
		return envelope{}, errors.New("SOAP Body is empty")
	}
	first := b.children[0]
	if first.space == nsSOAPEnv && first.local == "Fault" {
		f := &soapFault{}
		if c := first.child("", "faultcode"); c != nil {
			f.code = strings.TrimSpace(c.text.String())
			// faultcode is a QName: drop the prefix (SOAP-ENV:Server.X → Server.X).
			if i := strings.IndexByte(f.code, ':'); i >= 0 {
				f.code = f.code[i+1:]
			}
		}
		if c := first.child("", "faultstring"); c != nil {
			f.text = strings.TrimSpace(c.text.String())
		}
		env.fault = f
		return env, nil
	}
	env.body = first
	return env, nil
}

// xmlToValue turns an element into the data model: an element with
// children is an object keyed by local name (repeated names, and names in
// arrays, become arrays), a leaf is its text, xsi:nil is null. XML has no
// numbers: mappings convert with $number().
func xmlToValue(n *xmlNode, arrays map[string]bool) any {
	if n.nil {
		return nil
	}
	if len(n.children) == 0 {
		return strings.TrimSpace(n.text.String())
	}
	o := value.NewObject(len(n.children))
	counts := make(map[string]int, len(n.children))
	for _, c := range n.children {
		counts[c.local]++
	}
	for _, c := range n.children {
		v := xmlToValue(c, arrays)
		if counts[c.local] > 1 || arrays[c.local] {
			prev, _ := o.Get(c.local)
			list, _ := prev.([]any)
			o.Set(c.local, append(list, v))
			continue
		}
		o.Set(c.local, v)
	}
	return o
}
