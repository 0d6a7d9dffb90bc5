package ews_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

const (
	syncState1 = "H4sIAAAAAAAEAO29B2AcSZpage1"
	syncState2 = "H4sIAAAAAAAEAO29B2AcSZpage2"
)

// syncCases are the golden requests of SyncFolderItems and
// SyncFolderHierarchy.
func syncCases() []opCase {
	return []opCase{
		{"syncfolderitems-first", "syncfolderitems-page1.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.SyncFolderItems(ctx, &ews.SyncFolderItemsRequest{FolderID: ews.DistinguishedFolder(ews.FolderInbox)})
			must(t, err)
			if resp.SyncState != syncState1 || resp.IncludesLastItemInRange || len(resp.Changes) != 5 {
				t.Errorf("SyncFolderItems = state %q, last %v, %d changes; want %q, false, 5", resp.SyncState, resp.IncludesLastItemInRange, len(resp.Changes), syncState1)
			}
		}},
		{"syncfolderitems-resume", "syncfolderitems-page2.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.SyncFolderItems(ctx, &ews.SyncFolderItemsRequest{
				FolderID:             ews.FolderID{ID: "AAMkFcon="},
				SyncState:            syncState1,
				AdditionalProperties: []ews.FieldURI{ews.FieldItemItemClass, ews.FieldItemSubject},
				ExtendedProperties:   []ews.ExtendedFieldURI{crmRecordID},
				Ignore:               []ews.ItemID{{ID: "AAMkIcon1new=", ChangeKey: "EQAAAA=="}, {ID: "AAMkIcon2new="}},
				MaxChanges:           100,
				Scope:                ews.SyncNormalAndAssociatedItems,
			})
			must(t, err)
			if !resp.IncludesLastItemInRange || resp.SyncState != syncState2 {
				t.Errorf("SyncFolderItems = last %v, state %q; want true, %q", resp.IncludesLastItemInRange, resp.SyncState, syncState2)
			}
		}},
		{"syncfolderhierarchy", "syncfolderhierarchy.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			root := ews.DistinguishedFolder(ews.FolderMsgFolderRoot)
			resp, err := c.SyncFolderHierarchy(ctx, &ews.SyncFolderHierarchyRequest{
				FolderID:             &root,
				SyncState:            "H4sIAAAAAAAEAHierarchy",
				AdditionalProperties: []ews.FieldURI{ews.FieldURI("folder:ParentFolderId"), ews.FieldFolderClass, ews.FieldFolderDisplayName},
			})
			must(t, err)
			want := []ews.FolderSyncChange{
				{Type: ews.ChangeCreate, FolderID: ews.FolderID{ID: "AAMkFcon2=", ChangeKey: "AwAAAA=="}, Folder: ews.Folder{
					Kind: "ContactsFolder", FolderID: ews.FolderID{ID: "AAMkFcon2=", ChangeKey: "AwAAAA=="},
					ParentFolderID: ews.FolderID{ID: "AAMkFroot=", ChangeKey: "AQAAAA=="}, FolderClass: "IPF.Contact", DisplayName: "CRM Contacts 2"}},
				{Type: ews.ChangeUpdate, FolderID: ews.FolderID{ID: "AAMkFtask=", ChangeKey: "BAAAAB=="}, Folder: ews.Folder{
					Kind: "TasksFolder", FolderID: ews.FolderID{ID: "AAMkFtask=", ChangeKey: "BAAAAB=="},
					ParentFolderID: ews.FolderID{ID: "AAMkFarch=", ChangeKey: "AQAAAB=="}, FolderClass: "IPF.Task", DisplayName: "CRM Tasks"}},
				{Type: ews.ChangeDelete, FolderID: ews.FolderID{ID: "AAMkFmail=", ChangeKey: "AQAAAC=="}},
			}
			if diff := cmp.Diff(want, resp.Changes); diff != "" {
				t.Errorf("SyncFolderHierarchy changes (-want +got):\n%s", diff)
			}
			if resp.SyncState != "H4sIAAAAAAAEAHierarchy2" || !resp.IncludesLastFolderInRange {
				t.Errorf("SyncFolderHierarchy = state %q, last %v; want H4sIAAAAAAAEAHierarchy2, true", resp.SyncState, resp.IncludesLastFolderInRange)
			}
		}},
		{"syncfolderhierarchy-mailbox", "syncfolderhierarchy.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			_, err := c.SyncFolderHierarchy(ctx, &ews.SyncFolderHierarchyRequest{Shape: ews.ShapeDefault})
			must(t, err)
		}},
	}
}

