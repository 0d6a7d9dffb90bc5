package scctest

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"unicode/utf8"
)

// nsXML is the namespace bound to the xml: prefix.
const nsXML = "http://www.w3.org/XML/1998/namespace"

// parseXML parses a request body into a tree with namespaces resolved.
//
// It is a small, strict, single-pass parser for the XML that SOAP requests
// use: elements, attributes, namespace declarations, character and entity
// references, CDATA, comments and processing instructions. DOCTYPE
// declarations are refused (no entity expansion), as are encodings other
// than UTF-8. It exists because encoding/xml's Decoder dominated the cost of
// a request; FuzzParseXML checks it against encoding/xml.
func parseXML(body []byte) (*node, *xmlError) {
	p := xmlParser{b: body, line: 1}
	return p.parse()
}

// nsBinding is one namespace declaration in scope; prev is the index of
// the binding of the same prefix it hides (-1 for none).
type nsBinding struct {
	prefix, uri string
	prev        int
}

type xmlParser struct {
	b         []byte
	i         int
	line      int
	lineStart int
	counted   int // bytes up to here have been counted for lines
	ns        []nsBinding
	nsTop     map[string]int // prefix -> index in ns of its binding in scope
	docStart  int            // offset after the byte order mark, where <?xml may be
}

func (p *xmlParser) pos(off int) (line, col int) {
	if off < p.counted {
		// Recount from the start (only on errors pointing backwards).
		p.line, p.lineStart, p.counted = 1, 0, 0
	}
	for {
		j := bytes.IndexByte(p.b[p.counted:off], '\n')
		if j < 0 {
			break
		}
		p.line++
		p.counted += j + 1
		p.lineStart = p.counted
	}
	p.counted = off
	return p.line, utf8.RuneCount(p.b[p.lineStart:off]) + 1
}

func (p *xmlParser) fail(off int, msg string) *xmlError {
	off = min(off, len(p.b))
	l, c := p.pos(off)
	return &xmlError{line: l, col: c, msg: msg}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isNameByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':', c >= 0x80:
		return true
	case c >= '0' && c <= '9', c == '-', c == '.':
		return !first
	}
	return false
}

func (p *xmlParser) skipSpace() {
	for p.i < len(p.b) && isSpace(p.b[p.i]) {
		p.i++
	}
}

func (p *xmlParser) name() (string, *xmlError) {
	start := p.i
	if p.i >= len(p.b) || !isNameByte(p.b[p.i], true) {
		return "", p.fail(p.i, "expected a name")
	}
	for p.i < len(p.b) && isNameByte(p.b[p.i], false) {
		p.i++
	}
	n := string(p.b[start:p.i])
	if !utf8.ValidString(n) {
		return "", p.fail(start, "invalid UTF-8 in name")
	}
	return n, nil
}

// qname reads an element or attribute name and checks that it is a
// qualified name of Namespaces in XML: a local name with at most one
// prefix, neither of them empty (so "<:/>", "<a:/>" and "<a:b:c/>" are
// refused rather than parsed into an empty or mangled name).
func (p *xmlParser) qname() (string, *xmlError) {
	start := p.i
	n, err := p.name()
	if err != nil {
		return "", err
	}
	if c := strings.Count(n, ":"); c > 1 || (c == 1 && (n[0] == ':' || n[len(n)-1] == ':')) {
		return "", p.fail(start, "invalid qualified name "+strconv.Quote(n))
	}
	return n, nil
}

// skipMisc skips comments, processing instructions and whitespace; it
// refuses DOCTYPE. It returns at '<' of an element or at end of input.
func (p *xmlParser) skipMisc(allowText bool) *xmlError {
	for {
		p.skipSpace()
		if p.i >= len(p.b) {
			return nil
		}
		if p.b[p.i] != '<' {
			if allowText {
				return nil
			}
			return p.fail(p.i, "text outside the root element")
		}
		rest := p.b[p.i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 {
				return p.fail(p.i, "unterminated comment")
			}
			p.i += 4 + end + 3
		case bytes.HasPrefix(rest, []byte("<?")):
			if err := p.pi(); err != nil {
				return err
			}
		case bytes.HasPrefix(rest, []byte("<!")):
			return p.fail(p.i, "DOCTYPE and other declarations are not allowed")
		default:
			return nil
		}
	}
}

