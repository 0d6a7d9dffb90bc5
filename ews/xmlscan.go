package ews

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// errSlowPath is how the scanner hands a document back to encoding/xml:
// it met something it does not decide itself (a malformed construct, a
// DOCTYPE, a name beyond ASCII, an entity that is not predefined, an
// encoding declaration other than UTF-8, or an error of the tree).
var errSlowPath = errors.New("ews: XML left to encoding/xml")

// xmlScanner reads a whole XML document from memory into a treeBuilder,
// token by token, as encoding/xml's Decoder.RawToken with Strict set
// would, but without its per-token allocations: names are interned,
// text aliases the document unless it has entities or carriage returns,
// and attribute values go into the builder's text chunks. It decides only
// the documents it is sure about, which are nearly all EWS responses; for
// anything else it returns errSlowPath and parseTree decodes the document
// with encoding/xml, whose verdict (and error message) then stands. Its
// successes are checked against encoding/xml by FuzzParseTree.
type xmlScanner struct {
	data  []byte
	pos   int
	b     *treeBuilder
	names [256]string
	attrs []xml.Attr
	buf   []byte
}

// scanTree is parseTree's fast path: the tree, errSlowPath, or ctx's
// error.
func scanTree(ctx context.Context, data []byte) (*etree.Element, error) {
	s := &xmlScanner{data: data, b: newTreeBuilder(maxXMLElements, data)}
	for n := 1; ; n++ {
		if n%parseCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("XML parsing stopped: %w", err)
			}
		}
		if s.pos >= len(s.data) {
			if s.b.depth() != 0 || s.b.root == nil {
				return nil, errSlowPath
			}
			return s.b.root, nil
		}
		if !s.token() {
			return nil, errSlowPath
		}
	}
}

// token reads one token at pos and hands it to the builder; false means
// the slow path decides.
func (s *xmlScanner) token() bool {
	d := s.data
	if d[s.pos] != '<' {
		text, ok := s.text(-1)
		return ok && s.b.chars(text) == nil
	}
	if s.pos+1 >= len(d) {
		return false
	}
	switch d[s.pos+1] {
	case '/':
		s.pos += 2
		name, ok := s.nsname()
		if !ok {
			return false
		}
		if !s.expect('>') {
			return false
		}
		_, err := s.b.end(xml.EndElement{Name: name})
		return err == nil
	case '?':
		return s.procInst()
	case '!':
		rest := d[s.pos+2:]
		switch {
		case bytes.HasPrefix(rest, []byte("--")):
			body := rest[2:]
			i := bytes.Index(body, []byte("--"))
			if i < 0 || i+2 >= len(body) || body[i+2] != '>' {
				return false
			}
			s.pos += 2 + 2 + i + 3
			return true
		case bytes.HasPrefix(rest, []byte("[CDATA[")):
			s.pos += 2 + 7
			text, ok := s.cdata()
			return ok && s.b.chars(text) == nil
		}
		return false // a directive (DOCTYPE, ENTITY), or malformed
	}
	return s.start()
}

// start reads a start tag (and the end of an empty element).
func (s *xmlScanner) start() bool {
	d := s.data
	s.pos++
	name, ok := s.nsname()
	if !ok {
		return false
	}
	s.attrs = s.attrs[:0]
	empty := false
	for {
		s.space()
		if s.pos >= len(d) {
			return false
		}
		if c := d[s.pos]; c == '/' {
			if s.pos+1 >= len(d) || d[s.pos+1] != '>' {
				return false
			}
			s.pos += 2
			empty = true
			break
		} else if c == '>' {
			s.pos++
			break
		}
		an, ok := s.nsname()
		if !ok {
			return false
		}
		if !s.expect('=') {
			return false
		}
		s.space()
		if s.pos >= len(d) || (d[s.pos] != '"' && d[s.pos] != '\'') {
			return false
		}
		q := int(d[s.pos])
		s.pos++
		v, ok := s.text(q)
		if !ok {
			return false
		}
		s.attrs = append(s.attrs, xml.Attr{Name: an, Value: s.b.str(v)})
	}
	if _, err := s.b.start(xml.StartElement{Name: name, Attr: s.attrs}); err != nil {
		return false
	}
	if empty {
		if _, err := s.b.end(xml.EndElement{Name: name}); err != nil {
			return false
		}
	}
	return true
}

