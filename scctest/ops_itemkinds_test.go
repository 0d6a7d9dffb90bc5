package scctest

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

const tagURI = `<t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="Project" PropertyType="String"/>`

// createOne creates one item and returns its id.
func createOne(t *testing.T, s *Server, attrs, item string) string {
	t.Helper()
	r := do(t, s, nil, svcReq(imp(alice), `<m:CreateItem`+attrs+`><m:Items>`+item+`</m:Items></m:CreateItem>`))
	check(t, r, ok1())
	return find(t, r.body, "ItemId").attrOr("Id", "")
}

func getAll(t *testing.T, s *Server, id, extra string) resp {
	t.Helper()
	return do(t, s, nil, svcReq(imp(alice), `<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape>`+extra+`<t:AdditionalProperties>`+tagURI+
		`</t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="`+id+`"/></m:ItemIds></m:GetItem>`))
}

func TestFourItemKinds(t *testing.T) {
	s := newTestServer(t)
	common := `<t:Sensitivity>Private</t:Sensitivity><t:Body BodyType="HTML">&lt;p&gt;Hello &lt;b&gt;you&lt;/b&gt;&lt;/p&gt;</t:Body>` +
		`<t:Categories><t:String>Red</t:String><t:String>Work</t:String></t:Categories><t:Importance>High</t:Importance>`
	ext := `<t:ExtendedProperty>` + tagURI + `<t:Value>Apollo</t:Value></t:ExtendedProperty>`
	tests := []struct {
		name, attrs, item string
		want              map[string]string // element -> text
	}{
		{"Message", ` MessageDisposition="SaveOnly"`,
			`<t:Message><t:Subject>msg</t:Subject>` + common + `<t:ReminderMinutesBeforeStart>15</t:ReminderMinutesBeforeStart>` + ext +
				`<t:ToRecipients><t:Mailbox><t:EmailAddress>bob@contoso.example</t:EmailAddress></t:Mailbox></t:ToRecipients><t:IsRead>false</t:IsRead></t:Message>`,
			map[string]string{"ItemClass": "IPM.Note", "Subject": "msg", "Importance": "High", "Sensitivity": "Private", "IsRead": "false", "ReminderMinutesBeforeStart": "15", "Value": "Apollo", "DisplayTo": "Bob Brown"}},
		{"CalendarItem", ``,
			`<t:CalendarItem><t:Subject>meet</t:Subject>` + common + ext + `<t:Start>2026-12-03T10:00:00Z</t:Start><t:End>2026-12-03T11:00:00Z</t:End>` +
				`<t:Location>Room 1</t:Location><t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>bob@contoso.example</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees></t:CalendarItem>`,
			map[string]string{"ItemClass": "IPM.Appointment", "Start": "2026-12-03T10:00:00Z", "End": "2026-12-03T11:00:00Z", "Location": "Room 1", "CalendarItemType": "Single", "Value": "Apollo", "Importance": "High"}},
		{"Contact", ``,
			`<t:Contact><t:Subject>Ann</t:Subject>` + common + ext + `<t:FileAs>Lee, Ann</t:FileAs><t:GivenName>Ann</t:GivenName><t:CompanyName>Fabrikam</t:CompanyName>` +
				`<t:EmailAddresses><t:Entry Key="EmailAddress1">ann@fabrikam.example</t:Entry></t:EmailAddresses>` +
				`<t:PhoneNumbers><t:Entry Key="MobilePhone">+1 555 0100</t:Entry></t:PhoneNumbers><t:Surname>Lee</t:Surname></t:Contact>`,
			map[string]string{"ItemClass": "IPM.Contact", "FileAs": "Lee, Ann", "GivenName": "Ann", "Surname": "Lee", "CompanyName": "Fabrikam", "Entry": "ann@fabrikam.example", "Value": "Apollo"}},
		{"Task", ``,
			`<t:Task><t:Subject>chore</t:Subject>` + common + ext + `<t:DueDate>2026-12-10T00:00:00Z</t:DueDate><t:PercentComplete>50</t:PercentComplete><t:Status>InProgress</t:Status></t:Task>`,
			map[string]string{"ItemClass": "IPM.Task", "Status": "InProgress", "PercentComplete": "50", "IsComplete": "false", "Value": "Apollo", "Sensitivity": "Private"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := createOne(t, s, tt.attrs, tt.item)
			r := getAll(t, s, id, "")
			check(t, r, ok1())
			if n := findAll(t, r.body, tt.name); len(n) != 1 {
				t.Fatalf("GetItem answer has %d %s elements, want 1:\n%s", len(n), tt.name, r.body)
			}
			for el, want := range tt.want {
				if got := textOf(t, r.body, el); got != want {
					t.Errorf("GetItem(%s) %s = %q, want %q", tt.name, el, got, want)
				}
			}
			var cats []string
			for _, c := range find(t, r.body, "Categories").kids {
				cats = append(cats, c.text)
			}
			if strings.Join(cats, ",") != "Red,Work" {
				t.Errorf("GetItem(%s) Categories = %v, want Red,Work", tt.name, cats)
			}
			if b := findT(t, r.body, "Body"); b.attrOr("BodyType", "") != "HTML" || !strings.Contains(b.text, "<b>you</b>") {
				t.Errorf("GetItem(%s) Body = %s, want the HTML as stored", tt.name, b)
			}
			// BodyType Text converts.
			r = getAll(t, s, id, `<t:BodyType>Text</t:BodyType>`)
			if b := findT(t, r.body, "Body"); b.attrOr("BodyType", "") != "Text" || strings.Contains(b.text, "<") || !strings.Contains(b.text, "Hello you") {
				t.Errorf("GetItem(%s, BodyType Text) Body = %s, want plain text", tt.name, b)
			}
		})
	}
}