// pi skips a processing instruction at p.i ("<?target ...?>"). The XML
// declaration ("<?xml ...?>") is checked: it may only open the document,
// must say version 1.0 and may only name UTF-8 (or its ASCII subset).
// Other targets that XML reserves (any case of "xml") are refused.
func (p *xmlParser) pi() *xmlError {
	start := p.i
	end := bytes.Index(p.b[p.i:], []byte("?>"))
	if end < 0 {
		return p.fail(start, "unterminated processing instruction")
	}
	p.i += 2
	target, err := p.name()
	if err != nil {
		return p.fail(start, "processing instruction without a target")
	}
	if p.i < start+end && !isSpace(p.b[p.i]) {
		return p.fail(p.i, "expected whitespace after the processing instruction target")
	}
	if strings.EqualFold(target, "xml") {
		if target != "xml" || start != p.docStart {
			return p.fail(start, "the XML declaration <?xml ...?> is only allowed, in lower case, at the start of the document")
		}
		if err := p.checkDecl(p.i, start+end); err != nil {
			return err
		}
	}
	p.i = start + end + 2
	return nil
}

// checkDecl checks the pseudo-attributes of the XML declaration in
// p.b[from:to]: version="1.0", then optionally encoding (UTF-8 or ASCII)
// and standalone ("yes" or "no"), in that order.
func (p *xmlParser) checkDecl(from, to int) *xmlError {
	i := from
	seen := 0 // index into want of the next allowed pseudo-attribute
	want := []string{"version", "encoding", "standalone"}
	for {
		ws := i
		for i < to && isSpace(p.b[i]) {
			i++
		}
		if i >= to {
			break
		}
		if i == ws {
			return p.fail(i, "expected whitespace in the XML declaration")
		}
		ns := i
		for i < to && p.b[i] != '=' && !isSpace(p.b[i]) {
			i++
		}
		name := string(p.b[ns:i])
		k := seen
		for k < len(want) && want[k] != name {
			k++
		}
		if k == len(want) || (seen == 0 && k != 0) {
			return p.fail(ns, "unexpected "+strconv.Quote(name)+" in the XML declaration (want version, then encoding and standalone)")
		}
		seen = k + 1
		for i < to && isSpace(p.b[i]) {
			i++
		}
		if i >= to || p.b[i] != '=' {
			return p.fail(i, "expected '=' after "+name+" in the XML declaration")
		}
		i++
		for i < to && isSpace(p.b[i]) {
			i++
		}
		if i >= to || (p.b[i] != '"' && p.b[i] != '\'') {
			return p.fail(i, "the "+name+" of the XML declaration must be quoted")
		}
		q := p.b[i]
		j := bytes.IndexByte(p.b[i+1:to], q)
		if j < 0 {
			return p.fail(i, "unterminated "+name+" in the XML declaration")
		}
		v := string(p.b[i+1 : i+1+j])
		switch name {
		case "version":
			if v != "1.0" {
				return p.fail(ns, "unsupported XML version "+strconv.Quote(v)+"; only 1.0 is supported")
			}
		case "encoding":
			switch strings.ToLower(v) {
			case "utf-8", "utf8", "us-ascii", "ascii":
			default:
				return p.fail(ns, "unsupported encoding "+strconv.Quote(v))
			}
		case "standalone":
			if v != "yes" && v != "no" {
				return p.fail(ns, "standalone must be \"yes\" or \"no\", not "+strconv.Quote(v))
			}
		}
		i += 1 + j + 1
	}
	if seen == 0 {
		return p.fail(from, "the XML declaration has no version")
	}
	return nil
}

func (p *xmlParser) parse() (*node, *xmlError) {
	if bytes.HasPrefix(p.b, []byte("\xef\xbb\xbf")) {
		p.i = 3
	}
	p.docStart = p.i
	if err := p.skipMisc(false); err != nil {
		return nil, err
	}
	if p.i >= len(p.b) {
		return nil, p.fail(p.i, "root element is missing")
	}
	p.ns, p.nsTop = p.ns[:0], map[string]int{}
	p.bind("xml", nsXML)
	p.bind("xmlns", "http://www.w3.org/2000/xmlns/")
	root, err := p.element(0)
	if err != nil {
		return nil, err
	}
	if err := p.skipMisc(false); err != nil {
		return nil, err
	}
	if p.i < len(p.b) {
		return nil, p.fail(p.i, "more than one root element")
	}
	return root, nil
}

func (p *xmlParser) lookup(prefix string) (string, bool) {
	if k, ok := p.nsTop[prefix]; ok {
		return p.ns[k].uri, true
	}
	return "", prefix == ""
}

// bind declares prefix for uri in the current element's scope. Lookups
// are a map access, so that many declarations in scope cost no more per
// name (a scan of them made a 1.4 MB request take 20 s).
func (p *xmlParser) bind(prefix, uri string) {
	prev, ok := p.nsTop[prefix]
	if !ok {
		prev = -1
	}
	p.nsTop[prefix] = len(p.ns)
	p.ns = append(p.ns, nsBinding{prefix, uri, prev})
}

