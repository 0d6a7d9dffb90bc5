package ews_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t, err = time.Parse(time.DateOnly, s)
		if err != nil {
			panic(err)
		}
	}
	return t
}

// adaContact is the contact of the examples, as a client creates it.
func adaContact() ews.Item {
	return ews.Item{
		Subject:            "Ada Ng",
		Body:               ews.Body{Type: ews.BodyText, Content: "Met at the <expo> in May."},
		Categories:         []string{"Customer", "VIP"},
		Sensitivity:        ews.SensitivityNormal,
		ExtendedProperties: []ews.ExtendedProperty{{Field: crmRecordID, Value: "contact-000042"}},
		Contact: &ews.Contact{
			FileAs: "Ng, Ada", DisplayName: "Ada Ng", GivenName: "Ada", CompanyName: "Fabrikam",
			EmailAddresses: []ews.EmailAddressEntry{{Key: "EmailAddress1", Address: "ada@fabrikam.example"}, {Key: "EmailAddress2", Address: "ada.ng@home.example"}},
			PhysicalAddresses: []ews.PhysicalAddressEntry{{Key: "Business", Street: "1 Main St", City: "Springfield", State: "IL",
				CountryOrRegion: "US", PostalCode: "62701"}},
			PhoneNumbers: []ews.PhoneNumberEntry{{Key: "BusinessPhone", Number: "+1 555 0100"}, {Key: "MobilePhone", Number: "+1 555 0101"}},
			Birthday:     date("1985-12-10T00:00:00Z"), Department: "Engineering", JobTitle: "CTO",
			PostalAddressIndex: "Business", Surname: "Ng",
		},
	}
}