// TestSyncFolderItemsChanges checks every change type of a page, with the
// item kinds the server names.
func TestSyncFolderItemsChanges(t *testing.T) {
	f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/syncfolderitems-page1.xml")))
	resp, err := newClient(t, f).SyncFolderItems(context.Background(), &ews.SyncFolderItemsRequest{FolderID: ews.DistinguishedFolder(ews.FolderInbox)})
	if err != nil {
		t.Fatalf("SyncFolderItems = %v", err)
	}
	id := func(id, ck string) ews.ItemID { return ews.ItemID{ID: id, ChangeKey: ck} }
	want := []ews.ItemSyncChange{
		{Type: ews.ChangeCreate, ItemID: id("AAMkIcon7=", "EQAAAA=="), Item: ews.Item{Kind: "Contact", ItemID: id("AAMkIcon7=", "EQAAAA=="), ItemClass: "IPM.Contact", Subject: "Ada Lovelace"}},
		{Type: ews.ChangeCreate, ItemID: id("AQApAHRwA==", "CwAAABYA"), Item: ews.Item{Kind: "MeetingRequest", ItemID: id("AQApAHRwA==", "CwAAABYA"), Subject: "Budget Q3"}},
		{Type: ews.ChangeUpdate, ItemID: id("AAMkIcal8=", "DwAAAB=="), Item: ews.Item{Kind: "CalendarItem", ItemID: id("AAMkIcal8=", "DwAAAB=="), ItemClass: "IPM.Appointment", Subject: "Board meeting & lunch"}},
		{Type: ews.ChangeDelete, ItemID: id("AAMkIcon1=", "EQAAAC==")},
		{Type: ews.ChangeReadFlag, ItemID: id("AAMkImsg3=", "CQAAAD=="), IsRead: true},
	}
	// Only the fields this test sets are compared: the item parser may
	// fill more (extended properties, kind-specific fields).
	opt := cmp.Transformer("item", func(it ews.Item) ews.Item {
		return ews.Item{Kind: it.Kind, ItemID: it.ItemID, ItemClass: it.ItemClass, Subject: it.Subject}
	})
	if diff := cmp.Diff(want, resp.Changes, opt); diff != "" {
		t.Errorf("SyncFolderItems changes (-want +got):\n%s", diff)
	}
	if p, ok := resp.Changes[0].Item.ExtendedProperty(crmRecordID); !ok || p.Value != "contact-000007" {
		t.Errorf("Create change's CrmRecordId = %+v, %v; want contact-000007 (the extended property the shape asked for)", p, ok)
	}
	if resp.ServerVersion == nil || resp.ServerVersion.MajorVersion != 15 || resp.Code != ews.NoError {
		t.Errorf("SyncFolderItems = version %+v, code %s; want 15.x, NoError", resp.ServerVersion, resp.Code)
	}
}

// pagedSync answers SyncFolderItems with page 1 to a request without a
// SyncState and page 2 to one that carries page 1's state.
func pagedSync(t *testing.T) func(http.ResponseWriter, *http.Request, int) {
	page1 := readTestdata(t, "responses/syncfolderitems-page1.xml")
	page2 := readTestdata(t, "responses/syncfolderitems-page2.xml")
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		var body bytes.Buffer
		body.ReadFrom(r.Body)
		reply := page1
		switch {
		case containsBytes(body.Bytes(), "<m:SyncState>"+syncState1+"</m:SyncState>"):
			reply = page2
		case containsBytes(body.Bytes(), "<m:SyncState>"):
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		soapReply(200, reply)(w, r, 0)
	}
}

