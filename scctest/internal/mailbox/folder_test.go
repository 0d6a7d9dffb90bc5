package mailbox

import (
	"errors"
	"strings"
	"testing"
)

func TestDistinguishedFoldersAreLazyAndStable(t *testing.T) {
	s := newStore(t, Options{})
	m := s.Mailbox("Alice@Contoso.example")
	if m.inited {
		t.Fatalf("a new mailbox has folders before first use")
	}
	if s.Mailbox("alice@contoso.example") != m {
		t.Fatalf("Mailbox is not case-insensitive")
	}
	for _, name := range DistinguishedFolderNames() {
		f, err := m.GetFolder(name)
		if err != nil {
			t.Fatalf("GetFolder(%s): %v", name, err)
		}
		if f.Distinguished != name {
			t.Errorf("GetFolder(%s).Distinguished = %q", name, f.Distinguished)
		}
		byID, err := m.GetFolder(f.ID)
		if err != nil || byID.ID != f.ID {
			t.Errorf("GetFolder(id of %s) = %v, %v", name, byID.ID, err)
		}
	}
	cal, _ := m.GetFolder("calendar")
	if cal.Kind != CalendarFolder || cal.Class != "IPF.Appointment" {
		t.Errorf("calendar = %v %q, want CalendarFolder IPF.Appointment", cal.Kind, cal.Class)
	}
	root, _ := m.GetFolder("root")
	if root.ParentID != "" {
		t.Errorf("root has parent %q", root.ParentID)
	}
}

func TestCreateFolder(t *testing.T) {
	tests := []struct {
		name      string
		parent    string
		nf        NewFolder
		wantKind  FolderKind
		wantClass string
		err       *Error
	}{
		{"generic", "msgfolderroot", NewFolder{DisplayName: "CRM Mail", Class: "IPF.Note"}, GenericFolder, "IPF.Note", nil},
		{"generic without class", "inbox", NewFolder{DisplayName: "Sub"}, GenericFolder, "", nil},
		{"custom class", "msgfolderroot", NewFolder{DisplayName: "CRM", Class: "IPF.Contact.CRM"}, GenericFolder, "IPF.Contact.CRM", nil},
		{"contacts", "msgfolderroot", NewFolder{Kind: ContactsFolder, DisplayName: "CRM Contacts"}, ContactsFolder, "IPF.Contact", nil},
		{"tasks", "msgfolderroot", NewFolder{Kind: TasksFolder, DisplayName: "CRM Tasks"}, TasksFolder, "IPF.Task", nil},
		{"calendar", "calendar", NewFolder{Kind: CalendarFolder, DisplayName: "Team"}, CalendarFolder, "IPF.Appointment", nil},
		{"class on typed folder", "msgfolderroot", NewFolder{Kind: TasksFolder, DisplayName: "X", Class: "IPF.Note"}, 0, "", ErrNoFolderClassOverride},
		{"empty name", "inbox", NewFolder{DisplayName: "  "}, 0, "", ErrInvalidValueForProperty},
		{"duplicate of distinguished", "msgfolderroot", NewFolder{DisplayName: "inbox"}, 0, "", ErrFolderExists},
		{"unknown parent", "nosuchfolder", NewFolder{DisplayName: "X"}, 0, "", ErrFolderNotFound},
		{"bad extended", "inbox", NewFolder{DisplayName: "Y", Extended: []ExtendedProperty{{URI: ExtendedFieldURI{PropertyTag: "0x8001", Type: PTString}, Values: []string{"x"}}}}, 0, "", ErrNoPropertyTagForCustom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMailbox(t)
			f, err := m.CreateFolder(tc.parent, tc.nf)
			wantErr(t, "CreateFolder", err, tc.err)
			if err != nil {
				return
			}
			if f.Kind != tc.wantKind || f.Class != tc.wantClass {
				t.Errorf("CreateFolder = %v %q, want %v %q", f.Kind, f.Class, tc.wantKind, tc.wantClass)
			}
			p, _ := m.GetFolder(tc.parent)
			if f.ParentID != p.ID || p.ChildCount == 0 {
				t.Errorf("parent = %q (children %d), want %q", f.ParentID, p.ChildCount, p.ID)
			}
		})
	}
}

