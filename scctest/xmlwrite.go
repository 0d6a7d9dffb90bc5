package scctest

import (
	"bytes"
	"unicode/utf8"
)

// elem is an element of a response document. It offers the small subset of
// the etree API the response builders use (CreateElement, CreateAttr,
// SetText) with a serialiser that escapes every attribute value and text;
// building responses with etree cost about 40% of serving a request.
type elem struct {
	tag   string // qualified name, e.g. "t:FolderId"
	attrs []attr
	kids  []*elem
	text  string
}

type attr struct{ key, value string }

// CreateElement appends a child element.
func (e *elem) CreateElement(tag string) *elem {
	c := &elem{tag: tag}
	e.kids = append(e.kids, c)
	return c
}

// CreateAttr adds an attribute.
func (e *elem) CreateAttr(key, value string) {
	e.attrs = append(e.attrs, attr{key, value})
}

// SetText sets the element's text.
func (e *elem) SetText(s string) { e.text = s }

// document is a response document: an XML declaration and a root.
type document struct{ root *elem }

func newDoc() *document { return &document{} }

// CreateElement sets the root element.
func (d *document) CreateElement(tag string) *elem {
	d.root = &elem{tag: tag}
	return d.root
}

// xmlDecl is the declaration every document starts with.
const xmlDecl = `<?xml version="1.0" encoding="utf-8"?>`

// WriteTo serialises the document, growing buf once to the size it will
// have unless something needs escaping.
func (d *document) WriteTo(buf *bytes.Buffer) {
	n := len(xmlDecl)
	if d.root != nil {
		n += d.root.size()
	}
	buf.Grow(n)
	buf.WriteString(xmlDecl)
	if d.root != nil {
		d.root.write(buf)
	}
}

// size is the length of e written, with nothing escaped.
func (e *elem) size() int {
	n := 1 + len(e.tag) // <tag
	for _, a := range e.attrs {
		n += 1 + len(a.key) + 2 + len(a.value) + 1 // ␠key="value"
	}
	if len(e.kids) == 0 && e.text == "" {
		return n + 2 // />
	}
	n += 1 + len(e.text) + 2 + len(e.tag) + 1 // >text</tag>
	for _, k := range e.kids {
		n += k.size()
	}
	return n
}

func (e *elem) write(buf *bytes.Buffer) {
	buf.WriteByte('<')
	buf.WriteString(e.tag)
	for _, a := range e.attrs {
		buf.WriteByte(' ')
		buf.WriteString(a.key)
		buf.WriteString(`="`)
		escape(buf, a.value, true)
		buf.WriteByte('"')
	}
	if len(e.kids) == 0 && e.text == "" {
		buf.WriteString("/>")
		return
	}
	buf.WriteByte('>')
	escape(buf, e.text, false)
	for _, k := range e.kids {
		k.write(buf)
	}
	buf.WriteString("</")
	buf.WriteString(e.tag)
	buf.WriteByte('>')
}

// escape writes s with the XML special characters escaped. Characters XML
// 1.0 cannot carry (most C0 controls, invalid UTF-8) become U+FFFD, so a
// response is always well-formed whatever a test stored.
func escape(buf *bytes.Buffer, s string, inAttr bool) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var rep string
		width := 1
		switch {
		case c == '<':
			rep = "&lt;"
		case c == '>':
			rep = "&gt;"
		case c == '&':
			rep = "&amp;"
		case c == '"' && inAttr:
			rep = "&quot;"
		case c == '\n' && inAttr:
			rep = "&#xA;"
		case c == '\r':
			rep = "&#xD;"
		case c == '\t' && inAttr:
			rep = "&#x9;"
		case c < 0x20 && c != '\t' && c != '\n':
			rep = "\uFFFD"
		case c >= utf8.RuneSelf:
			r, w := utf8.DecodeRuneInString(s[i:])
			width = w
			if (r == utf8.RuneError && w == 1) || r == 0xFFFE || r == 0xFFFF {
				rep = "\uFFFD"
			}
		}
		if rep == "" {
			i += width
			continue
		}
		buf.WriteString(s[last:i])
		buf.WriteString(rep)
		i += width
		last = i
	}
	buf.WriteString(s[last:])
}
