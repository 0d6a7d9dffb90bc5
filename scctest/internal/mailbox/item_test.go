package mailbox

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestIDsLookLikeExchangeAndRoundTrip(t *testing.T) {
	for _, info := range []IDInfo{
		{Kind: KindItemID, Mailbox: 0, Num: 1},
		{Kind: KindFolderID, Mailbox: 9999, Num: 1 << 40},
		{Kind: KindOccurrenceID, Mailbox: 3, Num: 7, Sub: 12},
	} {
		id := EncodeID(info)
		if !strings.HasPrefix(id, "AAMk") {
			t.Errorf("EncodeID(%+v) = %q, want it to start AAMk like Exchange's", info, id)
		}
		got, err := DecodeID(id)
		if err != nil || got != info {
			t.Errorf("DecodeID(EncodeID(%+v)) = %+v, %v", info, got, err)
		}
		// One changed character is malformed, not another object.
		b := []byte(id)
		b[10] ^= 1
		if _, err := DecodeID(string(b)); err == nil {
			t.Errorf("DecodeID(%q with a flipped bit) succeeded", id)
		}
	}
	_, err := DecodeID("")
	wantErr(t, "DecodeID(\"\")", err, ErrInvalidIDEmpty)
	ck := encodeChangeKey(KindItemID, 5)
	if !strings.HasPrefix(ck, "CQAAABYA") {
		t.Errorf("change key %q does not start CQAAABYA", ck)
	}
}

