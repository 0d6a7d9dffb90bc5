package scctest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

func findItemPage(offset, max int) string {
	return fmt.Sprintf(`<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="%d" Offset="%d" BasePoint="Beginning"/><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`, max, offset)
}

func TestFindItemPaging(t *testing.T) {
	s := newTestServer(t)
	seedItems(25)(t, s)
	type page struct {
		Offset, Total string
		Last          string
		Subjects      []string
	}
	var got []page
	for offset := 0; offset < 30; offset += 10 {
		r := do(t, s, nil, svcReq(imp(alice), findItemPage(offset, 10)))
		check(t, r, ok1())
		rf := find(t, r.body, "RootFolder")
		p := page{Offset: rf.attrOr("IndexedPagingOffset", ""), Total: rf.attrOr("TotalItemsInView", ""), Last: rf.attrOr("IncludesLastItemInRange", "")}
		for _, subj := range findAll(t, r.body, "Subject") {
			p.Subjects = append(p.Subjects, subj.text)
		}
		got = append(got, p)
	}
	// Newest first: message 24 .. message 0.
	subjects := func(from, to int) []string {
		var out []string
		for i := from; i >= to; i-- {
			out = append(out, fmt.Sprintf("message %d", i))
		}
		return out
	}
	want := []page{
		{"10", "25", "false", subjects(24, 15)},
		{"20", "25", "false", subjects(14, 5)},
		{"25", "25", "true", subjects(4, 0)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

func TestCreateFindDelete(t *testing.T) {
	s := newTestServer(t)
	create := `<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="drafts"/></m:SavedItemFolderId><m:Items>` +
		`<t:Message><t:Subject>first</t:Subject><t:Body BodyType="Text">one</t:Body></t:Message>` +
		`<t:Message><t:Subject>second &amp; last</t:Subject></t:Message></m:Items></m:CreateItem>`
	r := do(t, s, nil, svcReq(imp(bob), create))
	check(t, r, want{status: 200, classes: []string{"Success", "Success"}})
	ids := findAll(t, r.body, "ItemId")
	if len(ids) != 2 {
		t.Fatalf("CreateItem returned %d ids, want 2", len(ids))
	}
	items, err := s.Items(bob, "drafts")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Subject != "first" || items[1].Subject != "second & last" || items[0].Body != "one" {
		t.Fatalf("Items(bob, drafts) = %+v, want the two created messages", items)
	}
	if items[0].ID != ids[0].attrOr("Id", "") || items[0].ChangeKey != ids[0].attrOr("ChangeKey", "") {
		t.Errorf("stored id %v does not match the returned one", items[0].ItemID)
	}

	// GetItem: batch mixes a good id, a malformed one, a folder id and an id
	// of another mailbox.
	aliceID, err := s.AddItem(alice, "inbox", Message{Subject: "private"})
	if err != nil {
		t.Fatal(err)
	}
	folderID, _ := s.FolderID(bob, "inbox")
	get := `<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:ItemIds>` +
		`<t:ItemId Id="` + items[0].ID + `"/><t:ItemId Id="%%%"/><t:ItemId Id="` + folderID + `"/><t:ItemId Id="` + aliceID.ID + `"/></m:ItemIds></m:GetItem>`
	r = do(t, s, nil, svcReq(imp(bob), get))
	check(t, r, want{status: 200, classes: []string{"Success", "Error", "Error", "Error"},
		codes: []ews.ResponseCode{ews.NoError, ews.ErrorInvalidIdMalformed, ews.ErrorCannotUseFolderIdForItemId, ews.ErrorAccessDenied}})
	if b := find(t, r.body, "Message").child(nsTypes, "Body"); b == nil || b.text != "one" || b.attrOr("BodyType", "") != "Text" {
		t.Errorf("GetItem Default shape body = %+v, want Text \"one\"", b)
	}

	// Delete with each disposal type.
	del := func(dt string, id ItemID) resp {
		return do(t, s, nil, svcReq(imp(bob), `<m:DeleteItem DeleteType="`+dt+`"><m:ItemIds><t:ItemId Id="`+id.ID+`" ChangeKey="`+id.ChangeKey+`"/></m:ItemIds></m:DeleteItem>`))
	}
	check(t, del("MoveToDeletedItems", items[0].ItemID), ok1())
	check(t, del("SoftDelete", items[1].ItemID), ok1())
	count := func(folder string) int {
		it, err := s.Items(bob, folder)
		if err != nil {
			t.Fatal(err)
		}
		return len(it)
	}
	if d, di, rd := count("drafts"), count("deleteditems"), count("recoverableitemsdeletions"); d != 0 || di != 1 || rd != 1 {
		t.Errorf("after deletes: drafts=%d deleteditems=%d recoverableitemsdeletions=%d, want 0 1 1", d, di, rd)
	}
	// A moved item has a new id, as in Exchange: the old one is gone.
	check(t, del("HardDelete", items[0].ItemID), want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorItemNotFound}})
	moved, err := s.Items(bob, "deleteditems")
	if err != nil || len(moved) != 1 || moved[0].ID == items[0].ID {
		t.Fatalf("Items(bob, deleteditems) = %+v, %v; want the moved message under a new id", moved, err)
	}
	check(t, del("HardDelete", moved[0].ItemID), ok1())
	check(t, del("HardDelete", moved[0].ItemID), want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorItemNotFound}})
	if di := count("deleteditems"); di != 0 {
		t.Errorf("deleteditems after HardDelete = %d, want 0", di)
	}
	s.AssertRequestCount(t, "DeleteItem", 5)
	s.AssertRequestCount(t, "CreateItem", 1)
	s.AssertImpersonated(t, bob)
	s.AssertNotImpersonated(t, carol)
}

