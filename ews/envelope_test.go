package ews

import (
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

func TestEnvelopeHeaderRules(t *testing.T) {
	sid := PrimarySmtpAddress("alice@contoso.example")
	body := func(b *etree.Element) error { b.CreateElement("m:GetServerTimeZones"); return nil }
	noImp := &operation{name: "GetServerTimeZones", noImpersonation: true}
	if _, err := buildEnvelope(noImp, envelopeHeader{version: DefaultServerVersion, sid: &sid}, body); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("buildEnvelope(GetServerTimeZones, impersonating) = %v, want ErrInvalidRequest", err)
	}
	out, err := buildEnvelope(noImp, envelopeHeader{version: DefaultServerVersion, timeZone: "UTC"}, body)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "TimeZoneContext") {
		t.Errorf("envelope of an operation without t:TimeZoneContext in its WSDL input carries one:\n%s", out)
	}
	out, err = buildEnvelope(opGetFolder, envelopeHeader{version: V2018_01_08, timeZone: `Zone "A" & <B>`}, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<t:RequestServerVersion Version="V2018_01_08"/>`, `<t:TimeZoneDefinition Id="Zone &quot;A&quot; &amp; &lt;B>"/>`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("envelope lacks %s:\n%s", want, out)
		}
	}
}

func TestCheckText(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"plain", true}, {"tab\tnewline\n", true}, {"emoji 😀", true}, {"nul\x00", false}, {"bell\x07", false},
		{"bad utf8 \xff", false}, {"\ufffe", false},
	} {
		err := checkText("Op", "field", tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("checkText(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestOfferedSchemes(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{[]string{"Negotiate", "NTLM"}, "Negotiate,NTLM"},
		{[]string{`Bearer authorization_uri="https://login.example/x, y", error="invalid_token"`, `Basic realm="a"`}, "Bearer,Basic"},
		{[]string{"NTLM TlRMTVNTUAACAAAA=="}, "NTLM"},
		{[]string{"ntlm", "NTLM"}, "ntlm"},
		{[]string{`realm="x"`, ""}, ""},
	} {
		if got := strings.Join(offeredSchemes(tt.in), ","); got != tt.want {
			t.Errorf("offeredSchemes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"<html><head><title>Sign in</title><style>body{}</style></head><body>\n\n  Enter password=hunter2 now</body></html>", "Sign in Enter password=[redacted] now"},
		{"plain \x01text", "plain text"},
		{strings.Repeat("a", 500), strings.Repeat("a", excerptMax) + "..."},
	} {
		if got := excerpt([]byte(tt.in), nil); got != tt.want {
			t.Errorf("excerpt(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEnvelopeSizedOnce: writtenSize is the exact length of an envelope
// with nothing to escape (so its buffer is allocated once) and a lower
// bound of one with escapes.
func TestEnvelopeSizedOnce(t *testing.T) {
	sid := PrimarySmtpAddress("alice@contoso.example")
	for _, tt := range []struct {
		name, text string
		exact      bool
	}{
		{"plain", "Inbox", true},
		{"escaped", `R&D "A" <B>` + "\r", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := func(b *etree.Element) error {
				g := b.CreateElement("m:GetFolder")
				g.CreateElement("m:FolderShape").CreateElement("t:BaseShape").SetText("IdOnly")
				ids := g.CreateElement("m:FolderIds")
				ids.CreateElement("t:DistinguishedFolderId").CreateAttr("Id", "inbox")
				ids.CreateElement("t:FolderId").CreateAttr("Id", tt.text)
				g.CreateElement("t:Note").SetText(tt.text)
				return nil
			}
			out, err := buildEnvelope(opGetFolder, envelopeHeader{version: DefaultServerVersion, sid: &sid}, body)
			if err != nil {
				t.Fatal(err)
			}
			env := etree.NewDocument()
			if err := env.ReadFromBytes(out); err != nil {
				t.Fatalf("envelope does not parse: %v\n%s", err, out)
			}
			got := len(xmlDeclaration) + writtenSize(env.Root())
			if tt.exact && got != len(out) {
				t.Errorf("writtenSize = %d, envelope is %d bytes:\n%s", got, len(out), out)
			}
			if !tt.exact && got >= len(out) {
				t.Errorf("writtenSize = %d, want less than the escaped envelope's %d bytes", got, len(out))
			}
		})
	}
}