// procInst reads <?target ...?>, applying encoding/xml's checks of the
// XML declaration; an encoding other than UTF-8 goes to the slow path,
// whose CharsetReader decides.
func (s *xmlScanner) procInst() bool {
	s.pos += 2
	target, ok := s.name()
	if !ok {
		return false
	}
	s.space()
	end := bytes.Index(s.data[s.pos:], []byte("?>"))
	if end < 0 {
		return false
	}
	content := string(s.data[s.pos : s.pos+end])
	s.pos += end + 2
	if string(target) == "xml" {
		if v := procInstParam("version", content); v != "" && v != "1.0" {
			return false
		}
		if enc := procInstParam("encoding", content); enc != "" && !strings.EqualFold(enc, "utf-8") {
			return false
		}
	}
	return true
}

// procInstParam is encoding/xml's procInst: the value of param="..." (or
// '...') in s, or "".
func procInstParam(param, s string) string {
	param += "="
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// space skips white space.
func (s *xmlScanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\r', '\n', '\t':
			s.pos++
		default:
			return
		}
	}
}

// expect skips white space and then c, reporting whether c was there.
func (s *xmlScanner) expect(c byte) bool {
	s.space()
	if s.pos >= len(s.data) || s.data[s.pos] != c {
		return false
	}
	s.pos++
	return true
}

// name reads an XML name of ASCII characters; a name with others goes to
// the slow path, which has the Unicode tables.
func (s *xmlScanner) name() ([]byte, bool) {
	d := s.data
	i := s.pos
	for i < len(d) && d[i] < utf8.RuneSelf && isNameByte(d[i]) {
		i++
	}
	if i == s.pos || (i < len(d) && d[i] >= utf8.RuneSelf) {
		return nil, false
	}
	n := d[s.pos:i]
	if c := n[0]; !(c == '_' || c == ':' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
		return nil, false
	}
	s.pos = i
	return n, true
}

// nsname reads a name split at its colon as encoding/xml's nsname does:
// prefix and local part when it has one colon with text on both sides,
// the whole name as local part otherwise; more than one colon is refused.
func (s *xmlScanner) nsname() (xml.Name, bool) {
	n, ok := s.name()
	if !ok {
		return xml.Name{}, false
	}
	i := bytes.IndexByte(n, ':')
	switch {
	case i < 0:
		return xml.Name{Local: s.intern(n)}, true
	case bytes.IndexByte(n[i+1:], ':') >= 0:
		return xml.Name{}, false
	case i == 0 || i == len(n)-1:
		return xml.Name{Local: s.intern(n)}, true
	}
	return xml.Name{Space: s.intern(n[:i]), Local: s.intern(n[i+1:])}, true
}

// intern returns b as a string, the same string for the same name
// within a document (an EWS response repeats a few dozen names): a small
// table by hash, where a collision costs only a new string.
func (s *xmlScanner) intern(b []byte) string {
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	slot := &s.names[h%uint32(len(s.names))]
	if *slot != string(b) {
		*slot = string(b)
	}
	return *slot
}

func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