func TestSendAndSaveCopyDelivers(t *testing.T) {
	s := newTestServer(t)
	send := `<m:CreateItem MessageDisposition="SendAndSaveCopy"><m:Items><t:Message><t:Subject>hi bob</t:Subject>` +
		`<t:ToRecipients><t:Mailbox><t:EmailAddress>bob@contoso.example</t:EmailAddress></t:Mailbox><t:Mailbox><t:EmailAddress>someone@elsewhere.example</t:EmailAddress></t:Mailbox></t:ToRecipients></t:Message></m:Items></m:CreateItem>`
	check(t, do(t, s, nil, svcReq(imp(alice), send)), ok1())
	inbox, _ := s.Items(bob, "inbox")
	sent, _ := s.Items(alice, "sentitems")
	if len(inbox) != 1 || inbox[0].Subject != "hi bob" || inbox[0].From != alice || inbox[0].IsRead {
		t.Errorf("bob's inbox = %+v, want one unread message from alice", inbox)
	}
	if len(sent) != 1 {
		t.Errorf("alice's sent items = %d, want 1", len(sent))
	}
}

func TestFindFolderDeep(t *testing.T) {
	s := newTestServer(t)
	r := do(t, s, nil, svcReq(imp(alice), `<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:ParentFolderIds><t:DistinguishedFolderId Id="root"/></m:ParentFolderIds></m:FindFolder>`))
	check(t, r, ok1())
	var names []string
	for _, n := range findAll(t, r.body, "DisplayName") {
		names = append(names, n.text)
	}
	for _, w := range []string{"Top of Information Store", "Inbox", "Drafts", "Sent Items", "Deleted Items", "Calendar", "Contacts", "Tasks", "Recoverable Items", "Deletions"} {
		if !strings.Contains(strings.Join(names, "|"), w) {
			t.Errorf("Deep FindFolder under root lacks %q; got %v", w, names)
		}
	}
	if n := len(findAll(t, r.body, "CalendarFolder")); n != 1 {
		t.Errorf("CalendarFolder elements = %d, want 1", n)
	}
	want := len(mbx.DistinguishedFolderNames()) - 1 // all but root
	if rf := find(t, r.body, "RootFolder"); rf.attrOr("TotalItemsInView", "") != itoa(want) {
		t.Errorf("TotalItemsInView = %s, want %d", rf.attrOr("TotalItemsInView", ""), want)
	}
}

func TestConvertIdRoundTrip(t *testing.T) {
	s := newTestServer(t)
	id, err := s.AddItem(alice, "inbox", Message{Subject: "x"})
	if err != nil {
		t.Fatal(err)
	}
	conv := func(from, to, v string) string {
		r := do(t, s, nil, svcReq("", `<m:ConvertId DestinationFormat="`+to+`"><m:SourceIds><t:AlternateId Format="`+from+`" Id="`+v+`" Mailbox="alice.alias@contoso.example"/></m:SourceIds></m:ConvertId>`))
		check(t, r, ok1())
		a := find(t, r.body, "AlternateId")
		if a.attrOr("Format", "") != to || a.attrOr("Mailbox", "") != alice {
			t.Fatalf("AlternateId = %v, want Format %s and the owner %s", a.attrs, to, alice)
		}
		return a.attrOr("Id", "")
	}
	v := id.ID
	for _, step := range [][2]string{{"EwsId", "HexEntryId"}, {"HexEntryId", "EntryId"}, {"EntryId", "StoreId"}, {"StoreId", "OwaId"}, {"OwaId", "EwsLegacyId"}, {"EwsLegacyId", "EwsId"}} {
		v = conv(step[0], step[1], v)
	}
	if v != id.ID {
		t.Errorf("round trip through every format = %q, want %q", v, id.ID)
	}
}

func TestResolveNames(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		entry string
		want  []string
	}{
		{"alice.alias@contoso.example", []string{alice}},
		{"SMTP:BOB@contoso.example", []string{bob}},
		{"alice@ad.contoso.example", []string{alice}},
		{"Clark", []string{carol}},
		{"nobody", nil},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			r := do(t, s, nil, svcReq("", `<m:ResolveNames ReturnFullContactData="true"><m:UnresolvedEntry>`+tt.entry+`</m:UnresolvedEntry></m:ResolveNames>`))
			var got []string
			for _, m := range findAll(t, r.body, "Resolution") {
				got = append(got, m.path(nsTypes, "Mailbox", "EmailAddress").text)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ResolveNames(%s) (-want +got):\n%s", tt.entry, diff)
			}
		})
	}
}

