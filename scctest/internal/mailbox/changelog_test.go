package mailbox

import (
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// summary renders net changes as "Type:subject" (Delete: "Delete:<id>"
// is mapped back to the subject through names).
func summary(changes []ItemChange, names map[string]string) []string {
	var out []string
	for _, c := range changes {
		name := names[c.ID]
		if c.Item != nil {
			name = c.Item.Subject
		}
		s := c.Type.String() + ":" + name
		if c.Type == SyncReadFlagChange {
			if c.IsRead {
				s += "=read"
			} else {
				s += "=unread"
			}
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func TestItemChangesNetSemantics(t *testing.T) {
	m := newMailbox(t)
	names := map[string]string{}
	create := func(folder, subj string) Item {
		it := mustItem(t, m, folder, Item{Subject: subj})
		names[it.ID] = subj
		return it
	}
	before := create("inbox", "before")
	unchanged := create("inbox", "unchanged")
	readOnly := create("inbox", "read-only")
	movedOut := create("inbox", "moved-out")
	deleted := create("inbox", "deleted")
	modified := create("inbox", "modified")
	_ = before
	_ = unchanged
	point := m.Seq()

	create("inbox", "new")
	gone := create("inbox", "new-and-gone")
	if _, err := m.DeleteItem(gone.ID, HardDelete); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SetIsRead(readOnly.ID, true); err != nil {
		t.Fatal(err)
	}
	mv, err := m.MoveItem(movedOut.ID, "drafts")
	if err != nil {
		t.Fatal(err)
	}
	names[mv.ID] = "moved-out"
	if _, err := m.DeleteItem(deleted.ID, MoveToDeletedItems); err != nil {
		t.Fatal(err)
	}
	res, err := m.UpdateItem(modified.ID, modified.ChangeKey, AutoResolve, []Update{{Op: SetField, Path: Field("item:Subject"), Value: Item{Subject: "modified2"}}})
	if err != nil {
		t.Fatal(err)
	}
	// read flag then a real change: an Update
	if _, err := m.SetIsRead(res.Item.ID, true); err != nil {
		t.Fatal(err)
	}
	cp, err := m.CopyItem(unchanged.ID, "drafts")
	if err != nil {
		t.Fatal(err)
	}
	names[cp.ID] = "copy"

	got, next, more, err := m.ItemChanges("inbox", point, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Create:new", "Delete:deleted", "Delete:moved-out", "ReadFlagChange:read-only=read", "Update:modified2"}
	if d := cmp.Diff(want, summary(got, names)); d != "" {
		t.Errorf("ItemChanges(inbox) (-want +got):\n%s", d)
	}
	if more || next != m.Seq() {
		t.Errorf("next %d more %v, want %d false", next, more, m.Seq())
	}
	got, _, _, _ = m.ItemChanges("drafts", point, 0)
	if d := cmp.Diff([]string{"Create:moved-out", "Create:unchanged"}, summary(got, names)); d != "" {
		t.Errorf("ItemChanges(drafts) (-want +got):\n%s", d)
	}
	// From the start: every item there now is a Create.
	got, _, _, _ = m.ItemChanges("inbox", 0, 0)
	if d := cmp.Diff([]string{"Create:before", "Create:modified2", "Create:new", "Create:read-only", "Create:unchanged"}, summary(got, names)); d != "" {
		t.Errorf("ItemChanges(inbox, 0) (-want +got):\n%s", d)
	}
	// Nothing after the last point.
	got, _, _, _ = m.ItemChanges("inbox", m.Seq(), 0)
	if len(got) != 0 {
		t.Errorf("ItemChanges(now) = %v", got)
	}
	_, _, _, err = m.ItemChanges("inbox", m.Seq()+1, 0)
	wantErr(t, "ItemChanges(future)", err, ErrInvalidRequest)
}

func TestItemChangesPaging(t *testing.T) {
	m := newMailbox(t)
	for _, s := range []string{"a", "b", "c", "d", "e"} {
		mustItem(t, m, "inbox", Item{Subject: s})
	}
	seen := map[string]int{}
	point := uint64(0)
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatalf("paging does not end")
		}
		got, next, more, err := m.ItemChanges("inbox", point, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 2 {
			t.Fatalf("page of %d, want at most 2", len(got))
		}
		for _, c := range got {
			seen[c.Item.Subject]++
		}
		point = next
		if !more {
			break
		}
	}
	if d := cmp.Diff(map[string]int{"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}, seen); d != "" {
		t.Errorf("pages (-want +got):\n%s", d)
	}
}

func TestFolderChanges(t *testing.T) {
	m := newMailbox(t)
	a := mustFolder(t, m, "msgfolderroot", NewFolder{DisplayName: "A"})
	b := mustFolder(t, m, "msgfolderroot", NewFolder{DisplayName: "B"})
	c := mustFolder(t, m, "msgfolderroot", NewFolder{DisplayName: "C"})
	d := mustFolder(t, m, "msgfolderroot", NewFolder{DisplayName: "D"})
	point := m.Seq()
	mustFolder(t, m, "msgfolderroot", NewFolder{DisplayName: "New"})
	if _, err := m.RenameFolder(a.ID, "", "A2"); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteFolder(b.ID, HardDelete); err != nil {
		t.Fatal(err)
	}
	if _, err := m.MoveFolder(c.ID, "recoverableitemsroot"); err != nil { // out of the tree
		t.Fatal(err)
	}
	if _, err := m.MoveFolder(d.ID, "inbox"); err != nil { // within the tree
		t.Fatal(err)
	}
	got, _, _, err := m.FolderChanges("msgfolderroot", point, 0)
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, ch := range got {
		name := map[string]string{b.ID: "B", c.ID: "C"}[ch.ID]
		if ch.Folder != nil {
			name = ch.Folder.DisplayName
		}
		s = append(s, ch.Type.String()+":"+name)
	}
	sort.Strings(s)
	if d := cmp.Diff([]string{"Create:New", "Delete:B", "Delete:C", "Update:A2", "Update:D"}, s); d != "" {
		t.Errorf("FolderChanges (-want +got):\n%s", d)
	}
	all, _, _, _ := m.FolderChanges("msgfolderroot", 0, 0)
	for _, ch := range all {
		if ch.Type != SyncCreate {
			t.Errorf("FolderChanges from 0: %v %s, want only creates", ch.Type, ch.Folder.DisplayName)
		}
	}
}

func TestChangesSinceAndSubscribe(t *testing.T) {
	m := newMailbox(t)
	sig, cancel := m.Subscribe()
	defer cancel()
	it, err := m.Deliver("inbox", Item{Subject: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	<-sig // a signal is waiting (coalesced, never blocking the writer)
	f := mustFolder(t, m, "inbox", NewFolder{DisplayName: "F"})
	mv, _ := m.MoveItem(it.ID, f.ID)
	cp, _ := m.CopyItem(mv.ID, "inbox")
	m.SetIsRead(cp.ID, true)
	m.DeleteItem(cp.ID, HardDelete)
	if _, err := m.CreateUserConfig("calendar", UserConfig{Name: "CategoryList"}); err != nil {
		t.Fatal(err)
	}
	m.DeleteUserConfig("calendar", "CategoryList")
	got, more := m.ChangesSince(0, 0)
	var types []string
	for _, c := range got {
		s := c.Type.String()
		if c.Folder {
			s += "(folder)"
		}
		if c.Associated {
			s += "(config)"
		}
		types = append(types, s)
	}
	want := "Created NewMail Created(folder) Moved Copied ReadFlag Deleted Created(config) Moved(config)"
	if g := strings.Join(types, " "); g != want || more {
		t.Errorf("ChangesSince(0) = %s (more %v), want %s", g, more, want)
	}
	if got[0].ID != it.ID || got[1].ID != it.ID {
		t.Errorf("Created/NewMail name %s and %s, want the delivered %s", got[0].ID, got[1].ID, it.ID)
	}
	var move Change
	for _, c := range got {
		if c.Type == ChangeMoved && !c.Associated {
			move = c
		}
	}
	if move.OldID != it.ID || move.ID != mv.ID || move.ParentID != f.ID {
		t.Errorf("Moved = %+v, want old %s new %s in %s", move, it.ID, mv.ID, f.ID)
	}
	page, more := m.ChangesSince(got[2].Seq, 3)
	if len(page) != 3 || !more || page[0].Seq != got[3].Seq {
		t.Errorf("ChangesSince(seq 3, 3) = %d entries more %v", len(page), more)
	}
	// Sequences increase.
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Fatalf("sequence not increasing at %d", i)
		}
	}
}

func TestConcurrentMailboxes(t *testing.T) {
	s := newStore(t, Options{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				m := s.Mailbox([]string{"a@x", "b@x", "c@x"}[i%3])
				it, err := m.CreateItem("inbox", Item{Subject: "s"})
				if err != nil {
					t.Error(err)
					return
				}
				m.FindItems("inbox", Query{Restriction: Exists{Path: Field("item:Subject")}})
				m.SetIsRead(it.ID, true)
				m.ItemChanges("inbox", 0, 10)
			}
		}(w)
	}
	wg.Wait()
	total := 0
	for _, k := range []string{"a@x", "b@x", "c@x"} {
		f, _ := s.Mailbox(k).GetFolder("inbox")
		total += f.TotalCount
		if f.UnreadCount != 0 {
			t.Errorf("%s unread %d", k, f.UnreadCount)
		}
	}
	if total != 400 {
		t.Errorf("total items %d, want 400", total)
	}
}

func TestCalendarChangesLogFreeBusy(t *testing.T) {
	m := newMailbox(t)
	start := d(2024, 6, 3)
	it := mustItem(t, m, "calendar", Item{Kind: CalendarItem, Calendar: &CalendarFields{Start: start, End: start.Add(3600e9)}})
	if _, err := m.DeleteItem(it.ID, HardDelete); err != nil {
		t.Fatal(err)
	}
	got, _ := m.ChangesSince(0, 0)
	var types []string
	for _, c := range got {
		types = append(types, c.Type.String())
	}
	if g := strings.Join(types, " "); g != "Created FreeBusyChanged Deleted FreeBusyChanged" {
		t.Errorf("calendar item changes = %s", g)
	}
	ch, _, _, _ := m.ItemChanges("calendar", 0, 0)
	if len(ch) != 0 {
		t.Errorf("ItemChanges after create+delete = %+v", ch)
	}
}

// TestItemChangesPagingLosesNothing: an item changed again after a later
// item was created is still reported as a Create across pages.
func TestItemChangesPagingLosesNothing(t *testing.T) {
	m := newMailbox(t)
	x := mustItem(t, m, "inbox", Item{Subject: "x"})
	mustItem(t, m, "inbox", Item{Subject: "y"})
	if _, err := m.UpdateItem(x.ID, x.ChangeKey, AutoResolve, []Update{{Op: SetField, Path: Field("item:Subject"), Value: Item{Subject: "x2"}}}); err != nil {
		t.Fatal(err)
	}
	gone := mustItem(t, m, "inbox", Item{Subject: "z"})
	m.DeleteItem(gone.ID, HardDelete)
	known := map[string]bool{}
	point := uint64(0)
	for i := 0; i < 10; i++ {
		got, next, more, err := m.ItemChanges("inbox", point, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range got {
			switch c.Type {
			case SyncCreate:
				known[c.ID] = true
			case SyncUpdate:
				if !known[c.ID] {
					t.Errorf("Update of %s before its Create", c.Item.Subject)
				}
			}
		}
		point = next
		if !more {
			break
		}
	}
	if len(known) != 2 {
		t.Errorf("created %d items across pages, want 2 (x and y)", len(known))
	}
}

// A move within one folder is one write touching two items; paging by one
// must still advance.
func TestItemChangesPagingAdvancesOverOneWrite(t *testing.T) {
	m := newMailbox(t)
	it := mustItem(t, m, "inbox", Item{Subject: "x"})
	point := m.Seq()
	if _, err := m.MoveItem(it.ID, "inbox"); err != nil {
		t.Fatal(err)
	}
	mustItem(t, m, "inbox", Item{Subject: "y"})
	var seen []string
	for i := 0; i < 5; i++ {
		got, next, more, err := m.ItemChanges("inbox", point, 1)
		if err != nil {
			t.Fatal(err)
		}
		if next <= point && more {
			t.Fatalf("ItemChanges(%d, 1) does not advance (next %d)", point, next)
		}
		for _, c := range got {
			seen = append(seen, c.Type.String())
		}
		point = next
		if !more {
			break
		}
	}
	sort.Strings(seen)
	if d := cmp.Diff([]string{"Create", "Create", "Delete"}, seen); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
}

func TestStringersOfUnknownValues(t *testing.T) {
	for _, s := range []string{SyncChangeType(9).String(), UpdateOp(9).String(), CompareOp(99).String(), ChangeType(99).String()} {
		if s != "Unknown" {
			t.Errorf("String() of an unknown value = %q, want Unknown", s)
		}
	}
}