// unbind ends the scope of the declarations from mark on.
func (p *xmlParser) unbind(mark int) {
	for k := len(p.ns) - 1; k >= mark; k-- {
		if b := p.ns[k]; b.prev >= 0 {
			p.nsTop[b.prefix] = b.prev
		} else {
			delete(p.nsTop, b.prefix)
		}
	}
	p.ns = p.ns[:mark]
}

// element parses one element starting at '<'.
func (p *xmlParser) element(depth int) (*node, *xmlError) {
	if depth >= maxDepth {
		return nil, p.fail(p.i, "document is nested too deeply")
	}
	start := p.i
	p.i++ // '<'
	qname, err := p.qname()
	if err != nil {
		return nil, err
	}
	n := &node{src: p.b, off: start}
	nsMark := len(p.ns)
	var raw []rawAttr
	var seen map[string]struct{} // attribute names, once there are many
	selfClosing := false
	for {
		hadSpace := p.i < len(p.b) && isSpace(p.b[p.i])
		p.skipSpace()
		if p.i >= len(p.b) {
			return nil, p.fail(p.i, "unexpected end of input in a start tag")
		}
		c := p.b[p.i]
		if c == '>' {
			p.i++
			break
		}
		if c == '/' {
			if p.i+1 >= len(p.b) || p.b[p.i+1] != '>' {
				return nil, p.fail(p.i, "expected '/>'")
			}
			p.i += 2
			selfClosing = true
			break
		}
		if !hadSpace {
			return nil, p.fail(p.i, "expected whitespace before an attribute")
		}
		aoff := p.i
		an, err := p.qname()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.i >= len(p.b) || p.b[p.i] != '=' {
			return nil, p.fail(p.i, "attribute "+an+" has no value")
		}
		p.i++
		p.skipSpace()
		if p.i >= len(p.b) || (p.b[p.i] != '"' && p.b[p.i] != '\'') {
			return nil, p.fail(p.i, "attribute value must be quoted")
		}
		q := p.b[p.i]
		p.i++
		vs := p.i
		end := bytes.IndexByte(p.b[vs:], q)
		if end < 0 {
			return nil, p.fail(vs, "unterminated attribute value")
		}
		p.i = vs + end + 1
		vb, err := p.unescape(p.b[vs:vs+end], vs, true)
		v := string(vb)
		if err != nil {
			return nil, err
		}
		if duplicateAttr(raw, &seen, an) {
			return nil, p.fail(aoff, "duplicate attribute "+an)
		}
		switch {
		case an == "xmlns":
			p.bind("", v)
		case strings.HasPrefix(an, "xmlns:"):
			if v == "" {
				return nil, p.fail(aoff, "empty namespace for prefix "+an[6:])
			}
			p.bind(an[6:], v)
		}
		raw = append(raw, rawAttr{an, v, aoff})
	}
	// Resolve names now that this element's declarations are in scope.
	prefix, local := splitQName(qname)
	uri, ok := p.lookup(prefix)
	if !ok {
		return nil, p.fail(start, "undeclared namespace prefix "+prefix)
	}
	n.name = xml.Name{Space: uri, Local: local}
	if len(raw) > 0 {
		n.attrs = make([]xml.Attr, 0, len(raw))
		for _, a := range raw {
			ap, al := splitQName(a.name)
			var space string
			switch {
			case a.name == "xmlns":
				space, al = "", "xmlns"
			case ap == "xmlns":
				space = "xmlns"
			case ap != "":
				u, ok := p.lookup(ap)
				if !ok {
					return nil, p.fail(a.off, "undeclared namespace prefix "+ap)
				}
				space = u
			}
			n.attrs = append(n.attrs, xml.Attr{Name: xml.Name{Space: space, Local: al}, Value: a.value})
		}
	}
	if selfClosing {
		p.unbind(nsMark)
		return n, nil
	}
	// Content.
	var text []byte
	for {
		if p.i >= len(p.b) {
			return nil, p.fail(p.i, "element "+qname+" is not closed")
		}
		lt := bytes.IndexByte(p.b[p.i:], '<')
		if lt < 0 {
			return nil, p.fail(len(p.b), "element "+qname+" is not closed")
		}
		if lt > 0 {
			if j := bytes.Index(p.b[p.i:p.i+lt], []byte("]]>")); j >= 0 {
				return nil, p.fail(p.i+j, "unescaped ]]> outside a CDATA section")
			}
			chunk, err := p.unescape(p.b[p.i:p.i+lt], p.i, false)
			if err != nil {
				return nil, err
			}
			text = append(text, chunk...)
			p.i += lt
		}
		rest := p.b[p.i:]
		switch {
		case bytes.HasPrefix(rest, []byte("</")):
			endStart := p.i
			p.i += 2
			endName, err := p.qname()
			if err != nil {
				return nil, err
			}
			if endName != qname {
				return nil, p.fail(endStart, "element <"+qname+"> closed by </"+endName+">")
			}
			p.skipSpace()
			if p.i >= len(p.b) || p.b[p.i] != '>' {
				return nil, p.fail(p.i, "expected '>'")
			}
			p.i++
			if len(n.kids) == 0 {
				n.text = string(text)
			}
			p.unbind(nsMark)
			return n, nil
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 {
				return nil, p.fail(p.i, "unterminated comment")
			}
			p.i += 4 + end + 3
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end := bytes.Index(rest[9:], []byte("]]>"))
			if end < 0 {
				return nil, p.fail(p.i, "unterminated CDATA section")
			}
			cd := rest[9 : 9+end]
			if !utf8.Valid(cd) {
				return nil, p.fail(p.i, "invalid UTF-8")
			}
			text = append(text, cd...)
			p.i += 9 + end + 3
		case bytes.HasPrefix(rest, []byte("<?")):
			if err := p.pi(); err != nil {
				return nil, err
			}
		case bytes.HasPrefix(rest, []byte("<!")):
			return nil, p.fail(p.i, "declarations are not allowed in content")
		default:
			kid, err := p.element(depth + 1)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, kid)
			text = text[:0]
		}
	}
}

