package ews

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// treeBuilder turns the raw tokens of an XML decoder into an etree tree,
// for parseTree and for the streaming reader. It builds the same tree as
// etree's CreateElement, CreateAttr and CreateText would, with a small
// fraction of their allocations: elements, text nodes, attribute and child
// lists are carved from slabs, text from shared chunks, and a child list
// gets its exact length when its element ends, so appending never regrows
// it. A value the caller keeps (a string of the tree) keeps at most its
// chunk of textChunk bytes alive.
//
// The children of an element are attached to it at its end tag: until
// then an open element has no children and its children no parent.
type treeBuilder struct {
	doc *etree.Document
	// root is the root element, once it has ended.
	root *etree.Element
	// stack holds the open elements, the document's own element first.
	stack []*etree.Element
	// kids holds the children of the open elements, those of stack[i]
	// from marks[i] on.
	kids  []etree.Token
	marks []int
	// elements counts the elements, against maxElements.
	elements, maxElements int

	elems slab[etree.Element]
	texts slab[etree.CharData]
	lists slab[etree.Token]
	attrs slab[etree.Attr]
	// text is the chunk that short text is copied into.
	text strings.Builder
}

// textChunk is the size of a chunk of text; longer text is a string of
// its own.
const (
	textChunk   = 4096
	textOwnSize = textChunk / 4
)

// newTreeBuilder returns a builder refusing more than maxElements
// elements. If the whole document is at hand, its first slabs are sized to
// it.
func newTreeBuilder(maxElements int, doc []byte) *treeBuilder {
	b := &treeBuilder{doc: etree.NewDocument(), maxElements: maxElements}
	b.stack = append(make([]*etree.Element, 0, 16), &b.doc.Element)
	b.kids = make([]etree.Token, 0, 64)
	b.marks = append(make([]int, 0, 16), 0)
	if len(doc) > 0 {
		// Every element has one start tag (and comments, declarations
		// and CDATA sections are rare); most have a text node, and the
		// child lists hold both. Attribute values and text, which share
		// the text chunks, are about two fifths of a response (ids and
		// namespaces are long): a first chunk of half the document holds
		// them without a second one.
		// Single-byte counts (bytes.Count of a longer pattern searches
		// match by match, which took about 12 % of a parse):
		// start tags are the '<' not followed by '/', attributes about
		// the '=' signs.
		tags := 1
		for i := 0; ; {
			j := bytes.IndexByte(doc[i:], '<')
			if j < 0 {
				break
			}
			i += j + 1
			if i >= len(doc) || doc[i] != '/' {
				tags++
			}
		}
		b.elems.next = min(tags, slabMax)
		b.texts.next = b.elems.next
		b.lists.next = min(2*tags, slabMax)
		b.attrs.next = min(bytes.Count(doc, []byte("="))+1, slabMax)
		b.text.Grow(min(len(doc)/2+1, textChunk))
	}
	return b
}

// depth is the number of open elements.
func (b *treeBuilder) depth() int { return len(b.stack) - 1 }

// top is the innermost open element (the document's own at depth 0).
func (b *treeBuilder) top() *etree.Element { return b.stack[len(b.stack)-1] }

var errMultipleRoots = errors.New("XML document has more than one root element")

// start opens the element t, refusing it beyond the bounds of the shape
// of a response.
func (b *treeBuilder) start(t xml.StartElement) (*etree.Element, error) {
	if b.depth() == 0 {
		if b.root != nil {
			return nil, errMultipleRoots
		}
	} else if b.depth() > maxXMLDepth {
		return nil, fmt.Errorf("XML document is nested deeper than %d elements", maxXMLDepth)
	}
	if len(t.Attr) > maxXMLAttrs {
		return nil, fmt.Errorf("XML element <%s> has %d attributes, more than the %d an EWS response may have", clip(qname(t.Name)), len(t.Attr), maxXMLAttrs)
	}
	if b.elements++; b.elements > b.maxElements {
		return nil, fmt.Errorf("XML document has more than %d elements", b.maxElements)
	}
	e := &b.elems.take(1)[0]
	// As CreateElement(qname(t.Name)) splits its tag.
	e.Space, e.Tag = splitName(t.Name)
	if len(t.Attr) > 0 {
		e.Attr = b.attrs.take(len(t.Attr))[:0]
		for _, a := range t.Attr {
			if a.Name.Space == "" {
				e.CreateAttr(a.Name.Local, a.Value)
			} else {
				e.CreateAttr(qname(a.Name), a.Value)
			}
		}
	}
	b.kids = append(b.kids, e)
	b.stack = append(b.stack, e)
	b.marks = append(b.marks, len(b.kids))
	return e, nil
}

// end closes the innermost open element, which t must name, attaches its
// children and returns it.
func (b *treeBuilder) end(t xml.EndElement) (*etree.Element, error) {
	e := b.top()
	if b.depth() == 0 || e.Space != t.Name.Space || e.Tag != t.Name.Local {
		return nil, fmt.Errorf("XML end tag </%s> does not match", clip(qname(t.Name)))
	}
	b.attach(e, b.marks[len(b.marks)-1])
	b.stack = b.stack[:len(b.stack)-1]
	b.marks = b.marks[:len(b.marks)-1]
	if b.depth() == 0 {
		// The root: attach it to the document, as CreateElement does.
		b.attach(&b.doc.Element, 0)
		b.root = e
	}
	return e, nil
}

// attach moves the children collected since mark into e.
func (b *treeBuilder) attach(e *etree.Element, mark int) {
	kids := b.kids[mark:]
	if len(kids) > 0 {
		e.Child = b.lists.take(len(kids))[:0]
		for _, k := range kids {
			e.AddChild(k)
		}
	}
	clear(kids)
	b.kids = b.kids[:mark]
}

var errTextOutsideRoot = errors.New("XML document has text outside the root element")

// chars adds text to the innermost open element, dropping white space,
// which EWS responses are full of and the parser never needs.
func (b *treeBuilder) chars(p []byte) error {
	if isSpace(p) {
		return nil
	}
	if b.depth() == 0 {
		return errTextOutsideRoot
	}
	c := &b.texts.take(1)[0]
	c.Data = b.str(p)
	b.kids = append(b.kids, c)
	return nil
}

// str returns p as a string, short ones from the current chunk.
func (b *treeBuilder) str(p []byte) string {
	if len(p) > textOwnSize {
		return string(p)
	}
	if b.text.Cap()-b.text.Len() < len(p) {
		b.text = strings.Builder{}
		b.text.Grow(textChunk)
	}
	// A Builder never changes the bytes it has handed out in a string.
	n := b.text.Len()
	b.text.Write(p)
	return b.text.String()[n:]
}

// splitName returns the prefix and local name etree gives the qualified
// name of n.
func splitName(n xml.Name) (space, local string) {
	if n.Space != "" {
		return n.Space, n.Local
	}
	if i := strings.IndexByte(n.Local, ':'); i >= 0 {
		return n.Local[:i], n.Local[i+1:]
	}
	return "", n.Local
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// slabMax bounds the size of a slab, so that a large document costs a
// chunk for every slabMax values.
const slabMax = 1024

// slab hands out runs of zero values from shared arrays.
type slab[T any] struct {
	free []T
	// next is the size of the next array (at least 16), doubling up
	// to slabMax.
	next int
}

// take returns n zero values, with a capacity of n.
func (s *slab[T]) take(n int) []T {
	if len(s.free) < n {
		size := max(s.next, 16)
		s.next = min(2*size, slabMax)
		s.free = make([]T, max(size, n))
	}
	out := s.free[:n:n]
	s.free = s.free[n:]
	return out
}
