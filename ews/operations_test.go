package ews_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

func TestFindFolder(t *testing.T) {
	f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/findfolder.xml")))
	c := newClient(t, f)
	resp, err := c.FindFolder(context.Background(), &ews.FindFolderRequest{ParentFolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderMsgFolderRoot)}, Shape: ews.ShapeDefault})
	if err != nil {
		t.Fatalf("FindFolder = %v", err)
	}
	want := []ews.FindFolderResult{{
		ResponseMessage: ews.ResponseMessage{Class: ews.ClassSuccess, Code: ews.NoError},
		Page:            ews.PageInfo{IndexedPagingOffset: 2, TotalItemsInView: 2, IncludesLastItemInRange: true},
		Folders: []ews.Folder{
			{Kind: "Folder", FolderID: ews.FolderID{ID: "AAMkProjects=", ChangeKey: "AQAAAB=="}, FolderClass: "IPF.Note", DisplayName: "Projects", TotalCount: 17, UnreadCount: 2},
			{Kind: "ContactsFolder", FolderID: ews.FolderID{ID: "AAMkContacts=", ChangeKey: "AwAAAB=="}, FolderClass: "IPF.Contact", DisplayName: "Contacts & Friends", TotalCount: 5},
		},
	}}
	if diff := cmp.Diff(want, resp.Results); diff != "" {
		t.Errorf("FindFolder results (-want +got):\n%s", diff)
	}
}

func TestItemsPaging(t *testing.T) {
	pages := [][]byte{readTestdata(t, "responses/finditem-page1.xml"), readTestdata(t, "responses/finditem-page2.xml")}
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
		// Answer by the requested offset, as a server would.
		page := pages[1]
		body, _ := io.ReadAll(r.Body)
		if containsBytes(body, `Offset="0"`) {
			page = pages[0]
		}
		soapReply(200, page)(w, r, n)
	})
	c := newClient(t, f)
	items, err := c.FindAllItems(context.Background(), &ews.FindItemRequest{
		ParentFolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)},
		Shape:           ews.ShapeDefault,
		Page:            &ews.PageView{MaxEntries: 2},
	}, ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))
	if err != nil {
		t.Fatalf("FindAllItems = %v", err)
	}
	var subjects []string
	for _, it := range items {
		subjects = append(subjects, it.Subject)
	}
	if diff := cmp.Diff([]string{"Quarterly report 1", "Quarterly report 2", "Quarterly report 3"}, subjects); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}
	if got, want := items[2].From.EmailAddress, "carol@contoso.example"; got != want {
		t.Errorf("From = %q, want %q", got, want)
	}
	if got, want := items[0].DateTimeReceived, time.Date(2024, 3, 1, 8, 15, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("DateTimeReceived = %v, want %v", got, want)
	}
	reqs := f.Requests()
	if len(reqs) != 2 {
		t.Fatalf("server saw %d requests, want 2 pages", len(reqs))
	}
	for i, wantView := range []string{`MaxEntriesReturned="2" Offset="0"`, `MaxEntriesReturned="2" Offset="2"`} {
		if !containsBytes(reqs[i].Body, wantView) {
			t.Errorf("request %d lacks %s:\n%s", i, wantView, reqs[i].Body)
		}
	}

	// Breaking out of the iterator stops paging.
	before := len(f.Requests())
	for it, err := range c.Items(context.Background(), &ews.FindItemRequest{ParentFolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}, Page: &ews.PageView{MaxEntries: 2}}) {
		if err != nil || it.ItemID.ID != "AAMkItem1=" {
			t.Fatalf("first item = %+v, %v", it, err)
		}
		break
	}
	if got := len(f.Requests()) - before; got != 1 {
		t.Errorf("Items with break sent %d requests, want 1", got)
	}
}