func TestItemPropertiesRefusedOrKept(t *testing.T) {
	s := newTestServer(t)
	id := createOne(t, s, ` MessageDisposition="SaveOnly"`, `<t:Message><t:Subject>x</t:Subject></t:Message>`)
	get := func(field string) resp {
		return do(t, s, nil, svcReq(imp(alice), `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="`+field+
			`"/></t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="`+id+`"/></m:ItemIds></m:GetItem>`))
	}
	errOf := func(code ews.ResponseCode) want {
		return want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{code}}
	}
	check(t, get("folder:DisplayName"), errOf(ews.ErrorInvalidPropertyRequest))
	for _, f := range []string{"item:EffectiveRights", "item:ConversationId", "item:UniqueBody", "item:Subject", "item:DateTimeCreated", "item:LastModifiedTime", "item:Size", "item:ParentFolderId", "item:HasAttachments", "item:ItemClass", "message:InternetMessageId"} {
		r := get(f)
		check(t, r, ok1())
		if n := find(t, r.body, strings.SplitN(f, ":", 2)[1]); n == nil {
			t.Errorf("GetItem(%s) answer lacks it:\n%s", f, r.body)
		}
	}
	// Read-only properties are refused on create, naming them.
	r := do(t, s, nil, svcReq(imp(alice), `<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message><t:Subject>x</t:Subject><t:Size>3</t:Size></t:Message></m:Items></m:CreateItem>`))
	check(t, r, errOf(ews.ErrorInvalidPropertySet))
	// A value outside the schema's enumeration fails schema validation
	// before the operation runs, as on Exchange (validate_req.go).
	r = do(t, s, nil, svcReq(imp(alice), `<m:CreateItem MessageDisposition="SaveOnly"><m:Items><t:Message><t:Importance>Urgent</t:Importance></t:Message></m:Items></m:CreateItem>`))
	check(t, r, faultOf(ews.ErrorSchemaValidation))
	// FindItem cannot return the body.
	r = do(t, s, nil, svcReq(imp(alice), `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:TextBody"/></t:AdditionalProperties></m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id="drafts"/></m:ParentFolderIds></m:FindItem>`))
	check(t, r, errOf(ews.ErrorInvalidPropertyRequest))
}

