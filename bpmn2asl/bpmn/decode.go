package bpmn

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Limits that keep Parse bounded on hostile input. Real BPMN models nest a
// few dozen levels and hold at most tens of thousands of elements.
const (
	maxDepth    = 256
	maxElements = 500_000
	// maxBytes bounds the input; the largest real models are a few MB.
	maxBytes = 64 << 20
)

// wellKnownPrefix maps prefixes that exporters sometimes use without
// declaring them to the namespace they mean.
var wellKnownPrefix = map[string]string{
	"bpmn": NSModel, "bpmn2": NSModel, "semantic": NSModel, "model": NSModel,
	"bpmndi": NSDI, "zeebe": NSZeebe, "camunda": NSCamunda,
}

// undeclaredUse records an element written with an undeclared well-known
// prefix.
type undeclaredUse struct {
	prefix string
	pos    Pos
}

// xnode is the parser's light DOM: one XML element with resolved namespace,
// attributes (with positions), children and direct text.
type xnode struct {
	space, local string
	prefix       string // as written in the file
	attrs        []xattr
	kids         []*xnode
	text         string
	pos          Pos // '<' of the start tag
	textPos      Pos // first non-space character of the direct text
}

type xattr struct {
	space, local, value string
	pos                 Pos
}

// attr returns the value of the attribute with the given local name in no
// namespace or the BPMN namespace.
func (n *xnode) attr(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.local == local && (a.space == "" || a.space == NSModel) {
			return a.value, true
		}
	}
	return "", false
}

// attrNS returns the value of the attribute (space, local).
func (n *xnode) attrNS(space, local string) (string, bool) {
	for _, a := range n.attrs {
		if a.local == local && a.space == space {
			return a.value, true
		}
	}
	return "", false
}

// attrAt returns the position of an attribute in no/BPMN namespace, or the
// element position.
func (n *xnode) attrAt(local string) Pos {
	for _, a := range n.attrs {
		if a.local == local && (a.space == "" || a.space == NSModel) {
			return a.pos
		}
	}
	return n.pos
}

// attrNSAt returns the position of attribute (space, local), or the
// element position.
func (n *xnode) attrNSAt(space, local string) Pos {
	for _, a := range n.attrs {
		if a.local == local && a.space == space {
			return a.pos
		}
	}
	return n.pos
}

// is reports whether n is the element (space, local).
func (n *xnode) is(space, local string) bool { return n.space == space && n.local == local }

// lines converts byte offsets of the normalised source into positions.
// Offsets are usually asked for in increasing order (tokens, then their
// attributes), so the last answer is kept as a cursor: on a minified
// one-line file each call counts only the runes since the previous one
// instead of from the start of the line.
type lines struct {
	src    []byte
	starts []int // byte offset of each line start
	// cursor: the last offset answered and its position.
	curOff  int
	curLine int // 0-based index into starts
	curCol  int
}

func newLines(src []byte) *lines {
	l := &lines{src: src, starts: []int{0}, curCol: 1}
	for i, c := range src {
		// A lone CR (old Mac line ends) also ends a line, as XML's
		// end-of-line handling says.
		if c == '\n' || (c == '\r' && (i+1 == len(src) || src[i+1] != '\n')) {
			l.starts = append(l.starts, i+1)
		}
	}
	return l
}

// pos returns the 1-based line and rune column of byte offset off.
func (l *lines) pos(off int) Pos {
	if off < 0 {
		off = 0
	}
	if off > len(l.src) {
		off = len(l.src)
	}
	i := sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	var col int
	if i == l.curLine && off >= l.curOff && l.curOff >= l.starts[i] {
		col = l.curCol + utf8.RuneCount(l.src[l.curOff:off])
	} else {
		col = utf8.RuneCount(l.src[l.starts[i]:off]) + 1
	}
	l.curOff, l.curLine, l.curCol = off, i, col
	return Pos{Line: i + 1, Col: col}
}