func TestSyncItemsPagesAndResume(t *testing.T) {
	f := newFakeEWS(t, pagedSync(t))
	c := newClient(t, f)
	ctx := context.Background()
	req := &ews.SyncFolderItemsRequest{FolderID: ews.DistinguishedFolder(ews.FolderContacts), MaxChanges: 5, Ignore: []ews.ItemID{{ID: "AAMkMine="}}}

	var states []string
	var last []bool
	changes := 0
	for page, err := range c.SyncItems(ctx, req) {
		if err != nil {
			t.Fatalf("SyncItems = %v", err)
		}
		states = append(states, page.SyncState)
		last = append(last, page.Last)
		changes += len(page.Changes)
	}
	if diff := cmp.Diff([]string{syncState1, syncState2}, states); diff != "" {
		t.Errorf("SyncItems states (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{false, true}, last); diff != "" || changes != 6 {
		t.Errorf("SyncItems Last = %v, %d changes; want [false true], 6", last, changes)
	}
	reqs := f.Requests()
	if len(reqs) != 2 {
		t.Fatalf("SyncItems sent %d requests, want 2", len(reqs))
	}
	for i, r := range reqs {
		for _, s := range []string{"<m:MaxChangesReturned>5</m:MaxChangesReturned>", `<t:ItemId Id="AAMkMine="/>`} {
			if !containsBytes(r.Body, s) {
				t.Errorf("request %d lacks %s", i, s)
			}
		}
	}

	// Stop after the first page, as a crash would; resuming from the state
	// stored after it asks for what follows.
	var stored string
	for page, err := range c.SyncItems(ctx, req) {
		if err != nil {
			t.Fatalf("SyncItems = %v", err)
		}
		stored = page.SyncState
		break
	}
	resumed := *req
	resumed.SyncState = stored
	var got []string
	for page, err := range c.SyncItems(ctx, &resumed) {
		if err != nil {
			t.Fatalf("SyncItems(resume) = %v", err)
		}
		for _, ch := range page.Changes {
			got = append(got, ch.ItemID.ID)
		}
	}
	if diff := cmp.Diff([]string{"AAMkItask9="}, got); diff != "" {
		t.Errorf("resumed SyncItems changes (-want +got):\n%s", diff)
	}
	if n := len(f.Requests()); n != 4 {
		t.Errorf("requests after break and resume = %d, want 4 (one for the broken loop, one to resume)", n)
	}
}

func TestSyncFoldersIterates(t *testing.T) {
	f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/syncfolderhierarchy.xml")))
	var kinds []ews.ChangeType
	for page, err := range newClient(t, f).SyncFolders(context.Background(), &ews.SyncFolderHierarchyRequest{}) {
		if err != nil {
			t.Fatalf("SyncFolders = %v", err)
		}
		if !page.Last || page.SyncState != "H4sIAAAAAAAEAHierarchy2" {
			t.Errorf("SyncFolders page = last %v, state %q; want true, H4sIAAAAAAAEAHierarchy2", page.Last, page.SyncState)
		}
		for _, ch := range page.Changes {
			kinds = append(kinds, ch.Type)
		}
	}
	if diff := cmp.Diff([]ews.ChangeType{ews.ChangeCreate, ews.ChangeUpdate, ews.ChangeDelete}, kinds); diff != "" {
		t.Errorf("SyncFolders change types (-want +got):\n%s", diff)
	}
}

// TestSyncInvalidSyncState checks that ErrorInvalidSyncStateData is a typed
// ResponseError, from the single call and from the iterator, so that a
// caller can drop the state and resync.
func TestSyncInvalidSyncState(t *testing.T) {
	f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/syncfolderitems-ErrorInvalidSyncStateData.xml")))
	c := newClient(t, f)
	req := &ews.SyncFolderItemsRequest{FolderID: ews.DistinguishedFolder(ews.FolderInbox), SyncState: "H4sIbroken"}
	_, err := c.SyncFolderItems(context.Background(), req)
	var re *ews.ResponseError
	if !errors.As(err, &re) || re.Code != ews.ErrorInvalidSyncStateData || !errors.Is(err, ews.ErrorInvalidSyncStateData) {
		t.Fatalf("SyncFolderItems = %v, want *ResponseError ErrorInvalidSyncStateData", err)
	}
	if re.Operation != "SyncFolderItems" || !strings.Contains(re.Message, "corrupt") {
		t.Errorf("ResponseError = %+v, want Operation SyncFolderItems and the server's message", re)
	}
	pages := 0
	for _, err := range c.SyncItems(context.Background(), req) {
		pages++
		if !errors.Is(err, ews.ErrorInvalidSyncStateData) {
			t.Errorf("SyncItems = %v, want ErrorInvalidSyncStateData", err)
		}
	}
	if pages != 1 {
		t.Errorf("SyncItems yielded %d times, want 1 (the error)", pages)
	}
}

// TestSyncItemsStuckServer: a server that claims more changes but returns
// none and the same state must not make the iterator loop forever.
func TestSyncItemsStuckServer(t *testing.T) {
	body := bytes.Replace(readTestdata(t, "responses/syncfolderitems-insync.xml"), []byte(">true<"), []byte(">false<"), 1)
	f := newFakeEWS(t, soapReply(200, body))
	req := &ews.SyncFolderItemsRequest{FolderID: ews.DistinguishedFolder(ews.FolderInbox), SyncState: syncState2}
	var errs []error
	for _, err := range newClient(t, f).SyncItems(context.Background(), req) {
		errs = append(errs, err)
	}
	var he *ews.HTTPError
	if len(errs) != 1 || !errors.As(errs[0], &he) || !strings.Contains(he.Reason, "same SyncState") {
		t.Fatalf("SyncItems = %v, want one *HTTPError about the same SyncState", errs)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("SyncItems sent %d requests, want 1", n)
	}
}

func TestSyncRequestsRefused(t *testing.T) {
	inbox := ews.DistinguishedFolder(ews.FolderInbox)
	items := func(r ews.SyncFolderItemsRequest) func(context.Context, *ews.Client) error {
		return func(ctx context.Context, c *ews.Client) error {
			_, err := c.SyncFolderItems(ctx, &r)
			return err
		}
	}
	tests := []struct {
		name string
		call func(context.Context, *ews.Client) error
		want string
	}{
		{"max changes negative", items(ews.SyncFolderItemsRequest{FolderID: inbox, MaxChanges: -1}), "MaxChanges -1 is outside 1..512"},
		{"max changes 513", items(ews.SyncFolderItemsRequest{FolderID: inbox, MaxChanges: 513}), "MaxChanges 513 is outside 1..512"},
		{"scope", items(ews.SyncFolderItemsRequest{FolderID: inbox, Scope: "Everything"}), `Scope "Everything"`},
		{"no folder", items(ews.SyncFolderItemsRequest{}), "SyncFolderId is empty"},
		{"state with space", items(ews.SyncFolderItemsRequest{FolderID: inbox, SyncState: syncState1 + "\n"}), "white space"},
		{"state control char", items(ews.SyncFolderItemsRequest{FolderID: inbox, SyncState: "H4s\x00I"}), "SyncState contains the character U+0000"},
		{"empty ignore id", items(ews.SyncFolderItemsRequest{FolderID: inbox, Ignore: []ews.ItemID{{}}}), "Ignore[0] has an empty ID"},
		{"shape", items(ews.SyncFolderItemsRequest{FolderID: inbox, Shape: "Everything"}), `base shape "Everything"`},
		{"nil items request", func(ctx context.Context, c *ews.Client) error { _, err := c.SyncFolderItems(ctx, nil); return err }, "request is nil"},
		{"nil hierarchy request", func(ctx context.Context, c *ews.Client) error { _, err := c.SyncFolderHierarchy(ctx, nil); return err }, "request is nil"},
		{"hierarchy empty folder", func(ctx context.Context, c *ews.Client) error {
			_, err := c.SyncFolderHierarchy(ctx, &ews.SyncFolderHierarchyRequest{FolderID: &ews.FolderID{}})
			return err
		}, "SyncFolderId is empty"},
		{"iterator nil request", func(ctx context.Context, c *ews.Client) error {
			for _, err := range c.SyncItems(ctx, nil) {
				return err
			}
			return nil
		}, "request is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, soapReply(500, nil))
			err := tt.call(context.Background(), newClient(t, f))
			if !errors.Is(err, ews.ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s = %v, want ErrInvalidRequest mentioning %q", tt.name, err, tt.want)
			}
			if n := len(f.Requests()); n != 0 {
				t.Errorf("%s sent %d requests, want 0", tt.name, n)
			}
		})
	}
}

