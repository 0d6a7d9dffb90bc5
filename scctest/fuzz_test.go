package scctest

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
)

// Fuzz targets of the fake's parsers (issues 11 and 12): the restriction
// parser and evaluator, the item parser and its render, the MIME path, the
// sync-state and watermark decoders, and whole requests through the
// handler. Each runs against a real server over a socket; a panic in a
// handler is recovered by the server and reported to its TB, which here is
// a recordingTB the target checks after every request.

// fuzzTimeout bounds one request, so a hang fails the target instead of
// stalling it.
const fuzzTimeout = 20 * time.Second

// fuzzServer is a server with alice and a service account, a few seeded
// items in alice's inbox and contacts, and the recordingTB its handlers
// report to.
func fuzzServer(f *testing.F) (*Server, *recordingTB) {
	f.Helper()
	rt := &recordingTB{TB: f}
	s := NewServer(rt)
	if _, err := s.AddMailbox(Mailbox{PrimarySMTP: alice, DisplayName: "Alice Anders"}); err != nil {
		f.Fatal(err)
	}
	if err := s.AddServiceAccount(testSvc, testPassword, ImpersonateAll()); err != nil {
		f.Fatal(err)
	}
	for _, m := range []Message{
		{Subject: "invoice 42", Body: "pay me"},
		{Subject: "Re: hello", Body: "<p>hi</p>"},
		{Subject: ""},
	} {
		if _, err := s.AddItem(alice, "inbox", m); err != nil {
			f.Fatal(err)
		}
	}
	return s, rt
}

// fuzzAnswer is what post read: the status, the raw body and the parsed
// envelope (nil when the body is not XML).
type fuzzAnswer struct {
	status int
	body   []byte
	root   *node
}

// post sends body as alice's service account and checks what every
// answer must be: a SOAP envelope with one Body child, never
// ErrorInternalServerError, and no failure reported by a handler.
func post(t testing.TB, s *Server, rt *recordingTB, body []byte) fuzzAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fuzzTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+EWSPath, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "text/xml; charset=utf-8")
	hr.SetBasicAuth(testSvc, testPassword)
	res, err := s.Client().Do(hr)
	if err != nil {
		t.Fatalf("request failed (hang or dropped connection): %v\nrequest %q", err, body)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v\nrequest %q", err, body)
	}
	if errs := rt.errors(); len(errs) > 0 {
		t.Fatalf("the handler failed: %s\nrequest %q", strings.Join(errs, "\n"), body)
	}
	a := fuzzAnswer{status: res.StatusCode, body: b}
	root, xe := parseXML(b)
	if xe != nil {
		t.Fatalf("answer %d is not XML (%v):\n%s\nrequest %q", res.StatusCode, xe, b, body)
	}
	if !root.is(nsSOAP, "Envelope") {
		t.Fatalf("answer root is %v, want soap:Envelope:\n%s", root.name, b)
	}
	sb := root.child(nsSOAP, "Body")
	if sb == nil || len(sb.kids) != 1 {
		t.Fatalf("answer has no single Body child:\n%s", b)
	}
	if f := sb.kids[0]; f.is(nsSOAP, "Fault") {
		if det := f.child("", "detail"); det != nil && det.child(nsErrors, "ResponseCode").trimmed() == string(ews.ErrorInternalServerError) {
			t.Fatalf("ErrorInternalServerError:\n%s\nrequest %q", b, body)
		}
	}
	a.root = root
	return a
}

// faultCode is the ResponseCode in the detail of a SOAP Fault answer, ""
// for an answer that is no fault.
func (a fuzzAnswer) faultCode() string {
	f := a.root.child(nsSOAP, "Body").kids[0]
	if !f.is(nsSOAP, "Fault") {
		return ""
	}
	if det := f.child("", "detail"); det != nil {
		if rc := det.child(nsErrors, "ResponseCode"); rc != nil {
			return rc.trimmed()
		}
	}
	return ""
}