func itemKindCases() []opCase {
	cal := ews.FolderID{ID: "AAMkFcal="}
	return []opCase{
		{"createitem-kinds", "createitem-kinds.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.CreateItem(ctx, &ews.CreateItemRequest{SavedItemFolderID: &cal, Items: []ews.Item{
				adaContact(),
				{Subject: "Send contract", Importance: ews.ImportanceHigh, Task: &ews.Task{
					DueDate: date("2024-06-10T00:00:00Z"), StartDate: date("2024-06-03T00:00:00Z"), PercentComplete: 50, Status: ews.TaskInProgress,
				}},
				{Subject: "Quarterly review", Body: ews.Body{Type: ews.BodyHTML, Content: "<b>Agenda</b> to follow"}, Categories: []string{"CRM"},
					ExtendedProperties: []ews.ExtendedProperty{{Field: crmRecordID, Value: "opp-000123"}},
					Calendar: &ews.CalendarItem{
						Start: date("2024-06-03T09:00:00Z"), End: date("2024-06-03T10:00:00Z"), Location: "Room 4", LegacyFreeBusyStatus: "Busy",
						RequiredAttendees: []ews.Attendee{{Mailbox: ews.Mailbox{Name: "Bob", EmailAddress: "bob@contoso.example"}}},
						Recurrence: &ews.Recurrence{Pattern: ews.RecurWeekly, Interval: 1, DaysOfWeek: []string{"Monday", "Thursday"},
							StartDate: date("2024-06-03"), EndDate: date("2024-12-30")},
					}},
				{MimeContent: []byte("From: carol@contoso.example\r\nSubject: Quote\r\n\r\nPlease quote.\r\n"), IsRead: true,
					Categories: []string{"CRM"}, ExtendedProperties: []ews.ExtendedProperty{
						{Field: ews.ExtendedFieldURI{PropertyTag: "0x0E07", PropertyType: ews.PropertyInteger}, Value: "1"},
						{Field: ews.ExtendedFieldURI{DistinguishedPropertySetID: ews.PropertySetPublicStrings, PropertyName: "Keywords", PropertyType: ews.PropertyStringArray}, Values: []string{"a", "b"}},
						{Field: ews.ExtendedFieldURI{DistinguishedPropertySetID: ews.PropertySetCommon, PropertyID: 0x8580, PropertyType: ews.PropertyBinary}, Value: "AAEC"},
					}},
			}})
			must(t, err)
			var got []string
			for _, r := range resp.Results {
				got = append(got, r.Kind+":"+r.ItemID.ID+":"+string(r.Code))
			}
			want := []string{"Contact:AAMkIcon1=:NoError", "Task:AAMkItask1=:NoError", "::ErrorCannotCreateCalendarItemInNonCalendarFolder", "Message:AAMkImsg1=:NoError"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("CreateItem results (-want +got):\n%s", diff)
			}
		}},
		{"getitem-contact", "getitem-contact.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.GetItem(ctx, &ews.GetItemRequest{ItemIDs: []ews.ItemID{{ID: "AAMkIcon1="}}, Shape: ews.ShapeAllProperties,
				BodyType: ews.BodyText, ExtendedProperties: []ews.ExtendedFieldURI{crmRecordID},
				IndexedProperties: []ews.IndexedFieldURI{{FieldURI: ews.FieldContactPhoneNumber, FieldIndex: "MobilePhone"}}})
			must(t, err)
			got := resp.Results[0].Item
			want := adaContact()
			want.Kind = ews.KindContact
			want.ItemID = ews.ItemID{ID: "AAMkIcon1=", ChangeKey: "EQAAABYA"}
			want.ParentFolderID = ews.FolderID{ID: "AAMkFcon=", ChangeKey: "AQAAAA=="}
			want.ItemClass = "IPM.Contact"
			want.Importance = ews.ImportanceNormal
			want.Size = 4242
			want.DateTimeReceived = date("2024-06-01T08:00:00Z")
			want.DateTimeSent = date("2024-06-01T08:00:00Z")
			want.DateTimeCreated = date("2024-06-01T08:00:00Z")
			want.LastModifiedTime = date("2024-06-02T09:30:00Z")
			want.Contact.CompleteName = &ews.CompleteName{FirstName: "Ada", LastName: "Ng", FullName: "Ada Ng"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GetItem contact (-want +got):\n%s", diff)
			}
			if got.Contact.PhoneNumber("MobilePhone") != "+1 555 0101" || got.Contact.EmailAddress("EmailAddress2") != "ada.ng@home.example" {
				t.Errorf("Contact lookups = %q, %q", got.Contact.PhoneNumber("MobilePhone"), got.Contact.EmailAddress("EmailAddress2"))
			}
		}},
		{"getitem-kinds", "getitem-kinds.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.GetItem(ctx, &ews.GetItemRequest{ItemIDs: []ews.ItemID{{ID: "AAMkIcal1="}, {ID: "AAMkItask1="}, {ID: "AAMkImsg1="}},
				Shape: ews.ShapeAllProperties, IncludeMimeContent: true, BodyType: ews.BodyBest,
				AdditionalProperties: []ews.FieldURI{ews.FieldItemInternetMessageHeaders, ews.FieldItemAttachments}})
			must(t, err)
			calItem, task, msg := resp.Results[0].Item, resp.Results[1].Item, resp.Results[2].Item
			wantCal := &ews.CalendarItem{
				UID: "040000008200E00074C5B7101A82E008000000", Start: date("2024-06-03T09:00:00Z"), End: date("2024-06-03T10:00:00Z"),
				LegacyFreeBusyStatus: "Busy", Location: "Room 4", IsMeeting: true, CalendarItemType: "RecurringMaster", MyResponseType: "Organizer",
				Organizer:         ews.Mailbox{Name: "Alice", EmailAddress: "alice@contoso.example", RoutingType: "SMTP"},
				RequiredAttendees: []ews.Attendee{{Mailbox: ews.Mailbox{Name: "Bob", EmailAddress: "bob@contoso.example", RoutingType: "SMTP"}, ResponseType: "Unknown"}},
				Recurrence: &ews.Recurrence{Pattern: ews.RecurWeekly, Interval: 1, DaysOfWeek: []string{"Monday", "Thursday"},
					StartDate: date("2024-06-03"), EndDate: date("2024-12-30")},
				FirstOccurrence: &ews.Occurrence{ItemID: ews.ItemID{ID: "AAMkIcal1occ1=", ChangeKey: "DwAAABYA"}, Start: date("2024-06-03T09:00:00Z"),
					End: date("2024-06-03T10:00:00Z"), OriginalStart: date("2024-06-03T09:00:00Z")},
			}
			if diff := cmp.Diff(wantCal, calItem.Calendar); diff != "" || calItem.Body.Type != ews.BodyHTML {
				t.Errorf("GetItem calendar item (-want +got):\n%s body %v", diff, calItem.Body)
			}
			wantTask := &ews.Task{CompleteDate: date("2024-06-07T15:00:00Z"), DueDate: date("2024-06-10T00:00:00Z"), IsComplete: true,
				PercentComplete: 100, StartDate: date("2024-06-03T00:00:00Z"), Status: ews.TaskCompleted, StatusDescription: "Completed"}
			if diff := cmp.Diff(wantTask, task.Task); diff != "" || task.Importance != ews.ImportanceHigh {
				t.Errorf("GetItem task (-want +got):\n%s importance %v", diff, task.Importance)
			}
			if string(msg.MimeContent) != "From: carol@contoso.example\r\nSubject: Quote\r\n\r\nPlease quote.\r\n" {
				t.Errorf("GetItem message MimeContent = %q", msg.MimeContent)
			}
			wantHeaders := []ews.InternetMessageHeader{{Name: "From", Value: "carol@contoso.example"}, {Name: "Subject", Value: "Quote"}}
			if diff := cmp.Diff(wantHeaders, msg.InternetMessageHeaders); diff != "" {
				t.Errorf("GetItem message headers (-want +got):\n%s", diff)
			}
			if !msg.HasAttachments || len(msg.Attachments) != 1 || msg.Attachments[0].Name != "contract.pdf" || msg.Attachments[0].Kind != ews.AttachmentFile {
				t.Errorf("GetItem message attachments = %v, %+v", msg.HasAttachments, msg.Attachments)
			}
			if msg.Sensitivity != ews.SensitivityConfidential || !msg.IsRead || msg.InternetMessageID != "<q1@contoso.example>" ||
				len(msg.ToRecipients) != 1 || msg.ToRecipients[0].EmailAddress != "alice@contoso.example" || msg.Calendar != nil {
				t.Errorf("GetItem message = %+v", msg)
			}
		}},
		{"finditem-calendarview", "finditem-calendarview.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.FindItem(ctx, &ews.FindItemRequest{ParentFolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderCalendar)},
				AdditionalProperties: []ews.FieldURI{ews.FieldItemSubject, ews.FieldCalendarStart, ews.FieldCalendarEnd, ews.FieldCalendarCalendarItemType},
				CalendarView:         &ews.CalendarView{Start: date("2024-06-01T00:00:00Z"), End: date("2024-07-01T00:00:00+02:00"), MaxEntries: 500}})
			must(t, err)
			var got []string
			for _, it := range resp.Results[0].Items {
				got = append(got, it.Calendar.CalendarItemType+" "+it.Calendar.Start.Format(time.RFC3339))
			}
			if diff := cmp.Diff([]string{"Occurrence 2024-06-03T09:00:00Z", "Exception 2024-06-06T11:00:00Z"}, got); diff != "" {
				t.Errorf("FindItem CalendarView (-want +got):\n%s", diff)
			}
		}},
	}
}

