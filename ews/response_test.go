package ews

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseTreeRejects(t *testing.T) {
	const env = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/></s:Body></s:Envelope>`
	for _, tt := range []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"truncated", env[:40]},
		{"mismatched end", `<a><b></a></b>`},
		{"two roots", `<a/><b/>`},
		{"text outside root", `<a/>junk`},
		{"too deep", strings.Repeat("<a>", maxXMLDepth+2) + strings.Repeat("</a>", maxXMLDepth+2)},
		{"too many attributes", "<a" + manyAttrs(maxXMLAttrs+1) + "/>"},
		{"too many elements", "<a>" + strings.Repeat("<b/>", maxXMLElements) + "</a>"},
		{"utf-16 declared", `<?xml version="1.0" encoding="utf-16"?><a/>`},
		{"undeclared entity", `<a>&nbsp;</a>`},
		{"soap 1.2", `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><x/></e:Body></e:Envelope>`},
		{"two body children", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/><y/></s:Body></s:Envelope>`},
		{"no body", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/></s:Envelope>`},
		{"wrong namespace", `<s:Envelope xmlns:s="urn:other"><s:Body><x/></s:Body></s:Envelope>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseSOAP(context.Background(), []byte(tt.in)); err == nil {
				t.Errorf("parseSOAP(%.60q) = nil error, want an error", tt.in)
			}
		})
	}
	r, err := parseSOAP(context.Background(), []byte("\ufeff"+`<?xml version="1.0" encoding="UTF-8"?>`+env))
	if err != nil || r.body.Tag != "x" {
		t.Errorf("parseSOAP(valid with BOM) = %v, %v, want body x", r, err)
	}
}

func TestNamespacesNotPrefixes(t *testing.T) {
	// Default namespaces and unusual prefixes, as real servers send them.
	in := `<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Header><Info xmlns="http://schemas.microsoft.com/exchange/services/2006/types"/><q:ServerVersionInfo xmlns:q="http://schemas.microsoft.com/exchange/services/2006/types" MajorVersion="15" Version="V2_4"/></Header>` +
		`<Body><GetFolderResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><ResponseMessages><GetFolderResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode>` +
		`<Folders><x:Folder xmlns:x="http://schemas.microsoft.com/exchange/services/2006/types"><x:DisplayName>Inbox</x:DisplayName><m:DisplayName xmlns:m="urn:not-types">Wrong</m:DisplayName></x:Folder></Folders>` +
		`</GetFolderResponseMessage></ResponseMessages></GetFolderResponse></Body></Envelope>`
	r, err := parseSOAP(context.Background(), []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if r.serverVersion == nil || r.serverVersion.Version != "V2_4" || r.serverVersion.MajorVersion != 15 {
		t.Errorf("serverVersion = %+v, want 15 / V2_4", r.serverVersion)
	}
	resp, err := parseGetFolder(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Results[0].Folder.DisplayName; got != "Inbox" {
		t.Errorf("DisplayName = %q, want Inbox (matched by namespace, not prefix)", got)
	}
}

// manyAttrs returns n attributes a0="" a1="" ...
func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, ` a%d=""`, i)
	}
	return b.String()
}

// TestParseTreeBounds: the most attributes and elements the parser accepts
// still parse.
func TestParseTreeBounds(t *testing.T) {
	in := "<a" + manyAttrs(maxXMLAttrs) + ">" + strings.Repeat("<b/>", maxXMLElements-1) + "</a>"
	root, err := parseTree(context.Background(), []byte(in))
	if err != nil {
		t.Fatalf("parseTree(%d attributes, %d elements) = %v, want nil", maxXMLAttrs, maxXMLElements, err)
	}
	if len(root.Attr) != maxXMLAttrs || len(root.ChildElements()) != maxXMLElements-1 {
		t.Errorf("parseTree = %d attributes, %d children, want %d, %d", len(root.Attr), len(root.ChildElements()), maxXMLAttrs, maxXMLElements-1)
	}
}

// TestParseTreeStopsWithContext: a response that takes long to parse cannot
// outlive the caller's context.
func TestParseTreeStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := "<a>" + strings.Repeat("<b>x</b>", 10*parseCheckEvery) + "</a>"
	if _, err := parseTree(ctx, []byte(in)); !errors.Is(err, context.Canceled) {
		t.Errorf("parseTree(cancelled context) = %v, want context.Canceled", err)
	}
}