// codes lists the ResponseCode of each response message of an answer.
func (a fuzzAnswer) codes() []string {
	op := a.root.child(nsSOAP, "Body").kids[0]
	rms := op.child(nsMessages, "ResponseMessages")
	if rms == nil {
		return nil
	}
	var out []string
	for _, m := range rms.kids {
		out = append(out, m.child(nsMessages, "ResponseCode").trimmed())
	}
	return out
}

// findAny returns the first element with the local name under n.
func findAny(n *node, local string) *node {
	if n.name.Local == local {
		return n
	}
	for _, k := range n.kids {
		if m := findAny(k, local); m != nil {
			return m
		}
	}
	return nil
}

// svcEnvelope is a request body by the service account impersonating
// alice.
func svcEnvelope(body string) []byte {
	return []byte(envelope(version("Exchange2013_SP1")+imp(alice), body))
}

// goldenRequests reads the golden requests of the ews package, the
// realistic seeds of the whole-request target.
func goldenRequests(f *testing.F) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "ews", "testdata", "requests", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// goldenPart returns, for each golden request holding the element
// <prefix:local>, its text from that element's start to its end.
func goldenPart(f *testing.F, open, closing string) []string {
	f.Helper()
	var out []string
	for _, b := range goldenRequests(f) {
		s := string(b)
		i := strings.Index(s, open)
		j := strings.LastIndex(s, closing)
		if i >= 0 && j > i {
			out = append(out, s[i:j+len(closing)])
		}
	}
	return out
}

// FuzzFindRestriction parses an arbitrary m:Restriction child directly and
// evaluates it over the seeded inbox with FindItem and over the folder
// tree with FindFolder: either answer is a well-formed envelope, a bad
// expression a schema fault or a typed error, never a panic or hang.
func FuzzFindRestriction(f *testing.F) {
	seeds := []string{
		`<t:IsEqualTo><t:FieldURI FieldURI="item:Subject"/><t:FieldURIOrConstant><t:Constant Value="invoice 42"/></t:FieldURIOrConstant></t:IsEqualTo>`,
		`<t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase"><t:FieldURI FieldURI="item:Subject"/><t:Constant Value="re"/></t:Contains>`,
		`<t:Not><t:Exists><t:FieldURI FieldURI="item:Categories"/></t:Exists></t:Not>`,
		`<t:Or><t:IsGreaterThan><t:FieldURI FieldURI="item:Size"/><t:FieldURIOrConstant><t:Constant Value="10"/></t:FieldURIOrConstant></t:IsGreaterThan><t:Excludes><t:FieldURI FieldURI="item:Size"/><t:Bitmask Value="0x1"/></t:Excludes></t:Or>`,
		`<t:IsEqualTo><t:FieldURI FieldURI="folder:DisplayName"/><t:FieldURIOrConstant><t:Constant Value="Inbox"/></t:FieldURIOrConstant></t:IsEqualTo>`,
		`<t:And/>`,
		`<t:IsLessThan><t:FieldURI FieldURI="item:DateTimeReceived"/><t:FieldURIOrConstant><t:FieldURI FieldURI="item:DateTimeCreated"/></t:FieldURIOrConstant></t:IsLessThan>`,
	}
	for _, g := range goldenPart(f, "<m:Restriction>", "</m:Restriction>") {
		seeds = append(seeds, strings.TrimSuffix(strings.TrimPrefix(g, "<m:Restriction>"), "</m:Restriction>"))
	}
	for _, s := range seeds {
		f.Add(s)
	}
	s, rt := fuzzServer(f)
	f.Fuzz(func(t *testing.T, expr string) {
		// The parser alone: a refusal is a fault naming the element.
		if root, xe := parseXML(svcEnvelope(`<m:FindItem><m:Restriction>` + expr + `</m:Restriction></m:FindItem>`)); xe == nil {
			op := root.child(nsSOAP, "Body").child(nsMessages, "FindItem")
			if _, fault := parseRestriction(op); fault != nil && fault.code == "" {
				t.Fatalf("parseRestriction(%q) refused without a code: %+v", expr, fault)
			}
		}
		post(t, s, rt, svcEnvelope(`<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:Restriction>`+expr+
			`</m:Restriction><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`))
		post(t, s, rt, svcEnvelope(`<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:Restriction>`+expr+
			`</m:Restriction><m:ParentFolderIds><t:DistinguishedFolderId Id="msgfolderroot"/></m:ParentFolderIds></m:FindFolder>`))
	})
}