// decodeError is a failure to read the document: where, what, which code.
type decodeError struct {
	off     int
	pos     Pos
	msg     string
	hint    string
	tooDeep bool
	enc     bool
}

// normalise returns src as UTF-8 without BOM, converting ISO-8859-1,
// windows-1252 and UTF-16 (with BOM) input. The XML declaration is left as
// written; the decoder's CharsetReader then passes the bytes through.
func normalise(src []byte) ([]byte, *decodeError) {
	switch {
	case bytes.HasPrefix(src, []byte{0xEF, 0xBB, 0xBF}):
		return src[3:], nil
	case bytes.HasPrefix(src, []byte{0xFF, 0xFE}), bytes.HasPrefix(src, []byte{0xFE, 0xFF}):
		return fromUTF16(src[2:], src[0] == 0xFE), nil
	case bytes.HasPrefix(src, []byte{'<', 0, '?', 0}):
		return fromUTF16(src, false), nil // UTF-16LE without BOM
	case bytes.HasPrefix(src, []byte{0, '<', 0, '?'}):
		return fromUTF16(src, true), nil // UTF-16BE without BOM
	}
	enc := declaredEncoding(src)
	switch enc {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return src, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1", "iso-ir-100", "cp819", "ibm819":
		return decode8bit(src, charmap.ISO8859_1), nil
	case "windows-1252", "cp1252", "x-cp1252":
		return decode8bit(src, charmap.Windows1252), nil
	case "iso-8859-15", "latin9", "latin-9":
		return decode8bit(src, charmap.ISO8859_15), nil
	case "windows-1251", "cp1251":
		return decode8bit(src, charmap.Windows1251), nil
	case "utf-16", "utf-16le", "utf-16be":
		// A UTF-16 declaration that we can read as 8-bit text means the
		// file was transcoded without fixing the declaration; trust the
		// bytes.
		return src, nil
	}
	return nil, &decodeError{off: 0, msg: fmt.Sprintf("unsupported character encoding %q", enc),
		hint: "save the file as UTF-8 (Camunda Modeler does by default)", enc: true}
}

func decode8bit(src []byte, cm *charmap.Charmap) []byte {
	var b bytes.Buffer
	b.Grow(len(src) + len(src)/8)
	for _, c := range src {
		if c < utf8.RuneSelf {
			b.WriteByte(c)
			continue
		}
		b.WriteRune(cm.DecodeByte(c))
	}
	return b.Bytes()
}

func fromUTF16(src []byte, bigEndian bool) []byte {
	u := make([]uint16, 0, len(src)/2)
	for i := 0; i+1 < len(src); i += 2 {
		if bigEndian {
			u = append(u, uint16(src[i])<<8|uint16(src[i+1]))
		} else {
			u = append(u, uint16(src[i+1])<<8|uint16(src[i]))
		}
	}
	return []byte(string(utf16.Decode(u)))
}

