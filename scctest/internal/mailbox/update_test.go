package mailbox

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestUpdateItemFields(t *testing.T) {
	start := time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		folder string
		item   Item
		ups    []Update
		check  func(t *testing.T, got Item)
		err    *Error
	}{
		{name: "set subject", folder: "inbox", item: Item{Subject: "a"},
			ups:   []Update{{Op: SetField, Path: Field("item:Subject"), Value: Item{Subject: "b"}}},
			check: func(t *testing.T, got Item) { eq(t, "Subject", got.Subject, "b") }},
		{name: "delete subject", folder: "inbox", item: Item{Subject: "a"},
			ups:   []Update{{Op: DeleteField, Path: Field("item:Subject")}},
			check: func(t *testing.T, got Item) { eq(t, "Subject", got.Subject, "") }},
		{name: "append body", folder: "inbox", item: Item{Body: Body{Type: BodyText, Content: "one"}},
			ups:   []Update{{Op: AppendField, Path: Field("item:Body"), Value: Item{Body: Body{Type: BodyText, Content: " two"}}}},
			check: func(t *testing.T, got Item) { eq(t, "Body", got.Body.Content, "one two") }},
		{name: "append body of another type", folder: "inbox", item: Item{Body: Body{Type: BodyText, Content: "one"}},
			ups: []Update{{Op: AppendField, Path: Field("item:Body"), Value: Item{Body: Body{Type: BodyHTML, Content: "<b>x</b>"}}}},
			err: ErrInvalidPropertyAppend},
		{name: "append recipients", folder: "drafts", item: Item{To: []Address{{Email: "a@x"}}},
			ups: []Update{{Op: AppendField, Path: Field("message:ToRecipients"), Value: Item{To: []Address{{Email: "b@x"}}}}},
			check: func(t *testing.T, got Item) {
				if len(got.To) != 2 || got.To[1].Email != "b@x" {
					t.Errorf("To = %+v", got.To)
				}
			}},
		{name: "append categories refused", folder: "inbox", item: Item{},
			ups: []Update{{Op: AppendField, Path: Field("item:Categories"), Value: Item{Categories: []string{"x"}}}},
			err: ErrInvalidPropertyAppend},
		{name: "set categories", folder: "inbox", item: Item{Categories: []string{"a"}},
			ups: []Update{{Op: SetField, Path: Field("item:Categories"), Value: Item{Categories: []string{"Customer", "VIP"}}}},
			check: func(t *testing.T, got Item) {
				if d := cmp.Diff([]string{"Customer", "VIP"}, got.Categories); d != "" {
					t.Error(d)
				}
			}},
		{name: "read-only size", folder: "inbox", item: Item{},
			ups: []Update{{Op: SetField, Path: Field("item:Size"), Value: Item{Size: 1}}}, err: ErrInvalidPropertySet},
		{name: "not deletable importance", folder: "inbox", item: Item{},
			ups: []Update{{Op: DeleteField, Path: Field("item:Importance")}}, err: ErrInvalidPropertyDelete},
		{name: "bad enum", folder: "inbox", item: Item{},
			ups: []Update{{Op: SetField, Path: Field("item:Sensitivity"), Value: Item{Sensitivity: "Secret"}}}, err: ErrInvalidValueForProperty},
		{name: "unknown field", folder: "inbox", item: Item{},
			ups: []Update{{Op: SetField, Path: Field("item:NoSuch")}}, err: ErrInvalidPropertyRequest},
		{name: "field of another kind", folder: "inbox", item: Item{},
			ups: []Update{{Op: SetField, Path: Field("contacts:GivenName")}}, err: ErrInvalidPropertyRequest},
		{name: "contact email by index", folder: "contacts", item: Item{Kind: Contact, Contact: &ContactFields{EmailAddresses: []KeyedAddress{{Key: "EmailAddress1", Email: "old@x"}}}},
			ups: []Update{
				{Op: SetField, Path: Indexed("contacts:EmailAddress", "EmailAddress2"), Value: Item{Kind: Contact, Contact: &ContactFields{EmailAddresses: []KeyedAddress{{Key: "EmailAddress2", Email: "home@x"}}}}},
				{Op: DeleteField, Path: Indexed("contacts:EmailAddress", "EmailAddress1")},
				{Op: SetField, Path: Indexed("contacts:PhysicalAddress:City", "Business"), Value: Item{Kind: Contact, Contact: &ContactFields{PhysicalAddresses: []PhysicalAddress{{Key: "Business", City: "Shelbyville"}}}}},
				{Op: SetField, Path: Indexed("contacts:PhoneNumber", "MobilePhone"), Value: Item{Kind: Contact, Contact: &ContactFields{PhoneNumbers: []KeyedString{{Key: "MobilePhone", Value: "+1"}}}}},
			},
			check: func(t *testing.T, got Item) {
				c := got.Contact
				want := ContactFields{EmailAddresses: []KeyedAddress{{Key: "EmailAddress2", Email: "home@x"}},
					PhysicalAddresses: []PhysicalAddress{{Key: "Business", City: "Shelbyville"}},
					PhoneNumbers:      []KeyedString{{Key: "MobilePhone", Value: "+1"}}}
				if d := cmp.Diff(want, *c); d != "" {
					t.Errorf("contact (-want +got):\n%s", d)
				}
			}},
		{name: "bad field index", folder: "contacts", item: Item{Kind: Contact},
			ups: []Update{{Op: SetField, Path: Indexed("contacts:EmailAddress", "EmailAddress4")}}, err: ErrInvalidPropertyRequest},
		{name: "task status undoes completion", folder: "tasks", item: Item{Kind: Task, Task: &TaskFields{Status: "Completed"}},
			ups: []Update{{Op: SetField, Path: Field("task:Status"), Value: Item{Kind: Task, Task: &TaskFields{Status: "InProgress"}}}},
			check: func(t *testing.T, got Item) {
				if got.Task.Status != "InProgress" || got.Task.PercentComplete != 0 || !got.Task.CompleteDate.IsZero() {
					t.Errorf("task = %+v", got.Task)
				}
			}},
		{name: "task percent completes", folder: "tasks", item: Item{Kind: Task},
			ups:   []Update{{Op: SetField, Path: Field("task:PercentComplete"), Value: Item{Kind: Task, Task: &TaskFields{PercentComplete: 100}}}},
			check: func(t *testing.T, got Item) { eq(t, "Status", got.Task.Status, "Completed") }},
		{name: "calendar end before start", folder: "calendar", item: Item{Kind: CalendarItem, Calendar: &CalendarFields{Start: start, End: start.Add(time.Hour)}},
			ups: []Update{{Op: SetField, Path: Field("calendar:Start"), Value: Item{Kind: CalendarItem, Calendar: &CalendarFields{Start: start.Add(2 * time.Hour)}}}},
			err: ErrCalendarEndBeforeStart},
		{name: "extended set and delete", folder: "inbox", item: Item{Extended: []ExtendedProperty{{URI: crm("Hash", PTBinary), Values: []string{"AQ=="}}}},
			ups: []Update{
				{Op: SetField, Path: Extended(crm("Id", PTString)), Value: Item{Extended: []ExtendedProperty{{URI: crm("Id", PTString), Values: []string{"c-42"}}}}},
				{Op: DeleteField, Path: Extended(crm("Hash", PTBinary))},
			},
			check: func(t *testing.T, got Item) {
				if len(got.Extended) != 1 || got.Extended[0].Values[0] != "c-42" {
					t.Errorf("Extended = %+v", got.Extended)
				}
			}},
		{name: "extended computed tag", folder: "inbox", item: Item{},
			ups: []Update{{Op: SetField, Path: Extended(ExtendedFieldURI{PropertyTag: "0x0E08", Type: PTInteger})}}, err: ErrInvalidPropertySet},
		{name: "extended bad value", folder: "inbox", item: Item{},
			ups: []Update{{Op: SetField, Path: Extended(crm("N", PTInteger)), Value: Item{Extended: []ExtendedProperty{{URI: crm("N", PTInteger), Values: []string{"x"}}}}}},
			err: ErrInvalidExtendedPropValue},
		{name: "extended missing in element", folder: "inbox", item: Item{},
			ups: []Update{{Op: SetField, Path: Extended(crm("N", PTInteger))}}, err: ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMailbox(t)
			it := mustItem(t, m, tc.folder, tc.item)
			res, err := m.UpdateItem(it.ID, it.ChangeKey, AutoResolve, tc.ups)
			wantErr(t, "UpdateItem", err, tc.err)
			if err != nil {
				// All or nothing.
				after, _ := m.GetItem(it.ID)
				if d := cmp.Diff(it, after); d != "" {
					t.Errorf("a failed update changed the item:\n%s", d)
				}
				return
			}
			if res.Item.ChangeKey == it.ChangeKey || res.Item.ID != it.ID {
				t.Errorf("UpdateItem kept change key %q or changed id", it.ChangeKey)
			}
			if !res.Item.Modified.After(it.Modified) {
				t.Errorf("LastModifiedTime not advanced")
			}
			tc.check(t, res.Item)
		})
	}
}