func TestCreateItemFromMIME(t *testing.T) {
	s := newTestServer(t)
	mime := "From: Bob <bob@contoso.example>\r\nTo: alice@contoso.example\r\nSubject: from mime\r\nMessage-ID: <m1@contoso.example>\r\nX-Custom: yes\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBody from MIME.\r\n"
	id := createOne(t, s, ` MessageDisposition="SaveOnly"`, `<t:Message><t:MimeContent CharacterSet="UTF-8">`+base64.StdEncoding.EncodeToString([]byte(mime))+`</t:MimeContent></t:Message>`)
	r := getAll(t, s, id, `<t:IncludeMimeContent>true</t:IncludeMimeContent>`)
	check(t, r, ok1())
	for el, want := range map[string]string{"Subject": "from mime", "InternetMessageId": "<m1@contoso.example>"} {
		if got := textOf(t, r.body, el); got != want {
			t.Errorf("GetItem(from MIME) %s = %q, want %q", el, got, want)
		}
	}
	if b := findT(t, r.body, "Body"); b == nil || !strings.Contains(b.text, "Body from MIME.") {
		t.Errorf("GetItem(from MIME) Body = %s, want the MIME body", b)
	}
	raw, err := base64.StdEncoding.DecodeString(find(t, r.body, "MimeContent").text)
	if err != nil || !strings.Contains(string(raw), "X-Custom: yes") {
		t.Errorf("GetItem(IncludeMimeContent) MimeContent = %q, %v; want the stored MIME", raw, err)
	}
	found := false
	for _, h := range findAll(t, r.body, "InternetMessageHeader") {
		found = found || (h.attrOr("HeaderName", "") == "X-Custom" && h.text == "yes")
	}
	if !found {
		t.Errorf("GetItem(from MIME) InternetMessageHeaders lack X-Custom: yes")
	}
}

// findT is find for an element of the types namespace.
func findT(t *testing.T, body []byte, local string) *node {
	t.Helper()
	for _, n := range findAll(t, body, local) {
		if n.name.Space == nsTypes {
			return n
		}
	}
	return nil
}

// textOf is the text of the first types element of that name ("<none>"
// when there is none).
func textOf(t *testing.T, body []byte, local string) string {
	t.Helper()
	if n := findT(t, body, local); n != nil {
		return n.text
	}
	return "<none>"
}

func (n *node) String() string {
	if n == nil {
		return "<none>"
	}
	return n.name.Local + "(" + n.attrOr("BodyType", "") + "): " + n.text
}

func TestIndexedContactProperties(t *testing.T) {
	s := newTestServer(t)
	id := createOne(t, s, ``, `<t:Contact><t:DisplayName>Ann</t:DisplayName><t:EmailAddresses><t:Entry Key="EmailAddress1">a1@x.example</t:Entry>`+
		`<t:Entry Key="EmailAddress2">a2@x.example</t:Entry></t:EmailAddresses></t:Contact>`)
	r := do(t, s, nil, svcReq(imp(alice), `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>`+
		`<t:IndexedFieldURI FieldURI="contacts:EmailAddress" FieldIndex="EmailAddress2"/></t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="`+id+`"/></m:ItemIds></m:GetItem>`))
	check(t, r, ok1())
	if es := findAll(t, r.body, "Entry"); len(es) != 1 || es[0].text != "a2@x.example" {
		t.Errorf("GetItem(contacts:EmailAddress/EmailAddress2) = %d entries, want a2@x.example alone", len(es))
	}
	r = do(t, s, nil, svcReq(imp(alice), `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>`+
		`<t:IndexedFieldURI FieldURI="item:Subject" FieldIndex="x"/></t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="`+id+`"/></m:ItemIds></m:GetItem>`))
	check(t, r, want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidPropertyRequest}})
}
