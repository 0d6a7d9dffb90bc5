package mailbox

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const multipartMail = "From: =?utf-8?q?J=C3=B6rg?= <joerg@fabrikam.example>\r\n" +
	"To: Alice <alice@contoso.example>, bob@contoso.example\r\n" +
	"Cc: carol@contoso.example\r\n" +
	"Subject: =?iso-8859-1?q?R=E9union?=\r\n" +
	"Date: Mon, 03 Jun 2024 10:00:00 +0200\r\n" +
	"Message-ID: <abc@fabrikam.example>\r\n" +
	"X-Crm-Id: 42\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=outer\r\n" +
	"\r\n" +
	"--outer\r\n" +
	"Content-Type: multipart/alternative; boundary=inner\r\n" +
	"\r\n" +
	"--inner\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Gr=C3=BC=C3=9Fe\r\n" +
	"--inner\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+R3LDvMOfZTwvcD4=\r\n" +
	"--inner--\r\n" +
	"--outer\r\n" +
	"Content-Type: application/pdf\r\n" +
	"Content-Disposition: attachment; filename=a.pdf\r\n" +
	"\r\n" +
	"%PDF\r\n" +
	"--outer--\r\n"

func TestParseMIME(t *testing.T) {
	it, err := ParseMIME([]byte(multipartMail))
	if err != nil {
		t.Fatal(err)
	}
	if it.Subject != "Réunion" {
		t.Errorf("Subject = %q", it.Subject)
	}
	if it.From == nil || *it.From != (Address{Name: "Jörg", Email: "joerg@fabrikam.example"}) {
		t.Errorf("From = %+v", it.From)
	}
	if d := cmp.Diff([]Address{{Name: "Alice", Email: "alice@contoso.example"}, {Email: "bob@contoso.example"}}, it.To); d != "" {
		t.Errorf("To (-want +got):\n%s", d)
	}
	if len(it.Cc) != 1 || it.InternetMessageID != "<abc@fabrikam.example>" {
		t.Errorf("Cc %v MessageID %q", it.Cc, it.InternetMessageID)
	}
	if !it.Sent.Equal(time.Date(2024, 6, 3, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("Sent = %v", it.Sent)
	}
	if it.Body != (Body{Type: BodyHTML, Content: "<p>Grüße</p>"}) {
		t.Errorf("Body = %+v, want the HTML part", it.Body)
	}
	found := false
	for _, h := range it.Headers {
		found = found || h.Name == "X-Crm-Id" && h.Value == "42"
	}
	if !found {
		t.Errorf("Headers lack X-Crm-Id: %+v", it.Headers)
	}
}

func TestParseMIMEErrors(t *testing.T) {
	for _, raw := range []string{
		"not a message",
		"From: a@x\r\nContent-Type: multipart/mixed\r\n\r\nbody",
		"From: a@x\r\nTo: <<<\r\n\r\nbody",
		"From: a@x\r\nContent-Type: text/plain; charset=klingon\r\n\r\nbody",
	} {
		_, err := ParseMIME([]byte(raw))
		wantErr(t, "ParseMIME("+strings.SplitN(raw, "\r\n", 2)[0]+")", err, ErrMimeContentConversionFailed)
	}
}

func TestCreateItemFromMIMEAndRender(t *testing.T) {
	m := newMailbox(t)
	it := mustItem(t, m, "inbox", Item{MIME: []byte(multipartMail)})
	if it.Subject != "Réunion" || it.Body.Type != BodyHTML {
		t.Errorf("CreateItem from MIME = %q %v", it.Subject, it.Body.Type)
	}
	got, err := m.MIMEContent(it.ID)
	if err != nil || !bytes.Equal(got, []byte(multipartMail)) {
		t.Errorf("MIMEContent of an item with MIME is not the stored MIME")
	}

	// An item without MIME gets one rendered, which parses back.
	plain := mustItem(t, m, "drafts", Item{Subject: "Grüße aus Köln", Body: Body{Type: BodyText, Content: "Zeile 1\nZeile 2 = ok"},
		From: &Address{Name: "Alice", Email: "alice@contoso.example"}, To: []Address{{Email: "bob@contoso.example"}},
		InternetMessageID: "<x@y>", Headers: []Header{{Name: "X-Custom", Value: "v"}, {Name: "Bad Name", Value: "dropped"}}})
	if _, _, err := m.AddAttachment(plain.ID, Attachment{Name: "notes.txt", ContentType: "text/plain", Content: []byte(strings.Repeat("abc", 50))}); err != nil {
		t.Fatal(err)
	}
	raw, err := m.MIMEContent(plain.ID)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseMIME(raw)
	if err != nil {
		t.Fatalf("ParseMIME(rendered) = %v\n%s", err, raw)
	}
	if back.Subject != plain.Subject || strings.ReplaceAll(back.Body.Content, "\r\n", "\n") != plain.Body.Content || back.Body.Type != BodyText ||
		back.From.Email != "alice@contoso.example" || back.To[0].Email != "bob@contoso.example" || back.InternetMessageID != "<x@y>" {
		t.Errorf("rendered MIME parses back to %q %q %+v %+v %q", back.Subject, back.Body.Content, back.From, back.To, back.InternetMessageID)
	}
	if !bytes.Contains(raw, []byte("X-Custom: v\r\n")) || bytes.Contains(raw, []byte("Bad Name")) {
		t.Errorf("rendered headers:\n%s", raw)
	}
	if !bytes.Contains(raw, []byte("filename=notes.txt")) || !bytes.Contains(raw, []byte("multipart/mixed")) {
		t.Errorf("rendered MIME lacks the attachment:\n%s", raw)
	}
}

func TestBodyConversions(t *testing.T) {
	tests := []struct{ html, text string }{
		{"<html><head><title>t</title><style>p{}</style></head><body><p>Hello <b>world</b></p><p>Second&nbsp;line &amp; more</p></body></html>", "Hello world\nSecond line & more"},
		{"one<br>two<br/>three", "one\ntwo\nthree"},
		{"<div>a</div><div>b</div><script>alert(1)</script>", "a\nb"},
		{"plain", "plain"},
	}
	for _, tc := range tests {
		if got := HTMLToText(tc.html); got != tc.text {
			t.Errorf("HTMLToText(%q) = %q, want %q", tc.html, got, tc.text)
		}
	}
	h := TextToHTML("a < b\nc")
	if !strings.Contains(h, "a &lt; b<br>") || !strings.Contains(h, "<body>") {
		t.Errorf("TextToHTML = %q", h)
	}
	if b := BodyAs(Body{Type: BodyHTML, Content: "<p>x</p>"}, BodyText); b != (Body{Type: BodyText, Content: "x"}) {
		t.Errorf("BodyAs(HTML, Text) = %+v", b)
	}
	if b := BodyAs(Body{Type: BodyText, Content: "x"}, "Best"); b.Type != BodyText {
		t.Errorf("BodyAs(Best) = %+v", b)
	}
}

func FuzzParseMIME(f *testing.F) {
	f.Add([]byte(multipartMail))
	f.Add([]byte("Subject: x\r\n\r\nbody"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n"))
	f.Add([]byte("Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: base64\r\n\r\n////"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		it, err := ParseMIME(raw)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("ParseMIME error %T %v, want a *Error", err, err)
			}
			return
		}
		// What parses renders and parses again.
		it.MIME = nil
		if _, err := ParseMIME(RenderMIME(it, nil)); err != nil {
			t.Fatalf("ParseMIME(RenderMIME(%+v)) = %v", it, err)
		}
	})
}