// text reads character data up to '<' (quote < 0) or up to the closing
// quote of an attribute value (which it consumes), resolving the
// predefined and numeric entities and turning \r\n and \r into \n. The
// result aliases the document when nothing needed rewriting, else the
// scanner's buffer, valid until the next call.
func (s *xmlScanner) text(quote int) ([]byte, bool) {
	d := s.data
	start := s.pos
	i := s.pos
	// The plain run: text that needs no rewriting, checked as it is read
	// (encoding/xml refuses ]]> outside attribute values and characters
	// XML does not allow).
plain:
	for i < len(d) {
		c := d[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(d[i:])
			if !validRune(r, size) {
				return nil, false
			}
			i += size
			continue
		}
		switch {
		case c == '<' || c == '&' || c == '\r' || (quote >= 0 && int(c) == quote):
			break plain
		case c == '>' && quote < 0 && i-start >= 2 && d[i-1] == ']' && d[i-2] == ']':
			return nil, false
		case c < 0x20 && c != '\t' && c != '\n':
			return nil, false
		}
		i++
	}
	if i >= len(d) {
		if quote >= 0 {
			return nil, false
		}
		s.pos = i
		return d[start:i], true
	}
	if c := d[i]; c == '<' || (quote >= 0 && int(c) == quote) {
		if c == '<' && quote >= 0 {
			return nil, false // unescaped < inside quoted string
		}
		s.pos = i
		if quote >= 0 {
			s.pos++
		}
		return d[start:i], true
	}
	// Rewriting needed: copy from start on.
	s.buf = append(s.buf[:0], d[start:i]...)
	raw := start // where the raw bytes of the text began, for ]]>
	for i < len(d) {
		c := d[i]
		switch {
		case c == '<':
			if quote >= 0 {
				return nil, false
			}
			if quote < 0 && bytes.Contains(d[raw:i], []byte("]]>")) {
				return nil, false
			}
			s.pos = i
			return s.buf, validChars(s.buf)
		case quote >= 0 && int(c) == quote:
			s.pos = i + 1
			return s.buf, validChars(s.buf)
		case c == '&':
			n, ok := s.entity(i)
			if !ok {
				return nil, false
			}
			if quote < 0 && bytes.Contains(d[raw:i], []byte("]]>")) {
				return nil, false
			}
			i = n
			raw = n
			continue
		case c == '\r':
			s.buf = append(s.buf, '\n')
			if i+1 < len(d) && d[i+1] == '\n' {
				i++
			}
		default:
			s.buf = append(s.buf, c)
		}
		i++
	}
	if quote >= 0 || bytes.Contains(d[raw:i], []byte("]]>")) {
		return nil, false
	}
	s.pos = i
	return s.buf, validChars(s.buf)
}

// entity appends the character of the reference at d[i] ('&') to buf and
// returns the index after its ';'.
func (s *xmlScanner) entity(i int) (int, bool) {
	d := s.data
	j := i + 1
	if j < len(d) && d[j] == '#' {
		j++
		base := 10
		if j < len(d) && d[j] == 'x' {
			base = 16
			j++
		}
		k := j
		for k < len(d) && ('0' <= d[k] && d[k] <= '9' || base == 16 && ('a' <= d[k] && d[k] <= 'f' || 'A' <= d[k] && d[k] <= 'F')) {
			k++
		}
		if k >= len(d) || d[k] != ';' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(d[j:k]), base, 64)
		if err != nil || n > unicode.MaxRune {
			return 0, false
		}
		s.buf = utf8.AppendRune(s.buf, rune(n))
		return k + 1, true
	}
	k := j
	for k < len(d) && d[k] < utf8.RuneSelf && isNameByte(d[k]) {
		k++
	}
	if k >= len(d) || d[k] != ';' {
		return 0, false
	}
	var r byte
	switch string(d[j:k]) {
	case "lt":
		r = '<'
	case "gt":
		r = '>'
	case "amp":
		r = '&'
	case "apos":
		r = '\''
	case "quot":
		r = '"'
	default:
		return 0, false
	}
	s.buf = append(s.buf, r)
	return k + 1, true
}

// cdata reads the rest of a CDATA section up to ]]>, turning \r\n and \r
// into \n.
func (s *xmlScanner) cdata() ([]byte, bool) {
	d := s.data
	end := bytes.Index(d[s.pos:], []byte("]]>"))
	if end < 0 {
		return nil, false
	}
	body := d[s.pos : s.pos+end]
	s.pos += end + 3
	if bytes.IndexByte(body, '\r') >= 0 {
		s.buf = s.buf[:0]
		for i := 0; i < len(body); i++ {
			if body[i] == '\r' {
				s.buf = append(s.buf, '\n')
				if i+1 < len(body) && body[i+1] == '\n' {
					i++
				}
				continue
			}
			s.buf = append(s.buf, body[i])
		}
		body = s.buf
	}
	return body, validChars(body)
}

// validChars reports whether b is UTF-8 of characters XML allows, as
// encoding/xml checks decoded text.
func validChars(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if !validRune(r, size) {
			return false
		}
		i += size
	}
	return true
}

// validRune reports whether the rune r that took size bytes is valid
// UTF-8 of a character XML allows.
func validRune(r rune, size int) bool {
	return !(r == utf8.RuneError && size == 1) && xmlChar(r)
}