// createThenRender stores items (a CreateItem m:Items child list) in
// drafts; for each stored item it renders it back with AllProperties and
// the MIME content, checks the rendered item goes through the item parser
// without panicking, and deletes it so the mailbox stays small.
func createThenRender(t testing.TB, s *Server, rt *recordingTB, items string) {
	t.Helper()
	a := post(t, s, rt, svcEnvelope(`<m:CreateItem MessageDisposition="SaveOnly" SendMeetingInvitations="SendToNone"><m:SavedItemFolderId><t:DistinguishedFolderId Id="drafts"/></m:SavedItemFolderId><m:Items>`+
		items+`</m:Items></m:CreateItem>`))
	op := a.root.child(nsSOAP, "Body").kids[0]
	rms := op.child(nsMessages, "ResponseMessages")
	if rms == nil {
		return
	}
	for _, rm := range rms.kids {
		id := findAny(rm, "ItemId")
		if id == nil {
			continue
		}
		ref := `<t:ItemId Id="` + xmlEscape(id.attrOr("Id", "")) + `"/>`
		g := post(t, s, rt, svcEnvelope(`<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape><m:ItemIds>`+ref+`</m:ItemIds></m:GetItem>`))
		if c := g.codes(); len(c) != 1 || c[0] != string(ews.NoError) {
			t.Fatalf("GetItem of a created item = %v:\n%s", c, g.body)
		}
		if items := findAny(g.root, "Items"); items == nil || len(items.kids) != 1 {
			t.Fatalf("GetItem of a created item holds no single item:\n%s", g.body)
		} else {
			// The render reparses: read-only fields are refused with a
			// response message, never a panic.
			parseItem(items.kids[0])
		}
		d := post(t, s, rt, svcEnvelope(`<m:DeleteItem DeleteType="HardDelete"><m:ItemIds>`+ref+`</m:ItemIds></m:DeleteItem>`))
		if c := d.codes(); len(c) != 1 || c[0] != string(ews.NoError) {
			t.Fatalf("DeleteItem of a created item = %v:\n%s", c, d.body)
		}
	}
}