// TestItemRequestsRefused checks requests that would fail schema validation
// or that Exchange refuses, before anything is sent.
func TestItemRequestsRefused(t *testing.T) {
	create := func(it ews.Item) func(context.Context, *ews.Client) error {
		return func(ctx context.Context, c *ews.Client) error {
			_, err := c.CreateItemIn(ctx, ews.DistinguishedFolder(ews.FolderContacts), it)
			return err
		}
	}
	weekly := func(mod func(*ews.Recurrence)) ews.Item {
		r := &ews.Recurrence{Pattern: ews.RecurWeekly, Interval: 1, DaysOfWeek: []string{"Monday"}, StartDate: date("2024-06-03")}
		mod(r)
		return ews.Item{Calendar: &ews.CalendarItem{Start: date("2024-06-03T09:00:00Z"), End: date("2024-06-03T10:00:00Z"), Recurrence: r}}
	}
	tests := []struct {
		name string
		call func(context.Context, *ews.Client) error
		want string
	}{
		{"email key", create(ews.Item{Contact: &ews.Contact{EmailAddresses: []ews.EmailAddressEntry{{Key: "EmailAddress4", Address: "x@y.example"}}}}), `key "EmailAddress4"`},
		{"duplicate key", create(ews.Item{Contact: &ews.Contact{PhoneNumbers: []ews.PhoneNumberEntry{{Key: "MobilePhone", Number: "1"}, {Key: "MobilePhone", Number: "2"}}}}), "MobilePhone twice"},
		{"empty phone", create(ews.Item{Contact: &ews.Contact{PhoneNumbers: []ews.PhoneNumberEntry{{Key: "MobilePhone"}}}}), "PhoneNumbers[MobilePhone] is empty"},
		{"empty email", create(ews.Item{Contact: &ews.Contact{EmailAddresses: []ews.EmailAddressEntry{{Key: "EmailAddress1"}}}}), "EmailAddresses[EmailAddress1] is empty"},
		{"address key", create(ews.Item{Contact: &ews.Contact{PhysicalAddresses: []ews.PhysicalAddressEntry{{Key: "Work", City: "x"}}}}), `key "Work"`},
		{"kind mismatch", create(ews.Item{Kind: ews.KindTask, Contact: &ews.Contact{GivenName: "x"}}), "fields of another kind"},
		{"unknown kind", create(ews.Item{Kind: "Note"}), `Kind "Note"`},
		{"end before start", create(ews.Item{Calendar: &ews.CalendarItem{Start: date("2024-06-03T10:00:00Z"), End: date("2024-06-03T09:00:00Z")}}), "is before Start"},
		{"no interval", create(weekly(func(r *ews.Recurrence) { r.Interval = 0 })), "Interval 0"},
		{"no days", create(weekly(func(r *ews.Recurrence) { r.DaysOfWeek = nil })), "needs DaysOfWeek"},
		{"bad day", create(weekly(func(r *ews.Recurrence) { r.DaysOfWeek = []string{"Mon"} })), `"Mon"`},
		{"end and count", create(weekly(func(r *ews.Recurrence) { r.EndDate, r.NumberOfOccurrences = date("2024-07-01"), 3 })), "not both"},
		{"no start date", create(weekly(func(r *ews.Recurrence) { r.StartDate = time.Time{} })), "StartDate is not set"},
		{"bad pattern", create(weekly(func(r *ews.Recurrence) { r.Pattern = "Hourly" })), `Pattern "Hourly"`},
		{"relative needs index", create(weekly(func(r *ews.Recurrence) { r.Pattern = ews.RecurRelativeMonthly })), "DayOfWeekIndex"},
		{"percent", create(ews.Item{Task: &ews.Task{PercentComplete: 101}}), "outside 0..100"},
		{"status", create(ews.Item{Task: &ews.Task{Status: "Done"}}), `Status "Done"`},
		{"sensitivity", create(ews.Item{Sensitivity: "Secret"}), `Sensitivity "Secret"`},
		{"array value", create(ews.Item{ExtendedProperties: []ews.ExtendedProperty{{Field: ews.ExtendedFieldURI{PropertySetID: crmSet, PropertyName: "Tags", PropertyType: ews.PropertyStringArray}, Value: "x"}}}), "set Values"},
		{"single values", create(ews.Item{ExtendedProperties: []ews.ExtendedProperty{{Field: crmRecordID, Values: []string{"x"}}}}), "set Value, not Values"},
		{"attendee address", create(ews.Item{Calendar: &ews.CalendarItem{RequiredAttendees: []ews.Attendee{{Mailbox: ews.Mailbox{EmailAddress: "bob at contoso"}}}}}), `"bob at contoso"`},
		{"calendar view order", func(ctx context.Context, c *ews.Client) error {
			_, err := c.FindItem(ctx, &ews.FindItemRequest{ParentFolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderCalendar)},
				CalendarView: &ews.CalendarView{Start: date("2024-07-01T00:00:00Z"), End: date("2024-06-01T00:00:00Z")}})
			return err
		}, "End 2024-06-01T00:00:00Z is before Start"},
		{"calendar view and page", func(ctx context.Context, c *ews.Client) error {
			_, err := c.FindItem(ctx, &ews.FindItemRequest{ParentFolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderCalendar)}, Page: &ews.PageView{MaxEntries: 1},
				CalendarView: &ews.CalendarView{Start: date("2024-06-01T00:00:00Z"), End: date("2024-07-01T00:00:00Z")}})
			return err
		}, "not both"},
		{"body type", func(ctx context.Context, c *ews.Client) error {
			_, err := c.GetItem(ctx, &ews.GetItemRequest{ItemIDs: []ews.ItemID{{ID: "x"}}, BodyType: "RTF"})
			return err
		}, `body type "RTF"`},
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