func TestCreateItemKinds(t *testing.T) {
	due := time.Date(2024, 6, 10, 15, 30, 0, 0, time.UTC)
	tests := []struct {
		name   string
		folder string
		in     Item
		check  func(t *testing.T, got Item)
		err    *Error
	}{
		{name: "message defaults", folder: "inbox", in: Item{Subject: "Hi", Body: Body{Content: "hello"}},
			check: func(t *testing.T, got Item) {
				if got.ItemClass != "IPM.Note" || got.Importance != "Normal" || got.Sensitivity != "Normal" || got.Body.Type != BodyText {
					t.Errorf("defaults = %q %q %q %q", got.ItemClass, got.Importance, got.Sensitivity, got.Body.Type)
				}
				if got.Received.IsZero() || got.Sent.IsZero() || got.Size < len("hello") {
					t.Errorf("times / size not filled: %v %v %d", got.Received, got.Sent, got.Size)
				}
			}},
		{name: "draft has no sent time", folder: "drafts", in: Item{Subject: "d", IsDraft: true},
			check: func(t *testing.T, got Item) {
				if !got.Sent.IsZero() {
					t.Errorf("draft Sent = %v", got.Sent)
				}
			}},
		{name: "contact", folder: "contacts", in: Item{Kind: Contact, Contact: &ContactFields{
			GivenName: "Ada", Surname: "Ng", CompanyName: "Fabrikam", JobTitle: "CTO",
			EmailAddresses:    []KeyedAddress{{Key: "EmailAddress1", Email: "ada@fabrikam.example"}, {Key: "EmailAddress3", Email: "ada@home.example"}},
			PhoneNumbers:      []KeyedString{{Key: "MobilePhone", Value: "+1 555 0101"}},
			PhysicalAddresses: []PhysicalAddress{{Key: "Business", City: "Springfield"}},
		}}, check: func(t *testing.T, got Item) {
			if got.ItemClass != "IPM.Contact" || got.Contact.EmailAddresses[1].Email != "ada@home.example" || got.Calendar != nil {
				t.Errorf("contact = %+v", got)
			}
		}},
		{name: "contact bad email key", folder: "contacts", in: Item{Kind: Contact, Contact: &ContactFields{
			EmailAddresses: []KeyedAddress{{Key: "EmailAddress4", Email: "x@y"}}}}, err: ErrInvalidValueForProperty},
		{name: "contact bad phone key", folder: "contacts", in: Item{Kind: Contact, Contact: &ContactFields{
			PhoneNumbers: []KeyedString{{Key: "Fax", Value: "1"}}}}, err: ErrInvalidValueForProperty},
		{name: "task completes by percent", folder: "tasks", in: Item{Kind: Task, Subject: "t", Task: &TaskFields{PercentComplete: 100, DueDate: due}},
			check: func(t *testing.T, got Item) {
				if got.Task.Status != "Completed" || got.Task.CompleteDate.IsZero() || !got.Task.IsComplete() {
					t.Errorf("task = %+v, want Completed with a CompleteDate", got.Task)
				}
				if !got.Task.DueDate.Equal(time.Date(2024, 6, 10, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("DueDate = %v, want the date at midnight", got.Task.DueDate)
				}
			}},
		{name: "task in progress", folder: "tasks", in: Item{Kind: Task, Task: &TaskFields{PercentComplete: 40}},
			check: func(t *testing.T, got Item) {
				if got.Task.Status != "InProgress" {
					t.Errorf("Status = %q, want InProgress", got.Task.Status)
				}
			}},
		{name: "task bad percent", folder: "tasks", in: Item{Kind: Task, Task: &TaskFields{PercentComplete: 101}}, err: ErrInvalidValueForProperty},
		{name: "task bad status", folder: "tasks", in: Item{Kind: Task, Task: &TaskFields{Status: "Done"}}, err: ErrInvalidValueForProperty},
		{name: "calendar item", folder: "calendar", in: Item{Kind: CalendarItem, Subject: "m", Calendar: &CalendarFields{Start: due, End: due.Add(time.Hour)}},
			check: func(t *testing.T, got Item) {
				if got.Calendar.LegacyFreeBusy != "Busy" || got.Calendar.UID == "" {
					t.Errorf("calendar = %+v", got.Calendar)
				}
			}},
		{name: "calendar in inbox", folder: "inbox", in: Item{Kind: CalendarItem, Calendar: &CalendarFields{Start: due, End: due}}, err: ErrCannotCreateCalendar},
		{name: "calendar end before start", folder: "calendar", in: Item{Kind: CalendarItem, Calendar: &CalendarFields{Start: due, End: due.Add(-time.Minute)}}, err: ErrCalendarEndBeforeStart},
		{name: "calendar too long", folder: "calendar", in: Item{Kind: CalendarItem, Calendar: &CalendarFields{Start: due, End: due.AddDate(6, 0, 0)}}, err: ErrCalendarDurationTooLong},
		{name: "class of another kind", folder: "inbox", in: Item{ItemClass: "IPM.Contact"}, err: ErrObjectTypeChanged},
		{name: "custom message class", folder: "inbox", in: Item{ItemClass: "IPM.Note.Custom"}},
		{name: "bad importance", folder: "inbox", in: Item{Importance: "Urgent"}, err: ErrInvalidValueForProperty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMailbox(t)
			got, err := m.CreateItem(tc.folder, tc.in)
			wantErr(t, "CreateItem", err, tc.err)
			if err != nil {
				return
			}
			again, err := m.GetItem(got.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(got, again); d != "" {
				t.Errorf("GetItem differs from CreateItem's answer (-create +get):\n%s", d)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

func TestPropertyBagKeepsWhatItDoesNotModel(t *testing.T) {
	m := newMailbox(t)
	raw := []RawProperty{
		{Name: "t:ReminderMinutesBeforeStart", XML: "<t:ReminderMinutesBeforeStart>15</t:ReminderMinutesBeforeStart>"},
		{Name: "t:Flag", XML: `<t:Flag><t:FlagStatus>Flagged</t:FlagStatus></t:Flag>`},
	}
	in := Item{Subject: "bag", Categories: []string{"CRM", "VIP"}, Raw: append([]RawProperty(nil), raw...),
		Headers: []Header{{Name: "X-Crm", Value: "42"}}, InternetMessageID: "<1@x>",
		From: &Address{Name: "Bob", Email: "bob@x.example"}, To: []Address{{Email: "alice@contoso.example"}}}
	got := mustItem(t, m, "inbox", in)
	// The caller's slices are not aliased.
	in.Categories[0] = "changed"
	in.Raw[0].XML = "changed"
	again, _ := m.GetItem(got.ID)
	if d := cmp.Diff(raw, again.Raw); d != "" {
		t.Errorf("Raw (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"CRM", "VIP"}, again.Categories); d != "" {
		t.Errorf("Categories (-want +got):\n%s", d)
	}
	if again.From.Email != "bob@x.example" || again.Headers[0].Value != "42" {
		t.Errorf("From/Headers = %+v %+v", again.From, again.Headers)
	}
	// Snapshots are copies.
	again.Categories[0] = "x"
	third, _ := m.GetItem(got.ID)
	if third.Categories[0] != "CRM" {
		t.Errorf("changing a snapshot changed the store")
	}
}

func TestItemsOfAnotherMailboxAndBadIDs(t *testing.T) {
	s := newStore(t, Options{})
	a, b := s.Mailbox("a@x.example"), s.Mailbox("b@x.example")
	it := mustItem(t, a, "inbox", Item{Subject: "s"})
	_, err := b.GetItem(it.ID)
	wantErr(t, "b.GetItem(a's item)", err, ErrOtherMailbox)
	f, _ := a.GetFolder("inbox")
	_, err = a.GetItem(f.ID)
	wantErr(t, "GetItem(folder id)", err, ErrInvalidIDMalformed)
	_, err = a.GetItem("not base64!")
	wantErr(t, "GetItem(garbage)", err, ErrInvalidIDMalformed)
	_, err = a.GetItem(EncodeID(IDInfo{Kind: KindItemID, Mailbox: a.Index(), Num: 999999}))
	wantErr(t, "GetItem(unknown)", err, ErrItemNotFound)
}

func TestQuota(t *testing.T) {
	m := newStore(t, Options{QuotaBytes: 4000}).Mailbox("q@x.example")
	body := strings.Repeat("x", 1500)
	mustItem(t, m, "inbox", Item{Body: Body{Content: body}})
	mustItem(t, m, "inbox", Item{Body: Body{Content: body}})
	_, err := m.CreateItem("inbox", Item{Body: Body{Content: body}})
	wantErr(t, "CreateItem over quota", err, ErrQuotaExceeded)
}

func TestErrorTableHasCodesAndTexts(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range ErrorTable() {
		if !strings.HasPrefix(e.Code, "Error") || e.Text == "" || seen[e.Code] {
			t.Errorf("ErrorTable entry %+v: want a unique Error* code with a text", e)
		}
		seen[e.Code] = true
	}
	err := errf(ErrFolderExists, "a folder named %q exists", "X")
	if !strings.HasPrefix(err.Error(), "mailbox: ErrorFolderExists: ") {
		t.Errorf("Error() = %q", err.Error())
	}
}