// xmlEscape escapes an attribute value.
func xmlEscape(v string) string {
	var b strings.Builder
	for _, r := range v {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// FuzzCreateItem feeds arbitrary item XML to CreateItem; what is stored
// must render back as a well-formed item that reparses.
func FuzzCreateItem(f *testing.F) {
	seeds := []string{
		`<t:Message><t:Subject>s</t:Subject><t:Body BodyType="HTML">&lt;b&gt;x&lt;/b&gt;</t:Body><t:Categories><t:String>a</t:String></t:Categories><t:Importance>High</t:Importance></t:Message>`,
		`<t:Contact><t:GivenName>Ada</t:GivenName><t:EmailAddresses><t:Entry Key="EmailAddress1">ada@fabrikam.example</t:Entry></t:EmailAddresses><t:PhysicalAddresses><t:Entry Key="Business"><t:City>Oslo</t:City></t:Entry></t:PhysicalAddresses><t:PhoneNumbers><t:Entry Key="MobilePhone">+1 555</t:Entry></t:PhoneNumbers></t:Contact>`,
		`<t:CalendarItem><t:Subject>m</t:Subject><t:Start>2024-06-01T10:00:00Z</t:Start><t:End>2024-06-01T11:00:00Z</t:End><t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>2024-06-03</t:StartDate><t:NumberOfOccurrences>3</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence></t:CalendarItem>`,
		`<t:Task><t:Subject>t</t:Subject><t:DueDate>2024-06-01T00:00:00Z</t:DueDate><t:PercentComplete>50</t:PercentComplete></t:Task>`,
		`<t:Message><t:ExtendedProperty><t:ExtendedFieldURI PropertySetId="39717984-7536-4d32-bf68-76afadbfe15c" PropertyName="CrmRecordId" PropertyType="String"/><t:Value>r1</t:Value></t:ExtendedProperty></t:Message>`,
		`<t:Message><t:ItemId Id="x"/></t:Message>`,
	}
	for _, g := range goldenPart(f, "<m:Items>", "</m:Items>") {
		if strings.Contains(g, "CreateItem") || !strings.Contains(g, "ItemId") {
			seeds = append(seeds, strings.TrimSuffix(strings.TrimPrefix(g, "<m:Items>"), "</m:Items>"))
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	s, rt := fuzzServer(f)
	f.Fuzz(func(t *testing.T, items string) {
		// The parser alone.
		if root, xe := parseXML(svcEnvelope(`<m:Items>` + items + `</m:Items>`)); xe == nil {
			for _, k := range root.child(nsSOAP, "Body").kids[0].kids {
				parseItem(k)
			}
		}
		createThenRender(t, s, rt, items)
	})
}

// FuzzCreateItemMIME stores arbitrary bytes as an item's MimeContent and
// renders the item back with IncludeMimeContent.
func FuzzCreateItemMIME(f *testing.F) {
	for _, m := range []string{
		"From: Bob <bob@contoso.example>\r\nTo: alice@contoso.example\r\nSubject: from mime\r\nMessage-ID: <m1@contoso.example>\r\nX-Custom: yes\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBody from MIME.\r\n",
		"Subject: =?utf-8?B?w6lsw6k=?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>caf=E9</p>\r\n--b--\r\n",
		"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/related; boundary=i\r\n\r\n--i\r\n\r\nx\r\n--i--\r\n--o\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"a.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--o--\r\n",
		"no headers at all",
		"Subject: x\n\nbare LF",
		"",
	} {
		f.Add([]byte(m))
	}
	s, rt := fuzzServer(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		createThenRender(t, s, rt, `<t:Message><t:MimeContent CharacterSet="UTF-8">`+base64.StdEncoding.EncodeToString(raw)+`</t:MimeContent></t:Message>`)
	})
}

// FuzzSyncState decodes arbitrary sync-state text directly, and sends
// SyncFolderItems three states: the raw text, a state with a valid MAC over
// fuzzed content, and a valid state with one byte tampered. Each must be
// answered NoError or ErrorInvalidSyncStateData, never panic.
func FuzzSyncState(f *testing.F) {
	s, rt := fuzzServer(f)
	s.mu.Lock()
	box := s.box(s.dir.lookupAddr(alice))
	key := box.Key()
	inbox, err := box.FolderID("inbox")
	s.mu.Unlock()
	if err != nil {
		f.Fatal(err)
	}
	valid := s.encodeSyncState(syncState{op: 'I', mailbox: key, folderID: inbox, seq: 1})
	f.Add(valid, byte('I'), key, inbox, uint64(1), 0, byte(0))
	f.Add("H4sIAAAAAAAEAO29B2AcSZpage1", byte('H'), "", "", uint64(1<<63), 3, byte(1))
	f.Add("", byte(0), alice, "inbox", uint64(0), 20, byte(0x80))
	f.Add("AQ==\r\n", byte('I'), key, inbox, uint64(99), -1, byte(0xff))
	sync := func(t *testing.T, state string) {
		t.Helper()
		a := post(t, s, rt, svcEnvelope(`<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="inbox"/></m:SyncFolderId><m:SyncState>`+
			xmlEscape(state)+`</m:SyncState><m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>`))
		if c := a.codes(); len(c) != 1 || (c[0] != string(ews.NoError) && c[0] != string(ews.ErrorInvalidSyncStateData)) {
			if (len(c) == 1 && c[0] == string(ews.ErrorSchemaValidation)) || a.faultCode() == string(ews.ErrorSchemaValidation) {
				return // text the schema or XML refuses (control characters, …), as a response message or a fault
			}
			t.Fatalf("SyncFolderItems(%q) = %v, want NoError or ErrorInvalidSyncStateData:\n%s", state, c, a.body)
		}
	}
	f.Fuzz(func(t *testing.T, raw string, op byte, key, folder string, seq uint64, flipAt int, flip byte) {
		if st, err := s.decodeSyncState(raw); err == nil {
			if back, err := s.decodeSyncState(s.encodeSyncState(st)); err != nil || back != st {
				t.Fatalf("decode(encode(%+v)) = %+v, %v", st, back, err)
			}
		}
		sync(t, raw)
		forged := syncState{op: op, mailbox: key, folderID: folder, seq: seq}
		enc := s.encodeSyncState(forged)
		if back, err := s.decodeSyncState(enc); err != nil || back != forged {
			t.Fatalf("decode(encode(%+v)) = %+v, %v", forged, back, err)
		}
		sync(t, enc)
		b, _ := base64.StdEncoding.DecodeString(valid)
		if flipAt >= 0 && flipAt < len(b) && flip != 0 {
			b[flipAt] ^= flip
			tampered := base64.StdEncoding.EncodeToString(b)
			if _, err := s.decodeSyncState(tampered); err == nil {
				t.Fatalf("a state with byte %d tampered decodes", flipAt)
			}
			a := post(t, s, rt, svcEnvelope(`<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="inbox"/></m:SyncFolderId><m:SyncState>`+
				tampered+`</m:SyncState><m:MaxChangesReturned>10</m:MaxChangesReturned></m:SyncFolderItems>`))
			if c := a.codes(); len(c) != 1 || c[0] != string(ews.ErrorInvalidSyncStateData) {
				t.Fatalf("SyncFolderItems(tampered at %d) = %v, want ErrorInvalidSyncStateData", flipAt, c)
			}
		}
	})
}

// FuzzToken decodes arbitrary subscription ids and watermarks directly
// and sends them to GetEvents, which must refuse what it cannot use with a
// response code, never panic.
func FuzzToken(f *testing.F) {
	for _, v := range []string{opaqueToken(tagWatermark, 0, 1), opaqueToken(tagSubscription, 0, 1), "AAAA", "", "=", opaqueToken(tagWatermark, 1<<31, 1<<63)} {
		f.Add(v, v)
	}
	s, rt := fuzzServer(f)
	a := post(f, s, rt, svcEnvelope(`<m:Subscribe><m:PullSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="inbox"/></t:FolderIds><t:EventTypes><t:EventType>CreatedEvent</t:EventType></t:EventTypes><t:Timeout>10</t:Timeout></m:PullSubscriptionRequest></m:Subscribe>`))
	if sub, wm := findAny(a.root, "SubscriptionId"), findAny(a.root, "Watermark"); sub != nil && wm != nil {
		f.Add(sub.text, wm.text)
	}
	f.Fuzz(func(t *testing.T, sub, wm string) {
		for _, tag := range []byte{tagWatermark, tagSubscription} {
			if a, b, ok := parseToken(tag, wm); ok {
				if a2, b2, ok2 := parseToken(tag, opaqueToken(tag, a, b)); !ok2 || a2 != a || b2 != b {
					t.Fatalf("parseToken(%q) = %d, %d, which does not round-trip", wm, a, b)
				}
			}
		}
		post(t, s, rt, svcEnvelope(`<m:GetEvents><m:SubscriptionId>`+xmlEscape(sub)+`</m:SubscriptionId><m:Watermark>`+xmlEscape(wm)+`</m:Watermark></m:GetEvents>`))
	})
}

// FuzzRequest posts arbitrary bodies to the handler: every answer is a
// SOAP envelope, and the server keeps serving afterwards.
func FuzzRequest(f *testing.F) {
	for _, g := range goldenRequests(f) {
		f.Add(g)
	}
	f.Add([]byte(""))
	f.Add([]byte("<"))
	f.Add([]byte(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"/>`))
	s, rt := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		post(t, s, rt, body)
		a := post(t, s, rt, svcEnvelope(getInbox))
		if c := a.codes(); len(c) != 1 || c[0] != string(ews.NoError) {
			t.Fatalf("GetFolder(inbox) after %q = %v:\n%s", body, c, a.body)
		}
	})
}