// declaredEncoding returns the lower-cased encoding of the XML declaration
// at the start of src ("" when absent).
func declaredEncoding(src []byte) string {
	s := src
	s = bytes.TrimLeft(s, " \t\r\n")
	if !bytes.HasPrefix(s, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(s, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := s[:end]
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := rest[0]
	j := bytes.IndexByte(rest[1:], q)
	if j < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(string(rest[1 : 1+j])))
}

// readDOM tokenises src (already normalised) into a tree. DI subtrees are
// skipped; hasDI reports whether one was seen.
func readDOM(src []byte, ln *lines) (root *xnode, hasDI bool, undeclared []undeclaredUse, derr *decodeError) {
	d := xml.NewDecoder(bytes.NewReader(src))
	d.Strict = true
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }

	var stack []*xnode
	var text [][]byte
	skip := 0 // depth inside a skipped (DI) subtree
	count := 0
	for {
		off0 := int(d.InputOffset())
		tok, err := d.Token()
		off1 := int(d.InputOffset())
		if err != nil {
			if errors.Is(err, io.EOF) {
				if len(stack) > 0 {
					top := stack[len(stack)-1]
					return nil, hasDI, undeclared, &decodeError{off: off1, pos: ln.pos(off1),
						msg: fmt.Sprintf("unexpected end of file: element <%s> opened at %s is not closed", qname(top.prefix, top.local), top.pos)}
				}
				if root == nil {
					return nil, hasDI, undeclared, &decodeError{off: off1, pos: ln.pos(off1), msg: "the file contains no XML element"}
				}
				return root, hasDI, undeclared, nil
			}
			return nil, hasDI, undeclared, syntaxError(err, ln, off1)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if count > maxElements {
				return nil, hasDI, undeclared, &decodeError{off: off0, pos: ln.pos(off0), msg: fmt.Sprintf("more than %d elements", maxElements), tooDeep: true}
			}
			if skip > 0 {
				skip++
				continue
			}
			if len(stack) >= maxDepth {
				return nil, hasDI, undeclared, &decodeError{off: off0, pos: ln.pos(off0), msg: fmt.Sprintf("elements nest deeper than %d levels", maxDepth), tooDeep: true}
			}
			if ns, ok := wellKnownPrefix[t.Name.Space]; ok {
				// An undeclared prefix: encoding/xml leaves the prefix as
				// the space. Read it as the namespace tools mean by it.
				undeclared = append(undeclared, undeclaredUse{prefix: t.Name.Space, pos: ln.pos(off0)})
				t.Name.Space = ns
			}
			if t.Name.Space == NSDI && len(stack) > 0 {
				hasDI = true
				skip = 1
				continue
			}
			n := &xnode{space: t.Name.Space, local: t.Name.Local, pos: ln.pos(off0)}
			raw := rawAttrs(src, off0, off1)
			n.prefix = raw.prefix
			j := 0
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				p := n.pos
				for k := j; k < len(raw.attrs); k++ {
					if raw.attrs[k].local == a.Name.Local {
						p = ln.pos(raw.attrs[k].off)
						j = k + 1
						break
					}
				}
				space := a.Name.Space
				if ns, ok := wellKnownPrefix[space]; ok {
					space = ns
				}
				n.attrs = append(n.attrs, xattr{space: space, local: a.Name.Local, value: a.Value, pos: p})
			}
			if len(stack) == 0 {
				if root != nil {
					// encoding/xml rejects a second root; keep the first.
					continue
				}
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, n)
			}
			stack = append(stack, n)
			text = append(text, nil)
		case xml.EndElement:
			// (end tags need no namespace fix-up: the tree is built from
			// start tags only)
			if skip > 0 {
				skip--
				continue
			}
			if len(stack) == 0 {
				continue
			}
			n := stack[len(stack)-1]
			n.text = string(text[len(text)-1])
			stack = stack[:len(stack)-1]
			text = text[:len(text)-1]
		case xml.CharData:
			if skip > 0 || len(stack) == 0 {
				continue
			}
			n := stack[len(stack)-1]
			if n.textPos == (Pos{}) {
				if k := firstNonSpace(src, off0, off1); k >= 0 {
					n.textPos = ln.pos(k)
				}
			}
			text[len(text)-1] = append(text[len(text)-1], t...)
		}
	}
}

func firstNonSpace(src []byte, from, to int) int {
	if to > len(src) {
		to = len(src)
	}
	for i := from; i < to; i++ {
		switch src[i] {
		case ' ', '\t', '\r', '\n':
		default:
			if bytes.HasPrefix(src[i:to], []byte("<![CDATA[")) {
				// The text starts after the CDATA opener.
				return firstNonSpace(src, i+len("<![CDATA["), to)
			}
			return i
		}
	}
	return -1
}

func qname(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

// syntaxError turns an encoding/xml error into a decodeError positioned at
// the decoder's offset (the line encoding/xml reports agrees with ours; our
// column counts runes).
func syntaxError(err error, ln *lines, off int) *decodeError {
	msg := err.Error()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		msg = se.Msg
	}
	return &decodeError{off: off, pos: ln.pos(off), msg: "malformed XML: " + msg}
}

