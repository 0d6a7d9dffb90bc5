package scctest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// parseXMLReference is the encoding/xml parser the fast parser is checked
// against (FuzzParseXML).
func parseXMLReference(body []byte) (*node, *xmlError) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = func(charset string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(charset) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return in, nil
		}
		return nil, fmt.Errorf("unsupported charset %q", charset)
	}
	var root *node
	var stack []*node
	var text strings.Builder
	for {
		line, col := d.InputPos()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			l, c := d.InputPos()
			msg := err.Error()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg = se.Msg
			}
			return nil, &xmlError{l, c, msg}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, &xmlError{line, col, "document is nested too deeply"}
			}
			n := &node{name: t.Name, attrs: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, &xmlError{line, col, "more than one root element"}
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
			text.Reset()
		case xml.EndElement:
			n := stack[len(stack)-1]
			if len(n.kids) == 0 {
				n.text = text.String()
			}
			text.Reset()
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, &xmlError{line, col, "text outside the root element"}
			}
		}
	}
	if root == nil {
		return nil, &xmlError{1, 1, "root element is missing"}
	}
	return root, nil
}