func TestSeed(t *testing.T) {
	s := NewServer(t)
	seed := `{
	  "mailboxes": [
	    {"primarySmtp": "dora@contoso.example", "displayName": "Dora", "password": "pw",
	     "items": [{"folder": "inbox", "subject": "Hello", "from": "eve@contoso.example", "received": "2024-05-01T10:00:00Z"}]},
	    {"primarySmtp": "eve@contoso.example"}
	  ],
	  "serviceAccounts": [{"logon": "CONTOSO\\svc", "password": "pw", "impersonate": ["dora@contoso.example"]}],
	  "tokens": [{"token": "t1", "kind": "app", "appId": "a1"}]
	}`
	if err := s.Seed(strings.NewReader(seed)); err != nil {
		t.Fatal(err)
	}
	items, err := s.Items("dora@contoso.example", "inbox")
	if err != nil || len(items) != 1 || items[0].Subject != "Hello" {
		t.Fatalf("Items = %+v, %v; want the seeded message", items, err)
	}
	body := envelope(version("Exchange2013_SP1")+imp("eve@contoso.example"), getInbox)
	check(t, do(t, s, nil, req{user: `CONTOSO\svc`, pass: "pw", body: body}), faultOf(ews.ErrorImpersonateUserDenied))
	for _, bad := range []string{`{"mailboxes": [{"primarySmtp": "x"}]}`, `{"unknown": 1}`, `{"tokens": [{"token": "t", "kind": "weird"}]}`, `{"serviceAccounts": [{"logon": "a", "password": "b", "impersonate": "some"}]}`} {
		if err := NewServer(t).Seed(strings.NewReader(bad)); err == nil {
			t.Errorf("Seed(%s) = nil error, want one", bad)
		}
	}
}

func TestDirectoryValidation(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"bad primary", second(s.AddMailbox(Mailbox{PrimarySMTP: "not an address"})), ErrInvalid},
		{"duplicate", second(s.AddMailbox(Mailbox{PrimarySMTP: "ALICE@contoso.example"})), ErrDuplicate},
		{"duplicate proxy", second(s.AddMailbox(Mailbox{PrimarySMTP: "x@contoso.example", ProxyAddresses: []string{"alice.alias@contoso.example"}})), ErrDuplicate},
		{"bad SID", second(s.AddMailbox(Mailbox{PrimarySMTP: "y@contoso.example", SID: "S-1-x"})), ErrInvalid},
		{"unknown folder", second(s.AddItem(alice, "attic", Message{})), ErrNotFound},
		{"unknown mailbox", second(s.AddItem("zed@contoso.example", "inbox", Message{})), ErrNotFound},
		{"duplicate account", s.AddServiceAccount(`contoso\SVC-SYNC`, "x", ImpersonateAll()), ErrDuplicate},
		{"account without password", s.AddServiceAccount("svc2", "", ImpersonateAll()), ErrInvalid},
		{"delegated token without user", s.AddToken("t", Token{Kind: Delegated}), ErrInvalid},
		{"token kind", s.AddToken("t", Token{}), ErrInvalid},
		{"SetGrant unknown", s.SetGrant("nobody", ImpersonateAll()), ErrNotFound},
	}
	for _, tt := range tests {
		if !errorsIs(tt.err, tt.want) {
			t.Errorf("%s: error = %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	mbs := s.Mailboxes()
	if len(mbs) != 3 || mbs[0].SID == "" || mbs[1].UPN != bob || mbs[0].String() != alice {
		t.Errorf("Mailboxes() = %+v", mbs)
	}
	if strings.Contains(fmt.Sprintf("%v %+v", mbs[0], mbs[0]), "alice-pw") && strings.Contains(fmt.Sprintf("%v", mbs[0]), "alice-pw") {
		t.Errorf("%%v of a Mailbox shows its password")
	}
}

func second[T any](_ T, err error) error { return err }

// Whatever a test stores, responses stay well-formed XML.
func TestOddCharactersAreEscaped(t *testing.T) {
	s := newTestServer(t)
	subject := "a\x01b <&> \"q\" 'x' \r\n\xff\xfe end ]]>"
	id, err := s.AddItem(alice, "inbox", Message{Subject: subject, Body: "<html>&nbsp;</html>"})
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, s, nil, svcReq(imp(alice), `<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id="`+id.ID+`"/></m:ItemIds></m:GetItem>`))
	check(t, r, ok1())
	got := find(t, r.body, "Subject").text
	want := "a\uFFFDb <&> \"q\" 'x' \r\n\uFFFD\uFFFD end ]]>"
	if got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
	if b := find(t, r.body, "Message").child(nsTypes, "Body").text; b != "<html>&nbsp;</html>" {
		t.Errorf("Body = %q", b)
	}
}