// rawAttr is an attribute as written, before namespace resolution.
type rawAttr struct {
	name, value string
	off         int
}

// fewAttrs is up to how many attributes duplicateAttr compares names one
// by one; past it, it keeps a set, so the check stays linear in the
// number of attributes (a start tag with 40,000 attributes cost seconds).
const fewAttrs = 8

// duplicateAttr reports whether name is among the attributes raw of an
// element, and records it in *seen once the element has many.
func duplicateAttr(raw []rawAttr, seen *map[string]struct{}, name string) bool {
	if len(raw) < fewAttrs {
		for _, a := range raw {
			if a.name == name {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[string]struct{}, 2*len(raw))
		for _, a := range raw {
			(*seen)[a.name] = struct{}{}
		}
	}
	if _, dup := (*seen)[name]; dup {
		return true
	}
	(*seen)[name] = struct{}{}
	return false
}

func splitQName(q string) (prefix, local string) {
	if i := strings.IndexByte(q, ':'); i >= 0 {
		return q[:i], q[i+1:]
	}
	return "", q
}

// unescape decodes character and entity references in text or an
// attribute value and checks the characters XML allows.
func (p *xmlParser) unescape(b []byte, off int, attr bool) ([]byte, *xmlError) {
	if !utf8.Valid(b) {
		return nil, p.fail(off, "invalid UTF-8")
	}
	amp := bytes.IndexByte(b, '&')
	for i, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return nil, p.fail(off+i, "illegal character code "+strconv.Itoa(int(c)))
		}
		if attr && c == '<' {
			return nil, p.fail(off+i, "'<' in an attribute value")
		}
	}
	if amp < 0 && bytes.IndexByte(b, '\r') < 0 {
		return b, nil
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c == '\r' {
			// Line-end normalisation: CR LF and lone CR become LF.
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
				continue
			}
			out = append(out, '\n')
			i++
			continue
		}
		if c != '&' {
			out = append(out, c)
			i++
			continue
		}
		semi := bytes.IndexByte(b[i:], ';')
		if semi < 0 {
			return nil, p.fail(off+i, "unterminated entity reference")
		}
		ent := string(b[i+1 : i+semi])
		switch ent {
		case "lt":
			out = append(out, '<')
		case "gt":
			out = append(out, '>')
		case "amp":
			out = append(out, '&')
		case "quot":
			out = append(out, '"')
		case "apos":
			out = append(out, '\'')
		default:
			if len(ent) < 2 || ent[0] != '#' {
				return nil, p.fail(off+i, "unknown entity &"+ent+";")
			}
			var v uint64
			var err error
			if ent[1] == 'x' {
				v, err = strconv.ParseUint(ent[2:], 16, 32)
			} else {
				v, err = strconv.ParseUint(ent[1:], 10, 32)
			}
			r := rune(v)
			if err != nil || !utf8.ValidRune(r) || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF {
				return nil, p.fail(off+i, "invalid character reference &"+ent+";")
			}
			out = utf8.AppendRune(out, r)
		}
		i += semi + 1
	}
	return out, nil
}