func TestGetItem(t *testing.T) {
	f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/getitem.xml")))
	c := newClient(t, f)
	resp, err := c.GetItem(context.Background(), &ews.GetItemRequest{ItemIDs: []ews.ItemID{{ID: "AAMkItem1="}, {ID: "AAMkGone="}}, Shape: ews.ShapeDefault})
	if err != nil {
		t.Fatalf("GetItem = %v", err)
	}
	want := ews.Item{
		Kind: "Message", ItemID: ews.ItemID{ID: "AAMkItem1=", ChangeKey: "CQAAAB1="},
		ParentFolderID: ews.FolderID{ID: "AAMkInbox=", ChangeKey: "AQAAAA=="},
		ItemClass:      "IPM.Note", Subject: "Quarterly report 1",
		Body:             ews.Body{Type: ews.BodyText, Content: "Numbers <attached>."},
		DateTimeReceived: time.Date(2024, 3, 1, 8, 15, 0, 0, time.UTC),
		DateTimeSent:     time.Date(2024, 3, 1, 8, 14, 58, 0, time.UTC),
		DateTimeCreated:  time.Date(2024, 3, 1, 8, 15, 0, 0, time.UTC),
		Size:             1234,
		From:             ews.Mailbox{Name: "Carol", EmailAddress: "carol@contoso.example", RoutingType: "SMTP", MailboxType: "Mailbox"},
	}
	if diff := cmp.Diff(want, resp.Results[0].Item); diff != "" {
		t.Errorf("item (-want +got):\n%s", diff)
	}
	if err := resp.Results[1].Err; !errors.Is(err, ews.ErrorItemNotFound) {
		t.Errorf("Results[1].Err = %v, want ErrorItemNotFound", err)
	}
}

func TestCreateAndDeleteMessage(t *testing.T) {
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			soapReply(200, readTestdata(t, "responses/createitem.xml"))(w, r, n)
			return
		}
		soapReply(200, readTestdata(t, "responses/deleteitem.xml"))(w, r, n)
	})
	c := newClient(t, f).With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))
	ctx := context.Background()
	id, err := c.CreateMessage(ctx, ews.DistinguishedFolder(ews.FolderDrafts), ews.Message{Subject: "probe"})
	if err != nil {
		t.Fatalf("CreateMessage = %v", err)
	}
	if want := (ews.ItemID{ID: "AAMkDraft1=", ChangeKey: "CQAAABYAAAB="}); id != want {
		t.Errorf("CreateMessage = %+v, want %+v", id, want)
	}
	resp, err := c.DeleteItem(ctx, &ews.DeleteItemRequest{ItemIDs: []ews.ItemID{id, {ID: "AAMkGone="}}, DeleteType: ews.HardDelete})
	if err != nil {
		t.Fatalf("DeleteItem = %v", err)
	}
	if resp.Results[0].Err != nil || resp.Results[0].Class != ews.ClassSuccess {
		t.Errorf("Results[0] = %+v, want success", resp.Results[0])
	}
	var re *ews.ResponseError
	if !errors.As(resp.Results[1].Err, &re) || re.Index != 1 || re.Operation != "DeleteItem" {
		t.Errorf("Results[1].Err = %v, want *ResponseError at index 1 of DeleteItem", resp.Results[1].Err)
	}
}

func TestConvertID(t *testing.T) {
	f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/convertid.xml")))
	c := newClient(t, f)
	resp, err := c.ConvertID(context.Background(), &ews.ConvertIDRequest{DestinationFormat: ews.FormatEwsID,
		SourceIDs: []ews.AlternateID{{Format: ews.FormatHexEntryID, ID: "00000000A7B1D4", Mailbox: "alice@contoso.example"}}})
	if err != nil {
		t.Fatalf("ConvertID = %v", err)
	}
	want := ews.AlternateID{Format: ews.FormatEwsID, ID: "AAMkADk0Converted=", Mailbox: "alice@contoso.example"}
	if diff := cmp.Diff(want, resp.Results[0].AlternateID); diff != "" {
		t.Errorf("AlternateID (-want +got):\n%s", diff)
	}
	if resp.ServerVersion == nil || resp.ServerVersion.Product() != "Exchange 2019" {
		t.Errorf("ServerVersion = %+v, want Exchange 2019", resp.ServerVersion)
	}
}

