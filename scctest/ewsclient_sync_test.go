package scctest_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// syncAll runs SyncItems to the end and returns the pages' change lists
// and the last state.
func syncAll(t *testing.T, c *ews.Client, req ews.SyncFolderItemsRequest) (pages [][]ews.ItemSyncChange, state string) {
	t.Helper()
	for p, err := range c.SyncItems(context.Background(), &req) {
		if err != nil {
			t.Fatalf("SyncItems page %d error = %v", len(pages), err)
		}
		pages = append(pages, p.Changes)
		state = p.SyncState
	}
	return pages, state
}

// TestSyncItemsWithEWSClient: an initial sync of 1,200 items in pages of
// 512 takes three requests; later writes by another client and by the
// seeding API come back as net changes; a tampered state is refused.
func TestSyncItemsWithEWSClient(t *testing.T) {
	ctx := context.Background()
	s, c := aliceClient(t)
	const n = 1200
	ids := make([]string, n)
	keys := make([]string, n)
	for i := range n {
		id, err := s.AddItem("alice@contoso.example", "inbox", scctest.Message{Subject: fmt.Sprintf("m%04d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i], keys[i] = id.ID, id.ChangeKey
	}
	inbox := ews.DistinguishedFolder(ews.FolderInbox)
	req := ews.SyncFolderItemsRequest{FolderID: inbox, MaxChanges: 512, AdditionalProperties: []ews.FieldURI{ews.FieldItemSubject}}
	before := s.Stats().Operations["SyncFolderItems"]
	pages, state := syncAll(t, c, req)
	if got := s.Stats().Operations["SyncFolderItems"] - before; got != 3 {
		t.Errorf("initial sync of %d items took %d requests, want 3", n, got)
	}
	var sizes []int
	seen := map[string]bool{}
	for _, p := range pages {
		sizes = append(sizes, len(p))
		for _, ch := range p {
			if ch.Type != ews.ChangeCreate || ch.Item.Subject == "" {
				t.Fatalf("initial change = %+v, want a Create with the subject", ch)
			}
			seen[ch.ItemID.ID] = true
		}
	}
	if diff := cmp.Diff([]int{512, 512, 176}, sizes); diff != "" {
		t.Errorf("initial page sizes (-want +got):\n%s", diff)
	}
	if len(seen) != n {
		t.Errorf("initial sync reported %d distinct items, want %d", len(seen), n)
	}

	// Changes: another client renames one item, marks one read, deletes
	// one, moves one to Deleted Items, creates one; the seeding API adds
	// one. An item created and deleted in between is not reported.
	other, err := ews.NewClient(s.EWSURL(), ews.WithBasicAuth("svc@contoso.example", "Passw0rd!"), ews.WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	other = other.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.example")))
	if r, err := other.UpdateItem(ctx, &ews.UpdateItemRequest{Changes: []ews.ItemChange{
		{ItemID: ews.ItemID{ID: ids[0], ChangeKey: keys[0]}, Kind: ews.KindMessage, Updates: []ews.ItemUpdate{ews.SetItemField(ews.FieldItemSubject, ews.Item{Subject: "renamed"})}},
	}, ConflictResolution: ews.AlwaysOverwrite}); err != nil || r.Results[0].Err != nil {
		t.Fatalf("UpdateItem(subject) = %+v, %v", r, err)
	}
	if r, err := other.UpdateItem(ctx, &ews.UpdateItemRequest{Changes: []ews.ItemChange{
		{ItemID: ews.ItemID{ID: ids[1], ChangeKey: keys[1]}, Kind: ews.KindMessage, Updates: []ews.ItemUpdate{ews.SetItemField(ews.FieldMessageIsRead, ews.Item{IsRead: true})}},
	}, ConflictResolution: ews.AlwaysOverwrite}); err != nil || r.Results[0].Err != nil {
		t.Fatalf("UpdateItem(IsRead) = %+v, %v", r, err)
	}
	if err := other.DeleteItemByID(ctx, ews.ItemID{ID: ids[2]}, ews.HardDelete); err != nil {
		t.Fatalf("DeleteItem error = %v", err)
	}
	if _, err := other.MoveItem(ctx, &ews.MoveItemRequest{ToFolderID: ews.DistinguishedFolder(ews.FolderDeletedItems), ItemIDs: []ews.ItemID{{ID: ids[3]}}}); err != nil {
		t.Fatalf("MoveItem error = %v", err)
	}
	created, err := other.CreateItemIn(ctx, inbox, ews.Item{Subject: "from client"})
	if err != nil {
		t.Fatalf("CreateItem error = %v", err)
	}
	transient, err := other.CreateItemIn(ctx, inbox, ews.Item{Subject: "transient"})
	if err != nil {
		t.Fatalf("CreateItem error = %v", err)
	}
	if err := other.DeleteItemByID(ctx, transient, ews.HardDelete); err != nil {
		t.Fatalf("DeleteItem(transient) error = %v", err)
	}
	seeded, err := s.AddItem("alice@contoso.example", "inbox", scctest.Message{Subject: "seeded"})
	if err != nil {
		t.Fatal(err)
	}
	req.SyncState = state
	pages, state2 := syncAll(t, c, req)
	type change struct{ Type, ID, Subject string }
	var got []change
	for _, p := range pages {
		for _, ch := range p {
			got = append(got, change{string(ch.Type), ch.ItemID.ID, ch.Item.Subject})
		}
	}
	want := []change{
		{"Update", ids[0], "renamed"},
		{"ReadFlagChange", ids[1], ""},
		{"Delete", ids[2], ""},
		{"Delete", ids[3], ""},
		{"Create", created.ID, "from client"},
		{"Create", seeded.ID, "seeded"},
	}
	sort.Slice(got, func(i, j int) bool { return got[i].ID < got[j].ID })
	sort.Slice(want, func(i, j int) bool { return want[i].ID < want[j].ID })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("net changes (-want +got):\n%s", diff)
	}

	// In sync: the next call reports nothing.
	req.SyncState = state2
	if pages, _ := syncAll(t, c, req); len(pages) != 1 || len(pages[0]) != 0 {
		t.Errorf("sync after catching up = %v, want one empty page", pages)
	}

	// Ignore leaves out the caller's own write.
	if r, err := c.UpdateItem(ctx, &ews.UpdateItemRequest{Changes: []ews.ItemChange{
		{ItemID: ews.ItemID{ID: ids[4], ChangeKey: keys[4]}, Kind: ews.KindMessage, Updates: []ews.ItemUpdate{ews.SetItemField(ews.FieldItemSubject, ews.Item{Subject: "mine"})}},
	}, ConflictResolution: ews.AlwaysOverwrite}); err != nil || r.Results[0].Err != nil {
		t.Fatalf("UpdateItem(mine) = %+v, %v", r, err)
	}
	ig := req
	ig.Ignore = []ews.ItemID{{ID: ids[4]}}
	if pages, _ := syncAll(t, c, ig); len(pages) != 1 || len(pages[0]) != 0 {
		t.Errorf("sync ignoring the own write = %v, want one empty page", pages)
	}

	// Tampered, truncated and foreign states are ErrorInvalidSyncStateData.
	drafts := ews.DistinguishedFolder(ews.FolderDrafts)
	b := []byte(state2)
	b[len(b)/2] ^= 1
	if b[len(b)/2] == '=' || b[len(b)/2] == '+' {
		b[len(b)/2] = 'A'
	}
	for _, tc := range []struct {
		name   string
		folder ews.FolderID
		state  string
	}{
		{"tampered", inbox, string(b)},
		{"truncated", inbox, state2[:len(state2)-4]},
		{"not base64", inbox, "H4sI!!!"},
		{"other folder", drafts, state2},
	} {
		_, err := c.SyncFolderItems(ctx, &ews.SyncFolderItemsRequest{FolderID: tc.folder, SyncState: tc.state})
		if !errors.Is(err, ews.ErrorInvalidSyncStateData) {
			t.Errorf("SyncFolderItems(%s state) error = %v, want ErrorInvalidSyncStateData", tc.name, err)
		}
	}
	// A state of another server (same mailbox and folder) is foreign too.
	s2, c2 := aliceClient(t)
	_ = s2
	if _, err := c2.SyncFolderItems(ctx, &ews.SyncFolderItemsRequest{FolderID: inbox, SyncState: state2}); !errors.Is(err, ews.ErrorInvalidSyncStateData) {
		t.Errorf("SyncFolderItems(state of another server) error = %v, want ErrorInvalidSyncStateData", err)
	}
	// A hierarchy state is not an item state.
	hs, err := c.SyncFolderHierarchy(ctx, &ews.SyncFolderHierarchyRequest{FolderID: &inbox})
	if err != nil {
		t.Fatalf("SyncFolderHierarchy error = %v", err)
	}
	if _, err := c.SyncFolderItems(ctx, &ews.SyncFolderItemsRequest{FolderID: inbox, SyncState: hs.SyncState}); !errors.Is(err, ews.ErrorInvalidSyncStateData) {
		t.Errorf("SyncFolderItems(hierarchy state) error = %v, want ErrorInvalidSyncStateData", err)
	}
}

// TestSyncFoldersWithEWSClient: the hierarchy sync reports created,
// renamed, moved and deleted folders as net changes.
func TestSyncFoldersWithEWSClient(t *testing.T) {
	ctx := context.Background()
	_, c := aliceClient(t)
	root := ews.DistinguishedFolder(ews.FolderMsgFolderRoot)
	req := ews.SyncFolderHierarchyRequest{FolderID: &root, AdditionalProperties: []ews.FieldURI{"folder:DisplayName"}}
	var state string
	initial := map[string]bool{}
	for p, err := range c.SyncFolders(ctx, &req) {
		if err != nil {
			t.Fatalf("SyncFolders error = %v", err)
		}
		for _, ch := range p.Changes {
			if ch.Type != ews.ChangeCreate {
				t.Errorf("initial hierarchy change = %+v, want Create", ch)
			}
			initial[ch.Folder.DisplayName] = true
		}
		state = p.SyncState
	}
	if !initial["Inbox"] || !initial["Drafts"] {
		t.Errorf("initial hierarchy = %v, want Inbox and Drafts among them", initial)
	}
	cr, err := c.CreateFolder(ctx, &ews.CreateFolderRequest{ParentFolderID: root, Folders: []ews.Folder{{DisplayName: "A"}, {DisplayName: "B"}}})
	if err != nil || cr.Results[0].Err != nil || cr.Results[1].Err != nil {
		t.Fatalf("CreateFolder = %+v, %v", cr, err)
	}
	a, b := cr.Results[0].Folder.FolderID, cr.Results[1].Folder.FolderID
	if _, err := c.DeleteFolder(ctx, &ews.DeleteFolderRequest{FolderIDs: []ews.FolderID{b}, DeleteType: ews.HardDelete}); err != nil {
		t.Fatalf("DeleteFolder error = %v", err)
	}
	req.SyncState = state
	var got []string
	for p, err := range c.SyncFolders(ctx, &req) {
		if err != nil {
			t.Fatalf("SyncFolders error = %v", err)
		}
		for _, ch := range p.Changes {
			got = append(got, string(ch.Type)+" "+ch.Folder.DisplayName)
			if ch.FolderID.ID != a.ID {
				t.Errorf("change of folder %s, want only A (%s)", ch.FolderID.ID, a.ID)
			}
		}
	}
	if diff := cmp.Diff([]string{"Create A"}, got); diff != "" {
		t.Errorf("hierarchy net changes (-want +got):\n%s", diff)
	}
}
