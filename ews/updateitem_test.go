package ews_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

func updateItemCases() []opCase {
	hash := ews.ExtendedFieldURI{PropertySetID: crmSet, PropertyName: "CrmSyncHash", PropertyType: ews.PropertyBinary}
	return []opCase{
		{"updateitem", "updateitem.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.UpdateItem(ctx, &ews.UpdateItemRequest{ConflictResolution: ews.NeverOverwrite, Changes: []ews.ItemChange{
				{ItemID: ews.ItemID{ID: "AAMkIcon1=", ChangeKey: "EQAAABYA"}, Kind: ews.KindContact, Updates: []ews.ItemUpdate{
					ews.SetItemField(ews.FieldContactGivenName, ews.Item{Contact: &ews.Contact{GivenName: "Adah", Surname: "not sent"}}),
					ews.SetItemField(ews.IndexedFieldURI{FieldURI: ews.FieldContactEmailAddress, FieldIndex: "EmailAddress2"},
						ews.Item{Contact: &ews.Contact{EmailAddresses: []ews.EmailAddressEntry{{Key: "EmailAddress1", Address: "not@sent.example"}, {Key: "EmailAddress2", Address: "adah@home.example"}}}}),
					ews.SetItemField(ews.IndexedFieldURI{FieldURI: ews.FieldContactPhysicalAddressCity, FieldIndex: "Business"},
						ews.Item{Contact: &ews.Contact{PhysicalAddresses: []ews.PhysicalAddressEntry{{Key: "Business", Street: "not sent", City: "Shelbyville"}}}}),
					ews.DeleteItemField(ews.IndexedFieldURI{FieldURI: ews.FieldContactPhoneNumber, FieldIndex: "MobilePhone"}),
					ews.SetItemField(ews.FieldItemCategories, ews.Item{Categories: []string{"Customer", "VIP"}}),
					ews.SetExtendedProperty(ews.ExtendedProperty{Field: crmRecordID, Value: "contact-000042"}),
					ews.DeleteItemField(hash),
				}},
				{ItemID: ews.ItemID{ID: "AAMkIcal1=", ChangeKey: "DwAAABYA"}, Updates: []ews.ItemUpdate{
					ews.SetItemField(ews.FieldCalendarStart, ews.Item{Calendar: &ews.CalendarItem{Start: date("2024-06-03T10:00:00Z")}}),
					ews.SetItemField(ews.FieldCalendarEnd, ews.Item{Calendar: &ews.CalendarItem{End: date("2024-06-03T11:00:00Z")}}),
					ews.AppendToItemField(ews.FieldCalendarOptionalAttendees, ews.Item{Calendar: &ews.CalendarItem{OptionalAttendees: []ews.Attendee{{Mailbox: ews.Mailbox{EmailAddress: "dan@contoso.example"}}}}}),
				}},
				// Zero values are sent when an update names them.
				{ItemID: ews.ItemID{ID: "AAMkImsg1=", ChangeKey: "CQAAABYA"}, Kind: ews.KindMessage, Updates: []ews.ItemUpdate{
					ews.SetItemField(ews.FieldMessageIsRead, ews.Item{IsRead: false}),
					ews.SetItemField(ews.FieldItemSubject, ews.Item{Subject: ""}),
					ews.SetItemField(ews.FieldItemImportance, ews.Item{Importance: ews.ImportanceLow}),
				}},
				{ItemID: ews.ItemID{ID: "AAMkItask1=", ChangeKey: "EwAAABYA"}, Kind: ews.KindTask, Updates: []ews.ItemUpdate{
					ews.SetItemField(ews.FieldTaskPercentComplete, ews.Item{Task: &ews.Task{PercentComplete: 0}}),
					ews.SetItemField(ews.FieldTaskStatus, ews.Item{Task: &ews.Task{Status: ews.TaskNotStarted}}),
					ews.SetItemField(ews.FieldTaskRecurrence, ews.Item{Task: &ews.Task{Recurrence: &ews.Recurrence{Pattern: ews.RecurRelativeMonthly, Interval: 1,
						DaysOfWeek: []string{"Friday"}, DayOfWeekIndex: "Last", StartDate: date("2024-06-28"), NumberOfOccurrences: 6}}}),
				}},
			}})
			must(t, err)
			type sum struct {
				ID, ChangeKey, Kind string
				Conflicts           int
				Code                ews.ResponseCode
			}
			var got []sum
			for _, r := range resp.Results {
				got = append(got, sum{r.ItemID.ID, r.ItemID.ChangeKey, r.Kind, r.ConflictCount, r.Code})
			}
			want := []sum{{"AAMkIcon1=", "EQAAABYB", "Contact", 0, ews.NoError}, {"", "", "", 0, ews.ErrorIrresolvableConflict},
				{"AAMkImsg1=", "CQAAABYB", "Message", 1, ews.NoError}, {"AAMkItask1=", "EwAAABYB", "Task", 0, ews.NoError}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("UpdateItem results (-want +got):\n%s", diff)
			}
			if !ews.IsConflict(resp.Results[1].Err) || ews.IsConflict(resp.Results[0].Err) {
				t.Errorf("IsConflict(Results[1].Err = %v) = false, want true", resp.Results[1].Err)
			}
		}},
		{"moveitem", "moveitem.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.MoveItem(ctx, &ews.MoveItemRequest{ToFolderID: ews.FolderID{ID: "AAMkFarch="},
				ItemIDs: []ews.ItemID{{ID: "AAMkIcon1=", ChangeKey: "EQAAABYB"}, {ID: "AAMkIgone="}}})
			must(t, err)
			if r := resp.Results[0]; r.ItemID.ID != "AAMkIcon1new=" || r.Kind != ews.KindContact {
				t.Errorf("MoveItem Results[0] = %+v, want the new id AAMkIcon1new=", r)
			}
			if !errors.Is(resp.Results[1].Err, ews.ErrorItemNotFound) {
				t.Errorf("MoveItem Results[1].Err = %v, want ErrorItemNotFound", resp.Results[1].Err)
			}
		}},
		{"copyitem", "copyitem.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			resp, err := c.CopyItem(ctx, &ews.MoveItemRequest{ToFolderID: ews.DistinguishedFolder(ews.FolderDrafts), ItemIDs: []ews.ItemID{{ID: "AAMkImsg1="}}})
			must(t, err)
			if r := resp.Results[0]; r.ItemID.ID != "AAMkImsg1copy=" {
				t.Errorf("CopyItem Results[0].ItemID = %+v, want the copy's id", r.ItemID)
			}
		}},
	}
}

