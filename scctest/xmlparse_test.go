package scctest

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// treeOf is a comparable view of a parsed tree (positions left out).
type treeNode struct {
	Space, Local string
	Attrs        []string
	Text         string
	Kids         []treeNode
}

func treeOf(n *node) treeNode {
	t := treeNode{Space: n.name.Space, Local: n.name.Local, Text: n.text}
	for _, a := range n.attrs {
		t.Attrs = append(t.Attrs, a.Name.Space+"|"+a.Name.Local+"="+a.Value)
	}
	for _, k := range n.kids {
		t.Kids = append(t.Kids, treeOf(k))
	}
	return t
}

var xmlSeeds = []string{
	envelope(version("Exchange2013_SP1")+imp(alice), getInbox),
	`<?xml version="1.0" encoding="utf-8"?><a xmlns="urn:x" xmlns:p="urn:p" p:at="1" b='2'><p:b>t&amp;&lt;&#65;&#x42;</p:b><c/><!-- c --><d><![CDATA[<x>]]>y</d></a>`,
	"\xef\xbb\xbf<a>\r\nline\rtwo</a>",
	`<a><b></a></b>`,
	`<a x="1" x="2"/>`,
	`<p:a/>`,
	`<a>&bogus;</a>`,
	`<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`,
	`<?xml version="1.0" encoding="utf-16"?><a/>`,
	`<a/><b/>`,
	`<a xmlns:t="urn:t"><t:b t:c="1" d="2">x<e/>y</t:b></a>`,
	"<a>\x01</a>",
	`<a b="<"/>`,
	`<a>]]></a>`,
}

// FuzzParseXML checks the request parser against encoding/xml: whatever
// both accept must give the same tree, and what the fast parser accepts
// encoding/xml must accept too.
func FuzzParseXML(f *testing.F) {
	for _, s := range xmlSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseXML(b)
		// encoding/xml refuses a UTF-8 byte order mark, which XML allows.
		want, refErr := parseXMLReference(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
		if err != nil {
			if err.line < 1 || err.col < 1 {
				t.Errorf("error position %d:%d, want 1-based", err.line, err.col)
			}
			return
		}
		if refErr != nil {
			t.Fatalf("parseXML accepted what encoding/xml refuses (%v):\n%q", refErr, b)
		}
		if diff := cmp.Diff(treeOf(want), treeOf(got)); diff != "" {
			t.Fatalf("tree mismatch (-encoding/xml +parseXML):\n%s\ninput %q", diff, b)
		}
	})
}

func TestParseXMLErrors(t *testing.T) {
	tests := []struct {
		in        string
		line, col int
	}{
		{"<a>\n  <b></c>\n</a>", 2, 6},
		{`<!DOCTYPE a><a/>`, 1, 1},
		{"<a>\n<p:b/></a>", 2, 1},
	}
	for _, tt := range tests {
		_, err := parseXML([]byte(tt.in))
		if err == nil {
			t.Errorf("parseXML(%q) = nil error, want one", tt.in)
			continue
		}
		if err.line != tt.line || err.col != tt.col {
			t.Errorf("parseXML(%q) error at %d:%d (%s), want %d:%d", tt.in, err.line, err.col, err.msg, tt.line, tt.col)
		}
	}
}
