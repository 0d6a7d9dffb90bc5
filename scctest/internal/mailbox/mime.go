package mailbox

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// maxMIMEParts bounds the parts ParseMIME walks, so a hostile message
// cannot make it work forever.
const maxMIMEParts = 200

// maxMIMEDepth bounds multipart nesting.
const maxMIMEDepth = 8

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "", "utf-8", "us-ascii", "ascii":
		return r, nil
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("unknown charset %q", charset)
	}
	return enc.NewDecoder().Reader(r), nil
}

// ParseMIME parses an RFC 5322 message into the properties Exchange fills
// from MIME content: Subject, From, Sender, To, Cc, Bcc, Reply-To, Date
// (DateTimeSent), Message-ID, every header (InternetMessageHeaders) and the
// body (HTML when the message has an HTML part, else text). It fails with
// [ErrMimeContentConversionFailed] naming what is wrong.
func ParseMIME(raw []byte) (Item, error) {
	it := Item{Kind: Message, MIME: append([]byte(nil), raw...)}
	if err := fillFromMIME(&it); err != nil {
		return Item{}, err
	}
	return it, nil
}

func mimeErr(f string, a ...any) error { return errf(ErrMimeContentConversionFailed, f, a...) }

// fillFromMIME sets an item's properties from its MIME content (the MIME
// values win over ones given with it).
func fillFromMIME(it *Item) error {
	msg, err := mail.ReadMessage(bytes.NewReader(it.MIME))
	if err != nil {
		return mimeErr("the MIME content is not an RFC 5322 message: %v", err)
	}
	h := msg.Header
	dec := func(s string) string {
		d, err := wordDecoder.DecodeHeader(s)
		if err != nil {
			return s
		}
		return d
	}
	var headers []Header
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			headers = append(headers, Header{Name: k, Value: dec(v)})
		}
	}
	it.Headers = headers
	if s := h.Get("Subject"); s != "" {
		it.Subject = dec(s)
	}
	addrs := func(name string) ([]Address, error) {
		if h.Get(name) == "" {
			return nil, nil
		}
		p := mail.AddressParser{WordDecoder: wordDecoder}
		l, err := p.ParseList(h.Get(name))
		if err != nil {
			return nil, mimeErr("header %s: %v", name, err)
		}
		out := make([]Address, len(l))
		for i, a := range l {
			out[i] = Address{Name: a.Name, Email: a.Address}
		}
		return out, nil
	}
	for _, x := range []struct {
		name string
		dst  *[]Address
	}{{"To", &it.To}, {"Cc", &it.Cc}, {"Bcc", &it.Bcc}, {"Reply-To", &it.ReplyTo}} {
		l, err := addrs(x.name)
		if err != nil {
			return err
		}
		if l != nil {
			*x.dst = l
		}
	}
	for _, x := range []struct {
		name string
		dst  **Address
	}{{"From", &it.From}, {"Sender", &it.Sender}} {
		l, err := addrs(x.name)
		if err != nil {
			return err
		}
		if len(l) > 0 {
			a := l[0]
			*x.dst = &a
		}
	}
	if d := h.Get("Date"); d != "" {
		if t, err := mail.ParseDate(d); err == nil {
			it.Sent = t.UTC()
		}
	}
	if id := strings.TrimSpace(h.Get("Message-Id")); id != "" {
		it.InternetMessageID = id
	}
	var text, htm string
	var haveText, haveHTML bool
	parts := 0
	var walk func(ctype, cte string, body io.Reader, depth int) error
	walk = func(ctype, cte string, body io.Reader, depth int) error {
		parts++
		if parts > maxMIMEParts {
			return mimeErr("more than %d MIME parts", maxMIMEParts)
		}
		if ctype == "" {
			ctype = "text/plain"
		}
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			mt, params = "text/plain", map[string]string{}
		}
		if strings.HasPrefix(mt, "multipart/") {
			if depth >= maxMIMEDepth {
				return mimeErr("MIME parts nest deeper than %d", maxMIMEDepth)
			}
			if params["boundary"] == "" {
				return mimeErr("%s without boundary", mt)
			}
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return mimeErr("multipart body: %v", err)
				}
				if strings.HasPrefix(strings.ToLower(p.Header.Get("Content-Disposition")), "attachment") {
					continue
				}
				if err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1); err != nil {
					return err
				}
			}
		}
		if mt != "text/plain" && mt != "text/html" {
			return nil
		}
		var r io.Reader = body
		switch strings.ToLower(strings.TrimSpace(cte)) {
		case "quoted-printable":
			r = quotedprintable.NewReader(r)
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, &stripSpace{r: r})
		}
		cr, err := charsetReader(params["charset"], r)
		if err != nil {
			return mimeErr("%s part: %v", mt, err)
		}
		b, err := io.ReadAll(io.LimitReader(cr, DefaultMaxItemSize))
		if err != nil {
			return mimeErr("%s part: %v", mt, err)
		}
		s := strings.ToValidUTF8(string(b), "\uFFFD")
		if mt == "text/html" && !haveHTML {
			htm, haveHTML = s, true
		} else if mt == "text/plain" && !haveText {
			text, haveText = s, true
		}
		return nil
	}
	if err := walk(h.Get("Content-Type"), h.Get("Content-Transfer-Encoding"), msg.Body, 0); err != nil {
		return err
	}
	switch {
	case haveHTML:
		it.Body = Body{Type: BodyHTML, Content: htm}
	case haveText:
		it.Body = Body{Type: BodyText, Content: text}
	}
	return nil
}

