package scctest

import (
	"bytes"
	"fmt"
	"strings"
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
	`<?xml version="0"?><a/>`,
	`<:/>`,
	`<a b:="1" :c="2"/>`,
	`<?xml version='1.0' standalone='yes'?><a/>`,
	`<a a1="" a2="" a3="" a4="" a5="" a6="" a7="" a8="" a9="" a10="" a3=""/>`,
	`<a xmlns:p="urn:1" xmlns="urn:d"><p:b xmlns:p="urn:2" xmlns=""><p:c p:x="1"/><d/></p:b><p:e/><f/></a>`,
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

// TestParseXMLRefuses covers input the parser once accepted although it is
// not namespace-well-formed XML 1.0 (found by FuzzParseXML), and the
// duplicate check past the few attributes compared one by one.
func TestParseXMLRefuses(t *testing.T) {
	many := func(n int, dup string) string {
		var b strings.Builder
		b.WriteString("<a")
		for i := range n {
			fmt.Fprintf(&b, " a%d=\"\"", i)
		}
		b.WriteString(dup + "/>")
		return b.String()
	}
	tests := []struct {
		name, in, want string
	}{
		{"version 0", `<?xml version="0"?><a/>`, `unsupported XML version "0"`},
		{"version 1.1", `<?xml version="1.1"?><a/>`, `unsupported XML version "1.1"`},
		{"no version", `<?xml encoding="utf-8"?><a/>`, `unexpected "encoding"`},
		{"empty declaration", `<?xml ?><a/>`, "has no version"},
		{"encoding first", `<?xml encoding="utf-8" version="1.0"?><a/>`, `unexpected "encoding"`},
		{"unknown pseudo-attribute", `<?xml version="1.0" foo="bar"?><a/>`, `unexpected "foo"`},
		{"unquoted version", `<?xml version=1.0?><a/>`, "must be quoted"},
		{"standalone", `<?xml version="1.0" standalone="maybe"?><a/>`, "standalone must be"},
		{"declaration not first", `<!-- c --><?xml version="1.0"?><a/>`, "only allowed"},
		{"declaration in content", `<a><?xml version="1.0"?></a>`, "only allowed"},
		{"upper case XML", `<?XML version="1.0"?><a/>`, "only allowed"},
		{"empty name", `<:/>`, `invalid qualified name ":"`},
		{"empty local name", `<a:/>`, `invalid qualified name "a:"`},
		{"empty prefix", `<:a/>`, `invalid qualified name ":a"`},
		{"two colons", `<a:b:c/>`, `invalid qualified name "a:b:c"`},
		{"empty attribute prefix", `<a :b="1"/>`, `invalid qualified name ":b"`},
		{"empty xmlns prefix", `<a xmlns:="urn:x"/>`, `invalid qualified name "xmlns:"`},
		{"duplicate among few", many(3, ` a1="x"`), "duplicate attribute a1"},
		{"duplicate among many", many(40000, ` a39999="x"`), "duplicate attribute a39999"},
		{"duplicate of an early one among many", many(40000, ` a0="x"`), "duplicate attribute a0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseXML([]byte(tt.in))
			if err == nil {
				t.Fatalf("parseXML(%.60q) = nil error, want one containing %q", tt.in, tt.want)
			}
			if !strings.Contains(err.msg, tt.want) {
				t.Errorf("parseXML(%.60q) error = %q, want it to contain %q", tt.in, err.msg, tt.want)
			}
		})
	}
	for _, ok := range []string{
		`<?xml version="1.0"?><a/>`,
		`<?xml version='1.0' encoding='utf-8'?><a/>`,
		`<?xml version = "1.0" encoding = "UTF-8" standalone = "no" ?><a/>`,
		"\xef\xbb\xbf<?xml version=\"1.0\"?><a/>",
		`<?xml-stylesheet href="x"?><a/>`,
		many(40000, ""),
	} {
		if _, err := parseXML([]byte(ok)); err != nil {
			t.Errorf("parseXML(%.60q) = %v, want no error", ok, err.msg)
		}
	}
}

// BenchmarkParseXMLAttributes measures a start tag with many attributes:
// the duplicate check must stay linear.
func BenchmarkParseXMLAttributes(b *testing.B) {
	for _, n := range []int{1000, 10000, 40000} {
		var sb strings.Builder
		sb.WriteString("<a")
		for i := range n {
			fmt.Fprintf(&sb, " a%d=\"\"", i)
		}
		sb.WriteString("/>")
		in := []byte(sb.String())
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := parseXML(in); err != nil {
					b.Fatal(err.msg)
				}
			}
		})
	}
}

// BenchmarkParseXMLNamespaces measures many namespace declarations in
// scope with many prefixed names below them: resolving a prefix must not
// cost a scan of every declaration (that made 1.4 MB take 20 s).
func BenchmarkParseXMLNamespaces(b *testing.B) {
	for _, n := range []int{1000, 10000, 40000} {
		var sb strings.Builder
		sb.WriteString("<r")
		for i := range n {
			fmt.Fprintf(&sb, ` xmlns:p%d="urn:%d"`, i, i)
		}
		sb.WriteString(">")
		for range n {
			sb.WriteString(`<p0:c p0:a=""/>`)
		}
		sb.WriteString("</r>")
		in := []byte(sb.String())
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := parseXML(in); err != nil {
					b.Fatal(err.msg)
				}
			}
		})
	}
}
