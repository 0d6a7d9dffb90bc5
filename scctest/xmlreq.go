package scctest

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// Namespaces of EWS. Requests are matched on these, never on prefixes.
const (
	nsSOAP     = "http://schemas.xmlsoap.org/soap/envelope/"
	nsMessages = "http://schemas.microsoft.com/exchange/services/2006/messages"
	nsTypes    = "http://schemas.microsoft.com/exchange/services/2006/types"
	nsErrors   = "http://schemas.microsoft.com/exchange/services/2006/errors"
	nsXSI      = "http://www.w3.org/2001/XMLSchema-instance"
)

// node is one element of a parsed request. The request side of the fake is
// parsed with encoding/xml independently of package ews, so that a bug in the
// client's request builder cannot be mirrored here.
type node struct {
	name  xml.Name // Space is the namespace URI
	attrs []xml.Attr
	kids  []*node
	text  string
	src   []byte // the whole document, for positions
	off   int    // byte offset of the start tag
}

// position returns the 1-based line and column of the element's start tag,
// computed on demand (only schema faults need it).
func (n *node) position() (line, col int) {
	if n == nil || n.src == nil {
		return 0, 0
	}
	p := xmlParser{b: n.src, line: 1}
	l, c := p.pos(n.off)
	return l, c
}

// maxDepth bounds nesting of a request document.
const maxDepth = 256

// xmlError is a request that is not well-formed XML, with its position.
type xmlError struct {
	line, col int
	msg       string
}

func (e *xmlError) Error() string {
	return fmt.Sprintf("line %d, position %d: %s", e.line, e.col, e.msg)
}

// is reports whether n has the given namespace and local name.
func (n *node) is(ns, local string) bool {
	return n != nil && n.name.Space == ns && n.name.Local == local
}

// child returns the first child with the namespace and local name, or nil.
func (n *node) child(ns, local string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name.Space == ns && k.name.Local == local {
			return k
		}
	}
	return nil
}

// path follows a chain of children in one namespace.
func (n *node) path(ns string, locals ...string) *node {
	for _, l := range locals {
		n = n.child(ns, l)
	}
	return n
}

// attr returns an unqualified attribute.
func (n *node) attr(local string) (string, bool) {
	if n == nil {
		return "", false
	}
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// attrOr returns an unqualified attribute or def.
func (n *node) attrOr(local, def string) string {
	if v, ok := n.attr(local); ok {
		return v
	}
	return def
}

// trimmed returns the element text without surrounding whitespace.
func (n *node) trimmed() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.text)
}

// value returns the element text as sent, or "" for a missing element
// (an optional element such as t:Subject may be absent).
func (n *node) value() string {
	if n == nil {
		return ""
	}
	return n.text
}