func eq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestConflictResolution(t *testing.T) {
	subj := func(s string) Update {
		return Update{Op: SetField, Path: Field("item:Subject"), Value: Item{Subject: s}}
	}
	cats := Update{Op: SetField, Path: Field("item:Categories"), Value: Item{Categories: []string{"x"}}}
	tests := []struct {
		name string
		cr   ConflictResolution
		// the second writer's update, sent with the key from before the
		// first writer changed the subject
		up        Update
		err       *Error
		conflicts int
	}{
		{"NeverOverwrite stale", NeverOverwrite, cats, ErrIrresolvableConflict, 0},
		{"AutoResolve other property merges", AutoResolve, cats, nil, 0},
		{"AutoResolve same property", AutoResolve, subj("mine"), ErrIrresolvableConflict, 0},
		{"AlwaysOverwrite same property", AlwaysOverwrite, subj("mine"), nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMailbox(t)
			it := mustItem(t, m, "inbox", Item{Subject: "orig"})
			if _, err := m.UpdateItem(it.ID, it.ChangeKey, AutoResolve, []Update{subj("theirs")}); err != nil {
				t.Fatal(err)
			}
			res, err := m.UpdateItem(it.ID, it.ChangeKey, tc.cr, []Update{tc.up})
			wantErr(t, "UpdateItem(stale key)", err, tc.err)
			if err == nil && res.Conflicts != tc.conflicts {
				t.Errorf("Conflicts = %d, want %d", res.Conflicts, tc.conflicts)
			}
		})
	}
	m := newMailbox(t)
	it := mustItem(t, m, "inbox", Item{Subject: "orig"})
	for _, cr := range []ConflictResolution{NeverOverwrite, AutoResolve, AlwaysOverwrite} {
		_, err := m.UpdateItem(it.ID, "", cr, []Update{subj("x")})
		wantErr(t, "UpdateItem without change key", err, ErrChangeKeyRequired)
	}
	_, err := m.UpdateItem(it.ID, "bm90IGEga2V5", AutoResolve, []Update{subj("x")})
	wantErr(t, "UpdateItem(bad key)", err, ErrInvalidChangeKey)
	_, err = m.UpdateItem(it.ID, encodeChangeKey(KindItemID, 99), AutoResolve, []Update{subj("x")})
	wantErr(t, "UpdateItem(key from the future)", err, ErrInvalidChangeKey)
}