// TestSyncResponsesMalformed checks that responses a server should never
// send are errors naming the problem, not silent data loss.
func TestSyncResponsesMalformed(t *testing.T) {
	page1 := string(readTestdata(t, "responses/syncfolderitems-page1.xml"))
	tests := []struct {
		name, body, want string
	}{
		{"no state", strings.Replace(page1, "<m:SyncState>"+syncState1+"</m:SyncState>", "", 1), "no SyncState"},
		{"delete without id", strings.Replace(page1, `<t:ItemId Id="AAMkIcon1=" ChangeKey="EQAAAC=="/>`, "", 1), "Delete change has no ItemId"},
		{"unknown change", strings.Replace(page1, "<t:Delete>\n              <t:ItemId Id=\"AAMkIcon1=\" ChangeKey=\"EQAAAC==\"/>\n            </t:Delete>", "<t:Purge/>", 1), `unknown change "Purge"`},
		{"empty create", strings.Replace(page1, "<t:MeetingRequest>\n                <t:ItemId Id=\"AQApAHRwA==\" ChangeKey=\"CwAAABYA\"/>\n                <t:Subject>Budget Q3</t:Subject>\n                <t:Sensitivity>Normal</t:Sensitivity>\n              </t:MeetingRequest>", "", 1), "Create change holds no item"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.body == page1 {
				t.Fatal("test body unchanged; fix the replacement")
			}
			f := newFakeEWS(t, soapReply(200, []byte(tt.body)))
			_, err := newClient(t, f).SyncFolderItems(context.Background(), &ews.SyncFolderItemsRequest{FolderID: ews.DistinguishedFolder(ews.FolderInbox)})
			var he *ews.HTTPError
			if !errors.As(err, &he) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("SyncFolderItems = %v, want *HTTPError mentioning %q", err, tt.want)
			}
		})
	}
}