func TestFolderNamesAreCaseInsensitivePerParent(t *testing.T) {
	m := newMailbox(t)
	mustFolder(t, m, "inbox", NewFolder{DisplayName: "Projects"})
	_, err := m.CreateFolder("inbox", NewFolder{DisplayName: "PROJECTS"})
	wantErr(t, "CreateFolder(PROJECTS)", err, ErrFolderExists)
	// The same name under another parent is fine.
	mustFolder(t, m, "drafts", NewFolder{DisplayName: "Projects"})
	b := mustFolder(t, m, "inbox", NewFolder{DisplayName: "Other"})
	_, err = m.RenameFolder(b.ID, b.ChangeKey, "projects")
	wantErr(t, "RenameFolder to a sibling's name", err, ErrFolderExists)
	// Renaming to a case variant of its own name is allowed.
	r, err := m.RenameFolder(b.ID, b.ChangeKey, "OTHER")
	wantErr(t, "RenameFolder(OTHER)", err, nil)
	if r.DisplayName != "OTHER" || r.ChangeKey == b.ChangeKey || r.ID != b.ID {
		t.Errorf("RenameFolder = %+v, want new name and change key, same id", r)
	}
	_, err = m.RenameFolder(b.ID, b.ChangeKey, "Again")
	wantErr(t, "RenameFolder with the old change key", err, ErrIrresolvableConflict)
	_, err = m.RenameFolder(b.ID, "garbage", "Again")
	wantErr(t, "RenameFolder with a bad change key", err, ErrInvalidChangeKey)
	_, err = m.RenameFolder("inbox", "", "Mail")
	wantErr(t, "RenameFolder(inbox)", err, ErrInvalidOperation)
}

func TestMoveCopyDeleteFolder(t *testing.T) {
	m := newMailbox(t)
	a := mustFolder(t, m, "msgfolderroot", NewFolder{DisplayName: "A"})
	b := mustFolder(t, m, a.ID, NewFolder{DisplayName: "B", Kind: ContactsFolder})
	mustItem(t, m, b.ID, Item{Kind: Contact, Subject: "Ada", Contact: &ContactFields{GivenName: "Ada"}})
	mustItem(t, m, a.ID, Item{Subject: "mail"})

	_, err := m.MoveFolder(a.ID, b.ID)
	wantErr(t, "MoveFolder into own subtree", err, ErrMoveCopyFailed)
	_, err = m.MoveFolder("inbox", a.ID)
	wantErr(t, "MoveFolder(inbox)", err, ErrMoveDistinguished)

	mv, err := m.MoveFolder(b.ID, "inbox")
	wantErr(t, "MoveFolder(B, inbox)", err, nil)
	inbox, _ := m.GetFolder("inbox")
	if mv.ID != b.ID || mv.ParentID != inbox.ID || mv.ChangeKey == b.ChangeKey {
		t.Errorf("MoveFolder = id %q parent %q, want same id under inbox with a new change key", mv.ID, mv.ParentID)
	}
	mv, _ = m.MoveFolder(b.ID, a.ID)

	cp, err := m.CopyFolder(a.ID, "drafts")
	wantErr(t, "CopyFolder", err, nil)
	if cp.ID == a.ID || cp.DisplayName != "A" || cp.TotalCount != 1 || cp.ChildCount != 1 {
		t.Errorf("CopyFolder = %+v, want a new A with 1 item and 1 child", cp)
	}
	sub, _ := m.FindFolders(cp.ID, Deep)
	if len(sub) != 1 || sub[0].DisplayName != "B" || sub[0].TotalCount != 1 || sub[0].ID == b.ID {
		t.Errorf("copied subtree = %+v, want a new B with its contact", sub)
	}
	_, err = m.CopyFolder(a.ID, "drafts")
	wantErr(t, "CopyFolder again", err, ErrFolderExists)

	wantErr(t, "DeleteFolder(inbox)", m.DeleteFolder("inbox", HardDelete), ErrDeleteDistinguished)

	// MoveToDeletedItems moves, from Deleted Items a soft delete.
	wantErr(t, "DeleteFolder(A, MoveToDeletedItems)", m.DeleteFolder(a.ID, MoveToDeletedItems), nil)
	got, _ := m.GetFolder(a.ID)
	del, _ := m.GetFolder("deleteditems")
	if got.ParentID != del.ID {
		t.Errorf("after MoveToDeletedItems parent = %q, want deleteditems", got.ParentID)
	}
	wantErr(t, "DeleteFolder(A, MoveToDeletedItems) in Deleted Items", m.DeleteFolder(a.ID, MoveToDeletedItems), nil)
	got, _ = m.GetFolder(a.ID)
	if !got.SoftDeleted {
		t.Errorf("a folder deleted from Deleted Items is not soft-deleted")
	}
	vis, _ := m.FindFolders("deleteditems", Shallow)
	soft, _ := m.FindFolders("deleteditems", SoftDeleted)
	if len(vis) != 0 || len(soft) != 1 {
		t.Errorf("deleteditems: %d visible, %d soft-deleted; want 0, 1", len(vis), len(soft))
	}

	wantErr(t, "DeleteFolder(copy, HardDelete)", m.DeleteFolder(cp.ID, HardDelete), nil)
	_, err = m.GetFolder(cp.ID)
	wantErr(t, "GetFolder(hard-deleted)", err, ErrFolderNotFound)
	wantErr(t, "DeleteFolder(hard-deleted)", m.DeleteFolder(cp.ID, HardDelete), ErrItemNotFound)
	for _, f := range sub {
		if _, err := m.GetFolder(f.ID); !errors.Is(err, ErrFolderNotFound) {
			t.Errorf("subfolder of a hard-deleted folder: %v", err)
		}
	}
	if m.bytes != sizeOfAll(m) {
		t.Errorf("mailbox bytes %d, items add up to %d", m.bytes, sizeOfAll(m))
	}
}