func TestMoveItemOldServerOmitsReturnNewItemIds(t *testing.T) {
	f := newFakeEWS(t, soapReply(200, readTestdata(t, "responses/copyitem.xml")))
	c := newClient(t, f, ews.WithServerVersion(ews.Exchange2010))
	if _, err := c.CopyItem(context.Background(), &ews.MoveItemRequest{ToFolderID: ews.DistinguishedFolder(ews.FolderDrafts), ItemIDs: []ews.ItemID{{ID: "AAMkImsg1="}}}); err != nil {
		t.Fatal(err)
	}
	if body := f.Requests()[0].Body; containsBytes(body, "ReturnNewItemIds") {
		t.Errorf("CopyItem for Exchange2010 sent ReturnNewItemIds, which its schema lacks:\n%s", body)
	}
}

func TestUpdateItemRefused(t *testing.T) {
	id := ews.ItemID{ID: "AAMkIcon1="}
	one := func(u ews.ItemUpdate) *ews.UpdateItemRequest {
		return &ews.UpdateItemRequest{Changes: []ews.ItemChange{{ItemID: id, Kind: ews.KindContact, Updates: []ews.ItemUpdate{u}}}}
	}
	tests := []struct {
		name string
		req  *ews.UpdateItemRequest
		want string
	}{
		{"no changes", &ews.UpdateItemRequest{}, "no changes"},
		{"no updates", &ews.UpdateItemRequest{Changes: []ews.ItemChange{{ItemID: id}}}, "has no updates"},
		{"value missing", one(ews.SetItemField(ews.FieldContactJobTitle, ews.Item{})), "carries no value for contacts:JobTitle"},
		{"index missing", one(ews.SetItemField(ews.IndexedFieldURI{FieldURI: ews.FieldContactEmailAddress, FieldIndex: "EmailAddress3"},
			ews.Item{Contact: &ews.Contact{EmailAddresses: []ews.EmailAddressEntry{{Key: "EmailAddress1", Address: "a@b.example"}}}})), "EmailAddress[EmailAddress3]"},
		{"extended missing", one(ews.SetItemField(crmRecordID, ews.Item{})), "carries no value for"},
		{"two values", one(ews.SetItemField(crmRecordID, ews.Item{ExtendedProperties: []ews.ExtendedProperty{{Field: crmRecordID, Value: "a"}, {Field: crmRecordID, Value: "b"}}})), "carries 2 values"},
		{"append subject", one(ews.AppendToItemField(ews.FieldItemSubject, ews.Item{Subject: "x"})), "appends only to"},
		{"no path", one(ews.ItemUpdate{Action: ews.ActionDelete}), "has no Path"},
		{"conflict resolution", &ews.UpdateItemRequest{ConflictResolution: "Merge", Changes: one(ews.DeleteItemField(ews.FieldItemSubject)).Changes}, `ConflictResolution "Merge"`},
		{"invitations", &ews.UpdateItemRequest{SendMeetingInvitationsOrCancellations: "SendToAll", Changes: one(ews.DeleteItemField(ews.FieldItemSubject)).Changes}, `"SendToAll"`},
		{"kind of change", &ews.UpdateItemRequest{Changes: []ews.ItemChange{{ItemID: id, Kind: "Person", Updates: []ews.ItemUpdate{ews.SetItemField(ews.FieldItemSubject, ews.Item{Subject: "x"})}}}}, `Kind "Person"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, soapReply(500, nil))
			_, err := newClient(t, f).UpdateItem(context.Background(), tt.req)
			if !errors.Is(err, ews.ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("UpdateItem(%s) = %v, want ErrInvalidRequest mentioning %q", tt.name, err, tt.want)
			}
			if n := len(f.Requests()); n != 0 {
				t.Errorf("UpdateItem(%s) sent %d requests, want 0", tt.name, n)
			}
		})
	}
}

// TestUpdateItemAppendNotRepeated checks that an UpdateItem with an append is
// not sent again when the connection breaks after the request went out,
// while one without appends is.
func TestUpdateItemAppendNotRepeated(t *testing.T) {
	for _, tt := range []struct {
		name  string
		u     ews.ItemUpdate
		sends int
	}{
		{"set", ews.SetItemField(ews.FieldItemSubject, ews.Item{Subject: "x"}), 3},
		{"append", ews.AppendToItemField(ews.FieldItemBody, ews.Item{Body: ews.Body{Content: "more"}}), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
				hj, ok := w.(http.Hijacker)
				if !ok {
					t.Fatal("no hijacker")
				}
				conn, _, err := hj.Hijack()
				if err == nil {
					conn.Close()
				}
			})
			_, err := newClient(t, f).UpdateItem(context.Background(), &ews.UpdateItemRequest{Changes: []ews.ItemChange{{ItemID: ews.ItemID{ID: "AAMkImsg1="}, Updates: []ews.ItemUpdate{tt.u}}}})
			var te *ews.TransportError
			if !errors.As(err, &te) {
				t.Fatalf("UpdateItem = %v, want a *TransportError", err)
			}
			if n := len(f.Requests()); n != tt.sends {
				t.Errorf("UpdateItem(%s) sent %d times, want %d", tt.name, n, tt.sends)
			}
		})
	}
}