// rawTag is the result of scanning a start tag's bytes: the element's
// prefix and each attribute's local name and byte offset.
type rawTag struct {
	prefix string
	attrs  []rawAttr
}

type rawAttr struct {
	local string
	off   int
}

// rawAttrs scans src[from:to], the bytes of one start tag, for attribute
// names. It is lenient: the decoder has already validated the tag.
func rawAttrs(src []byte, from, to int) rawTag {
	var rt rawTag
	if from < 0 || to > len(src) || from >= to {
		return rt
	}
	i := from
	// Skip to '<' (defensive) and the element name.
	for i < to && src[i] != '<' {
		i++
	}
	i++
	start := i
	for i < to && !isSpace(src[i]) && src[i] != '>' && src[i] != '/' {
		i++
	}
	if name := string(src[start:i]); strings.Contains(name, ":") {
		rt.prefix = name[:strings.IndexByte(name, ':')]
	}
	for i < to {
		for i < to && isSpace(src[i]) {
			i++
		}
		if i >= to || src[i] == '>' || src[i] == '/' {
			break
		}
		nameStart := i
		for i < to && !isSpace(src[i]) && src[i] != '=' && src[i] != '>' {
			i++
		}
		name := string(src[nameStart:i])
		local := name
		if k := strings.LastIndexByte(name, ':'); k >= 0 {
			local = name[k+1:]
		}
		rt.attrs = append(rt.attrs, rawAttr{local: local, off: nameStart})
		for i < to && isSpace(src[i]) {
			i++
		}
		if i < to && src[i] == '=' {
			i++
		}
		for i < to && isSpace(src[i]) {
			i++
		}
		if i < to && (src[i] == '"' || src[i] == '\'') {
			q := src[i]
			i++
			for i < to && src[i] != q {
				i++
			}
			i++
		}
	}
	return rt
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// checkDeclaration validates the XML declaration, which encoding/xml reads
// as an ordinary processing instruction without checking its syntax.
// It returns the byte offset and message of the first problem, or -1.
func checkDeclaration(src []byte) (int, string) {
	if !bytes.HasPrefix(src, []byte("<?xml")) || len(src) < 6 || !(isSpace(src[5]) || src[5] == '?') {
		return -1, ""
	}
	end := bytes.Index(src, []byte("?>"))
	if end < 0 {
		return 0, "the XML declaration is not closed with ?>"
	}
	i := 5
	seen := map[string]bool{}
	order := []string{"version", "encoding", "standalone"}
	next := 0
	for {
		ws := i
		for i < end && isSpace(src[i]) {
			i++
		}
		if i >= end {
			break
		}
		if i == ws {
			return i, "missing white space between pseudo-attributes of the XML declaration"
		}
		start := i
		for i < end && src[i] != '=' && !isSpace(src[i]) {
			i++
		}
		name := string(src[start:i])
		k := -1
		for j := next; j < len(order); j++ {
			if order[j] == name {
				k = j
			}
		}
		if k < 0 || seen[name] {
			return start, fmt.Sprintf("unexpected %q in the XML declaration", name)
		}
		seen[name] = true
		next = k + 1
		for i < end && isSpace(src[i]) {
			i++
		}
		if i >= end || src[i] != '=' {
			return i, "missing '=' in the XML declaration"
		}
		i++
		for i < end && isSpace(src[i]) {
			i++
		}
		if i >= end || (src[i] != '"' && src[i] != '\'') {
			return i, "missing quote in the XML declaration"
		}
		q := src[i]
		j := bytes.IndexByte(src[i+1:end], q)
		if j < 0 {
			return i, "unterminated value in the XML declaration"
		}
		i += j + 2
	}
	if !seen["version"] {
		return 0, "the XML declaration has no version"
	}
	return -1, ""
}
