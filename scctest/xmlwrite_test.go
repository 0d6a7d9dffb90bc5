package scctest

import (
	"bytes"
	"testing"
)

// TestDocumentWriteToGrowsOnce: a document is written into one
// allocation of its exact size when nothing needs escaping, and escaping
// still comes out right when something does.
func TestDocumentWriteToGrowsOnce(t *testing.T) {
	build := func(text, value string) *document {
		d := newDoc()
		root := d.CreateElement("s:Envelope")
		root.CreateAttr("xmlns:s", "http://schemas.xmlsoap.org/soap/envelope/")
		body := root.CreateElement("s:Body")
		body.CreateElement("m:Empty")
		f := body.CreateElement("t:FolderId")
		f.CreateAttr("Id", value)
		f.CreateAttr("ChangeKey", "CQAAAA==")
		body.CreateElement("t:DisplayName").SetText(text)
		return d
	}
	for _, tc := range []struct {
		name, text, value, want string
	}{
		{"plain", "Inbox", "AAMk", `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:Empty/><t:FolderId Id="AAMk" ChangeKey="CQAAAA=="/><t:DisplayName>Inbox</t:DisplayName></s:Body></s:Envelope>`},
		{"escaped", "R&D <x>", `a"b`, `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:Empty/><t:FolderId Id="a&quot;b" ChangeKey="CQAAAA=="/><t:DisplayName>R&amp;D &lt;x&gt;</t:DisplayName></s:Body></s:Envelope>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := build(tc.text, tc.value)
			var buf bytes.Buffer
			d.WriteTo(&buf)
			if got := buf.String(); got != tc.want {
				t.Fatalf("WriteTo() =\n%s\nwant\n%s", got, tc.want)
			}
			if tc.name != "plain" {
				return
			}
			// Grown once to the size: the capacity of a buffer grown to
			// exactly the length written (the race detector's escapes
			// make counting allocations useless here).
			var exact bytes.Buffer
			exact.Grow(buf.Len())
			if buf.Cap() != exact.Cap() {
				t.Errorf("WriteTo() left a buffer of capacity %d for %d bytes, want %d (one growth to the size)", buf.Cap(), buf.Len(), exact.Cap())
			}
		})
	}
}
