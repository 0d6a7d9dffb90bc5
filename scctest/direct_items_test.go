package scctest_test

import (
	"errors"
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// Changes made with the direct item API come back from SyncFolderItems as
// another client's would: an Update with the new change key, a Delete for
// a hard delete, a Delete in the source and a Create (new id) in the
// target of a move.
func TestDirectItemChangesAreSynced(t *testing.T) {
	s, c := aliceClient(t)
	const alice = "alice@contoso.example"
	a, err := s.AddItem(alice, "inbox", scctest.Message{Subject: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.AddItem(alice, "inbox", scctest.Message{Subject: "b"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.AddItem(alice, "inbox", scctest.Message{Subject: "m"})
	if err != nil {
		t.Fatal(err)
	}
	inbox := ews.SyncFolderItemsRequest{FolderID: ews.DistinguishedFolder(ews.FolderInbox)}
	drafts := ews.SyncFolderItemsRequest{FolderID: ews.DistinguishedFolder(ews.FolderDrafts)}
	_, inbox.SyncState = syncAll(t, c, inbox)
	_, drafts.SyncState = syncAll(t, c, drafts)

	a2, err := s.SetItemSubject(alice, a.ID, "a2")
	if err != nil {
		t.Fatal(err)
	}
	if a2.ID != a.ID || a2.ChangeKey == a.ChangeKey {
		t.Errorf("SetItemSubject = %+v, want id %s with a new change key (was %s)", a2, a.ID, a.ChangeKey)
	}
	if err := s.DeleteItem(alice, b.ID); err != nil {
		t.Fatal(err)
	}
	m2, err := s.MoveItem(alice, m.ID, "drafts")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]ews.ChangeType{}
	pages, _ := syncAll(t, c, inbox)
	for _, p := range pages {
		for _, ch := range p {
			got[ch.ItemID.ID] = ch.Type
			if ch.Type == ews.ChangeUpdate && ch.ItemID.ChangeKey != a2.ChangeKey {
				t.Errorf("Update of %s has change key %s, want %s", ch.ItemID.ID, ch.ItemID.ChangeKey, a2.ChangeKey)
			}
		}
	}
	want := map[string]ews.ChangeType{a.ID: ews.ChangeUpdate, b.ID: ews.ChangeDelete, m.ID: ews.ChangeDelete}
	for id, ty := range want {
		if got[id] != ty {
			t.Errorf("inbox sync: item %s changed %q, want %q (all: %v)", id, got[id], ty, got)
		}
	}
	pages, _ = syncAll(t, c, drafts)
	if len(pages) != 1 || len(pages[0]) != 1 || pages[0][0].Type != ews.ChangeCreate || pages[0][0].ItemID.ID != m2.ID {
		t.Errorf("drafts sync = %+v, want one Create of the moved item %s", pages, m2.ID)
	}

	if err := s.DeleteItem(alice, b.ID); !errors.Is(err, scctest.ErrNotFound) {
		t.Errorf("DeleteItem(deleted item) = %v, want ErrNotFound", err)
	}
	if _, err := s.SetItemSubject(alice, m.ID, "x"); !errors.Is(err, scctest.ErrNotFound) {
		t.Errorf("SetItemSubject(moved item's old id) = %v, want ErrNotFound", err)
	}
	if _, err := s.MoveItem("nobody@contoso.example", m2.ID, "inbox"); !errors.Is(err, scctest.ErrNotFound) {
		t.Errorf("MoveItem(unknown mailbox) = %v, want ErrNotFound", err)
	}
}