func TestResolveNames(t *testing.T) {
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
		file := "responses/resolvenames.xml"
		if n > 0 {
			file = "responses/resolvenames-noresults.xml"
		}
		soapReply(200, readTestdata(t, file))(w, r, n)
	})
	c := newClient(t, f)
	resp, err := c.ResolveNames(context.Background(), &ews.ResolveNamesRequest{UnresolvedEntry: "alice", ReturnFullContactData: true})
	if err != nil {
		t.Fatalf("ResolveNames = %v", err)
	}
	want := []ews.Resolution{{
		Mailbox: ews.Mailbox{Name: "Alice Example", EmailAddress: "alice@contoso.example", RoutingType: "SMTP", MailboxType: "Mailbox"},
		Contact: &ews.Contact{DisplayName: "Alice Example", GivenName: "Alice", Surname: "Example",
			EmailAddresses: []ews.EmailAddressEntry{{Key: "EmailAddress1", Address: "SMTP:alice@contoso.example"}, {Key: "EmailAddress2", Address: "smtp:a.example@contoso.example"}}},
	}}
	if diff := cmp.Diff(want, resp.Resolutions); diff != "" {
		t.Errorf("Resolutions (-want +got):\n%s", diff)
	}
	resp, err = c.ResolveNames(context.Background(), &ews.ResolveNamesRequest{UnresolvedEntry: "nobody"})
	if err != nil {
		t.Fatalf("ResolveNames(nobody) = %v", err)
	}
	if !errors.Is(resp.Err, ews.ErrorNameResolutionNoResults) || len(resp.Resolutions) != 0 {
		t.Errorf("ResolveNames(nobody) = %+v, want ErrorNameResolutionNoResults", resp)
	}
}

func TestInvalidRequests(t *testing.T) {
	f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/getfolder-inbox.xml")))
	c := newClient(t, f)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"no folders", func() error { _, err := c.GetFolder(ctx, &ews.GetFolderRequest{}); return err }},
		{"empty folder id", func() error { _, err := c.Folder(ctx, ews.FolderID{}); return err }},
		{"both ids", func() error {
			_, err := c.Folder(ctx, ews.FolderID{ID: "x", Distinguished: ews.FolderInbox})
			return err
		}},
		{"bad distinguished", func() error { _, err := c.Folder(ctx, ews.DistinguishedFolder("in box")); return err }},
		{"bad mailbox", func() error {
			_, err := c.Folder(ctx, ews.FolderID{Distinguished: ews.FolderInbox, Mailbox: "not an address"})
			return err
		}},
		{"control char", func() error { _, err := c.Folder(ctx, ews.FolderID{ID: "a\x00b"}); return err }},
		{"bad shape", func() error {
			_, err := c.GetFolder(ctx, &ews.GetFolderRequest{FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}, Shape: "Everything"})
			return err
		}},
		{"page too big", func() error {
			_, err := c.FindItem(ctx, &ews.FindItemRequest{ParentFolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}, Page: &ews.PageView{MaxEntries: 5000}})
			return err
		}},
		{"no delete type", func() error { return c.DeleteItemByID(ctx, ews.ItemID{ID: "x"}, "") }},
		{"empty item id", func() error { return c.DeleteItemByID(ctx, ews.ItemID{}, ews.HardDelete) }},
		{"bad recipient", func() error {
			_, err := c.CreateMessage(ctx, ews.DistinguishedFolder(ews.FolderDrafts), ews.Message{ToRecipients: []string{"x"}})
			return err
		}},
		{"bad disposition", func() error {
			_, err := c.CreateItem(ctx, &ews.CreateItemRequest{MessageDisposition: "Print", Messages: []ews.Message{{}}})
			return err
		}},
		{"convertid no mailbox", func() error {
			_, err := c.ConvertID(ctx, &ews.ConvertIDRequest{DestinationFormat: ews.FormatEwsID, SourceIDs: []ews.AlternateID{{Format: ews.FormatEntryID, ID: "x"}}})
			return err
		}},
		{"resolvenames empty", func() error { _, err := c.ResolveNames(ctx, &ews.ResolveNamesRequest{}); return err }},
		{"nil request", func() error { _, err := c.GetItem(ctx, nil); return err }},
		{"nil context", func() error { _, err := c.Folder(nil, ews.DistinguishedFolder(ews.FolderInbox)); return err }}, //nolint:staticcheck // testing the nil check
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ews.ErrInvalidRequest) {
				t.Errorf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}