// everyFieldCases records requests that set every writable field of a
// contact and every recurrence pattern and range, so that the schema check of
// the golden files covers the element order of all of them.
func everyFieldCases() []opCase {
	start := date("2024-06-03T09:00:00Z")
	rec := func(r ews.Recurrence) ews.Item {
		r.StartDate = date("2024-06-03")
		return ews.Item{Subject: string(r.Pattern), Calendar: &ews.CalendarItem{Start: start, End: start.Add(30 * time.Minute), IsAllDayEvent: true, Recurrence: &r}}
	}
	full := ews.Item{
		ItemClass: "IPM.Contact", Subject: "Full", Sensitivity: ews.SensitivityPrivate, Body: ews.Body{Content: "notes"},
		Categories: []string{"A"}, Importance: ews.ImportanceHigh,
		Contact: &ews.Contact{
			FileAs: "F", DisplayName: "D", GivenName: "G", Initials: "I", MiddleName: "M", Nickname: "N", CompanyName: "C",
			EmailAddresses:    []ews.EmailAddressEntry{{Key: "EmailAddress3", Address: "x@y.example", Name: "X", RoutingType: "SMTP", MailboxType: "OneOff"}},
			PhysicalAddresses: []ews.PhysicalAddressEntry{{Key: "Home", City: "H"}, {Key: "Other", Street: "S", PostalCode: "P"}},
			PhoneNumbers:      []ews.PhoneNumberEntry{{Key: "Msn", Number: "1"}},
			AssistantName:     "AN", Birthday: date("1985-12-10T00:00:00Z"), BusinessHomePage: "https://fabrikam.example", Department: "Dep",
			Generation: "Jr.", ImAddresses: []ews.ImAddressEntry{{Key: "ImAddress1", Address: "im:x"}}, JobTitle: "J", Manager: "Mgr",
			OfficeLocation: "O", PostalAddressIndex: "Home", Profession: "P", SpouseName: "SN", Surname: "S",
			WeddingAnniversary: date("2010-05-01T00:00:00Z"),
		},
	}
	return []opCase{
		{"createitem-every-field", "createitem-eight.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.CreateItem(ctx, &ews.CreateItemRequest{SendMeetingInvitations: "SendOnlyToAll", Items: []ews.Item{
				full,
				rec(ews.Recurrence{Pattern: ews.RecurDaily, Interval: 2}),
				rec(ews.Recurrence{Pattern: ews.RecurWeekly, Interval: 1, DaysOfWeek: []string{"Tuesday", "Friday"}, FirstDayOfWeek: "Monday", NumberOfOccurrences: 5}),
				rec(ews.Recurrence{Pattern: ews.RecurAbsoluteMonthly, Interval: 3, DayOfMonth: 15, EndDate: date("2025-06-03")}),
				rec(ews.Recurrence{Pattern: ews.RecurRelativeMonthly, Interval: 1, DaysOfWeek: []string{"Weekday"}, DayOfWeekIndex: "First"}),
				rec(ews.Recurrence{Pattern: ews.RecurAbsoluteYearly, DayOfMonth: 29, Month: "February"}),
				rec(ews.Recurrence{Pattern: ews.RecurRelativeYearly, DaysOfWeek: []string{"Thursday"}, DayOfWeekIndex: "Fourth", Month: "November"}),
				{Kind: ews.KindMessage, Subject: "m", Sensitivity: ews.SensitivityPersonal,
					ToRecipients: []ews.Mailbox{{Name: "A", EmailAddress: "a@contoso.example"}}, CcRecipients: []ews.Mailbox{{EmailAddress: "c@contoso.example", MailboxType: "Mailbox"}},
					BccRecipients: []ews.Mailbox{{Name: "B", EmailAddress: "b@contoso.example", RoutingType: "SMTP"}},
					From:          ews.Mailbox{EmailAddress: "alice@contoso.example"}, InternetMessageID: "<m1@contoso.example>", IsRead: true},
			}})
			must(t, err)
			if len(resp.Results) != 8 || resp.Results[7].ItemID.ID != "AAMkIcal8=" {
				t.Errorf("CreateItem results = %+v", resp.Results)
			}
		}},
	}
}