func sizeOfAll(m *Mailbox) int64 {
	var n int64
	for _, it := range m.items {
		n += int64(it.size)
	}
	return n
}

func TestFolderCounts(t *testing.T) {
	m := newMailbox(t)
	f := mustFolder(t, m, "inbox", NewFolder{DisplayName: "Counts"})
	mustFolder(t, m, f.ID, NewFolder{DisplayName: "Child"})
	a := mustItem(t, m, f.ID, Item{Subject: "a"})
	mustItem(t, m, f.ID, Item{Subject: "b", IsRead: true})
	mustItem(t, m, f.ID, Item{Subject: "c"})
	got, _ := m.GetFolder(f.ID)
	if got.TotalCount != 3 || got.UnreadCount != 2 || got.ChildCount != 1 || !got.HasSubfolders {
		t.Fatalf("counts = total %d unread %d children %d, want 3 2 1", got.TotalCount, got.UnreadCount, got.ChildCount)
	}
	if _, err := m.SetIsRead(a.ID, true); err != nil {
		t.Fatal(err)
	}
	got, _ = m.GetFolder(f.ID)
	if got.UnreadCount != 1 {
		t.Errorf("UnreadCount after SetIsRead = %d, want 1", got.UnreadCount)
	}
	props, err := m.FolderExtendedProperties(f.ID, []ExtendedFieldURI{
		{PropertyTag: "0x3602", Type: PTInteger}, {PropertyTag: "0x3603", Type: PTInteger},
		{PropertyTag: "13834", Type: PTBoolean}, {PropertyTag: "0x3613", Type: PTString},
		{PropertyTag: "0x6638", Type: PTInteger}, {PropertyTag: "0x3601", Type: PTInteger},
	})
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, p := range props {
		vals = append(vals, p.URI.PropertyTag+"="+strings.Join(p.Values, ","))
	}
	// No FolderClass -> no PR_CONTAINER_CLASS.
	want := "0x3602=3 0x3603=1 0x360a=true 0x6638=1 0x3601=1"
	if g := strings.Join(vals, " "); g != want {
		t.Errorf("computed folder properties = %s, want %s", g, want)
	}
}