func TestMoveCopyDeleteItem(t *testing.T) {
	m := newMailbox(t)
	it := mustItem(t, m, "inbox", Item{Subject: "m", Extended: []ExtendedProperty{{URI: crm("Id", PTString), Values: []string{"c-1"}}}})
	if _, _, err := m.AddAttachment(it.ID, Attachment{Name: "f", Content: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	it, _ = m.GetItem(it.ID)
	arch := mustFolder(t, m, "msgfolderroot", NewFolder{DisplayName: "Archive"})

	mv, err := m.MoveItem(it.ID, arch.ID)
	wantErr(t, "MoveItem", err, nil)
	if mv.ID == it.ID || mv.ParentFolderID != arch.ID || mv.ChangeKey == it.ChangeKey {
		t.Errorf("MoveItem = %q in %q (%q), want a new id and change key in Archive", mv.ID, mv.ParentFolderID, mv.ChangeKey)
	}
	_, err = m.GetItem(it.ID)
	wantErr(t, "GetItem(old id)", err, ErrItemNotFound)
	if len(mv.Attachments) != 1 {
		t.Fatalf("moved item lost its attachment")
	}
	if _, _, err := m.GetAttachment(mv.Attachments[0].ID); err != nil {
		t.Errorf("GetAttachment after move: %v", err)
	}

	cp, err := m.CopyItem(mv.ID, "inbox")
	wantErr(t, "CopyItem", err, nil)
	if cp.ID == mv.ID || cp.Extended[0].Values[0] != "c-1" || len(cp.Attachments) != 1 || cp.Attachments[0].ID == mv.Attachments[0].ID {
		t.Errorf("CopyItem = %+v, want a new id, the extended property and a new attachment id", cp)
	}

	// MoveToDeletedItems keeps the change key; from Deleted Items it is a
	// soft delete; a hard delete removes.
	did, err := m.DeleteItem(cp.ID, MoveToDeletedItems)
	wantErr(t, "DeleteItem(MoveToDeletedItems)", err, nil)
	d, _ := m.GetItem(did)
	del, _ := m.GetFolder("deleteditems")
	if d.ParentFolderID != del.ID || d.ChangeKey != cp.ChangeKey {
		t.Errorf("deleted item in %q with change key %q, want deleteditems and %q", d.ParentFolderID, d.ChangeKey, cp.ChangeKey)
	}
	sid, err := m.DeleteItem(did, MoveToDeletedItems)
	wantErr(t, "DeleteItem from Deleted Items", err, nil)
	s, _ := m.GetItem(sid)
	dump, _ := m.GetFolder("recoverableitemsdeletions")
	if s.ParentFolderID != dump.ID {
		t.Errorf("soft-deleted item in %q, want recoverableitemsdeletions", s.ParentFolderID)
	}
	_, err = m.DeleteItem(sid, SoftDelete)
	wantErr(t, "SoftDelete twice", err, ErrItemNotFound)
	_, err = m.DeleteItem(sid, HardDelete)
	wantErr(t, "HardDelete", err, nil)
	_, err = m.GetItem(sid)
	wantErr(t, "GetItem(hard-deleted)", err, ErrItemNotFound)
	if m.bytes != sizeOfAll(m) {
		t.Errorf("mailbox bytes %d, items add up to %d", m.bytes, sizeOfAll(m))
	}
}

func TestReadFlagOnlyUpdateKeepsModifiedTime(t *testing.T) {
	m := newMailbox(t)
	it := mustItem(t, m, "inbox", Item{Subject: "r"})
	res, err := m.UpdateItem(it.ID, it.ChangeKey, AutoResolve, []Update{{Op: SetField, Path: Field("message:IsRead"), Value: Item{IsRead: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Item.IsRead || !res.Item.Modified.Equal(it.Modified) {
		t.Errorf("IsRead %v Modified %v, want read and unchanged %v", res.Item.IsRead, res.Item.Modified, it.Modified)
	}
	f, _ := m.GetFolder("inbox")
	if f.UnreadCount != 0 {
		t.Errorf("UnreadCount = %d", f.UnreadCount)
	}
}