// stripSpace drops CR, LF and blanks from base64 content.
type stripSpace struct{ r io.Reader }

func (s *stripSpace) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	if j == 0 && err == nil && n > 0 {
		return s.Read(p)
	}
	return j, err
}

// RenderMIME writes an RFC 5322 / MIME message for an item that has no
// MIME content of its own (one that has is returned as stored): headers
// From, Sender, To, Cc, Reply-To, Subject (RFC 2047 encoded when not
// ASCII), Date, Message-ID, MIME-Version, the stored Internet headers the
// model does not write itself, and the body as quoted-printable UTF-8;
// with file attachments a multipart/mixed with one base64 part each.
func RenderMIME(it Item, atts []Attachment) []byte {
	if len(it.MIME) > 0 {
		return append([]byte(nil), it.MIME...)
	}
	var b bytes.Buffer
	hdr := func(k, v string) {
		if v != "" {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	addr := func(a Address) string {
		return (&mail.Address{Name: a.Name, Address: a.Email}).String()
	}
	list := func(l []Address) string {
		s := make([]string, len(l))
		for i, a := range l {
			s[i] = addr(a)
		}
		return strings.Join(s, ", ")
	}
	if it.From != nil {
		hdr("From", addr(*it.From))
	}
	if it.Sender != nil {
		hdr("Sender", addr(*it.Sender))
	}
	hdr("To", list(it.To))
	hdr("Cc", list(it.Cc))
	hdr("Reply-To", list(it.ReplyTo))
	hdr("Subject", encodeWord(it.Subject))
	date := it.Sent
	if date.IsZero() {
		date = it.Created
	}
	if date.IsZero() {
		date = time.Unix(0, 0)
	}
	hdr("Date", date.UTC().Format(time.RFC1123Z))
	hdr("Message-ID", it.InternetMessageID)
	own := map[string]bool{"From": true, "Sender": true, "To": true, "Cc": true, "Reply-To": true, "Subject": true,
		"Date": true, "Message-Id": true, "Mime-Version": true, "Content-Type": true, "Content-Transfer-Encoding": true, "Bcc": true}
	for _, h := range it.Headers {
		k := textproto.CanonicalMIMEHeaderKey(h.Name)
		if !own[k] && validHeaderName(k) {
			hdr(k, encodeWord(strings.NewReplacer("\r", " ", "\n", " ").Replace(h.Value)))
		}
	}
	hdr("MIME-Version", "1.0")
	ctype := "text/plain; charset=utf-8"
	if it.Body.Type == BodyHTML {
		ctype = "text/html; charset=utf-8"
	}
	var files []Attachment
	for _, a := range atts {
		if a.Item == nil {
			files = append(files, a)
		}
	}
	writeBody := func(w io.Writer) {
		qp := quotedprintable.NewWriter(w)
		qp.Write([]byte(it.Body.Content))
		qp.Close()
	}
	if len(files) == 0 {
		hdr("Content-Type", ctype)
		hdr("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		writeBody(&b)
		return b.Bytes()
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	hdr("Content-Type", "multipart/mixed; boundary=\""+mw.Boundary()+"\"")
	b.WriteString("\r\n")
	pw, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
	writeBody(pw)
	for _, a := range files {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		disp := "attachment"
		if a.IsInline {
			disp = "inline"
		}
		h := textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(ct, map[string]string{"name": a.Name})},
			"Content-Disposition":       {mime.FormatMediaType(disp, map[string]string{"filename": a.Name})},
			"Content-Transfer-Encoding": {"base64"},
		}
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/octet-stream")
		}
		if h.Get("Content-Disposition") == "" {
			h.Set("Content-Disposition", disp)
		}
		if a.ContentID != "" {
			h.Set("Content-ID", "<"+strings.Trim(a.ContentID, "<>")+">")
		}
		pw, _ := mw.CreatePart(h)
		enc := base64.StdEncoding.EncodeToString(a.Content)
		for len(enc) > 76 {
			io.WriteString(pw, enc[:76]+"\r\n")
			enc = enc[76:]
		}
		io.WriteString(pw, enc+"\r\n")
	}
	mw.Close()
	b.Write(body.Bytes())
	return b.Bytes()
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// encodeWord RFC 2047-encodes a header value that is not printable ASCII.
func encodeWord(s string) string {
	for _, c := range s {
		if c >= 0x7f || (c < ' ' && c != '\t') {
			if !utf8.ValidString(s) {
				s = strings.ToValidUTF8(s, "\uFFFD")
			}
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	return s
}

// MIMEContent returns an item's MIME content: the stored one, or one the
// model renders (with its file attachments).
func (m *Mailbox) MIMEContent(id string) ([]byte, error) {
	m.rlock()
	defer m.mu.RUnlock()
	it, err := m.itemLocked(id)
	if err != nil {
		return nil, err
	}
	if len(it.data.MIME) > 0 {
		return append([]byte(nil), it.data.MIME...), nil
	}
	atts := make([]Attachment, len(it.atts))
	for i, a := range it.atts {
		atts[i] = a.a
	}
	return RenderMIME(it.data, atts), nil
}