func TestFolderIDsOfAnotherMailbox(t *testing.T) {
	s := newStore(t, Options{})
	a, b := s.Mailbox("a@x.example"), s.Mailbox("b@x.example")
	fa, _ := a.GetFolder("inbox")
	_, err := b.GetFolder(fa.ID)
	wantErr(t, "b.GetFolder(a's inbox)", err, ErrOtherMailbox)
	mb, info, err := s.Resolve(fa.ID)
	if err != nil || mb != a || info.Kind != KindFolderID {
		t.Errorf("Resolve(a's inbox) = %v %+v %v, want mailbox a", mb, info, err)
	}
	_, _, err = s.Resolve("AAMkbogus")
	wantErr(t, "Resolve(bogus)", err, ErrInvalidIDMalformed)
}

func TestUpdateFolder(t *testing.T) {
	hidden := ExtendedFieldURI{PropertyTag: "0x10F4", Type: PTBoolean}
	set := func(p Path, f Folder) FolderUpdate { return FolderUpdate{Op: SetField, Path: p, Value: f} }
	tests := []struct {
		name  string
		kind  FolderKind
		ups   []FolderUpdate
		check func(t *testing.T, m *Mailbox, f Folder)
		err   *Error
	}{
		{name: "class of a generic folder", ups: []FolderUpdate{set(Field("folder:FolderClass"), Folder{Class: "IPF.Note.Custom"})},
			check: func(t *testing.T, _ *Mailbox, f Folder) { eq(t, "Class", f.Class, "IPF.Note.Custom") }},
		{name: "class of a typed folder", kind: TasksFolder, ups: []FolderUpdate{set(Field("folder:FolderClass"), Folder{Class: "IPF.Note"})}, err: ErrNoFolderClassOverride},
		{name: "extended set then delete", ups: []FolderUpdate{
			set(Extended(hidden), Folder{Extended: []ExtendedProperty{{URI: hidden, Values: []string{"true"}}}}),
			set(Extended(crm("Owner", PTString)), Folder{Extended: []ExtendedProperty{{URI: crm("Owner", PTString), Values: []string{"sync"}}}}),
			{Op: DeleteField, Path: Extended(crm("Owner", PTString))},
		}, check: func(t *testing.T, m *Mailbox, f Folder) {
			p, _ := m.FolderExtendedProperties(f.ID, []ExtendedFieldURI{hidden, crm("Owner", PTString)})
			if len(p) != 1 || p[0].Values[0] != "true" {
				t.Errorf("extended = %+v, want PR_ATTR_HIDDEN only", p)
			}
		}},
		{name: "computed tag", ups: []FolderUpdate{set(Extended(ExtendedFieldURI{PropertyTag: "0x3602", Type: PTInteger}), Folder{Extended: []ExtendedProperty{{URI: ExtendedFieldURI{PropertyTag: "0x3602", Type: PTInteger}, Values: []string{"5"}}}})}, err: ErrInvalidPropertySet},
		{name: "read-only count", ups: []FolderUpdate{set(Field("folder:TotalCount"), Folder{TotalCount: 3})}, err: ErrInvalidPropertySet},
		{name: "item field", ups: []FolderUpdate{set(Field("item:Subject"), Folder{})}, err: ErrInvalidPropertyRequest},
		{name: "delete name", ups: []FolderUpdate{{Op: DeleteField, Path: Field("folder:DisplayName")}}, err: ErrInvalidPropertyDelete},
		{name: "all or nothing", ups: []FolderUpdate{set(Field("folder:DisplayName"), Folder{DisplayName: "New"}), set(Field("folder:TotalCount"), Folder{})}, err: ErrInvalidPropertySet},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMailbox(t)
			f := mustFolder(t, m, "msgfolderroot", NewFolder{DisplayName: "F", Kind: tc.kind})
			got, err := m.UpdateFolder(f.ID, f.ChangeKey, tc.ups)
			wantErr(t, "UpdateFolder", err, tc.err)
			if err != nil {
				after, _ := m.GetFolder(f.ID)
				if after.DisplayName != "F" || after.ChangeKey != f.ChangeKey {
					t.Errorf("a failed UpdateFolder changed the folder: %+v", after)
				}
				return
			}
			if got.ChangeKey == f.ChangeKey {
				t.Errorf("UpdateFolder kept the change key")
			}
			tc.check(t, m, got)
		})
	}
}
