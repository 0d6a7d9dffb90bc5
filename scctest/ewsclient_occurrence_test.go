package scctest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

// TestOccurrencesWithEWSClient: ews.OccurrenceID and ews.RecurringMasterOf
// address instances and masters in GetItem, UpdateItem and DeleteItem;
// an updated occurrence becomes an exception, a deleted one leaves the
// calendar view.
func TestOccurrencesWithEWSClient(t *testing.T) {
	ctx := context.Background()
	_, alice := ewsAlice(t)
	cal := ews.DistinguishedFolder(ews.FolderCalendar)
	start := time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC)
	rec := &ews.Recurrence{Pattern: ews.RecurDaily, Interval: 1, StartDate: time.Date(2024, 6, 3, 0, 0, 0, 0, time.UTC), NumberOfOccurrences: 4}
	master, err := alice.CreateItemIn(ctx, cal, ews.Item{Subject: "sync", Calendar: &ews.CalendarItem{Start: start, End: start.Add(time.Hour), Recurrence: rec}})
	if err != nil {
		t.Fatal(err)
	}
	get := func(id ews.ItemID) (ews.Item, error) {
		t.Helper()
		r, err := alice.GetItem(ctx, &ews.GetItemRequest{ItemIDs: []ews.ItemID{id}, Shape: ews.ShapeAllProperties,
			AdditionalProperties: []ews.FieldURI{ews.FieldCalendarIsRecurring}})
		if err != nil {
			t.Fatal(err)
		}
		return r.Results[0].Item, r.Results[0].Err
	}
	m, err := get(master)
	if err != nil {
		t.Fatal(err)
	}
	if m.Calendar.CalendarItemType != "RecurringMaster" || m.Calendar.IsRecurring {
		t.Errorf("master: CalendarItemType %s IsRecurring %v, want RecurringMaster false", m.Calendar.CalendarItemType, m.Calendar.IsRecurring)
	}
	o2, err := get(ews.OccurrenceID{Master: master, Index: 2}.ItemID())
	if err != nil {
		t.Fatal(err)
	}
	if o2.Calendar.CalendarItemType != "Occurrence" || !o2.Calendar.IsRecurring || !o2.Calendar.Start.Equal(start.AddDate(0, 0, 1)) {
		t.Errorf("occurrence 2 = %s IsRecurring %v at %v", o2.Calendar.CalendarItemType, o2.Calendar.IsRecurring, o2.Calendar.Start)
	}
	back, err := get(ews.RecurringMasterOf(o2.ItemID))
	if err != nil || back.ItemID.ID != master.ID {
		t.Errorf("RecurringMasterOf(occurrence 2) = %v, %v; want the master %s", back.ItemID, err, master.ID)
	}
	if _, err := get(ews.OccurrenceID{Master: master, Index: 5}.ItemID()); !errors.Is(err, ews.ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange) {
		t.Errorf("occurrence 5 of 4: %v, want ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", err)
	}

	// Move occurrence 2 by two hours and rename it; delete occurrence 3.
	m, _ = get(master)
	o := ews.OccurrenceID{Master: m.ItemID, Index: 2}.ItemID()
	up, err := alice.UpdateItem(ctx, &ews.UpdateItemRequest{ConflictResolution: ews.AlwaysOverwrite, Changes: []ews.ItemChange{{ItemID: o, Kind: ews.KindCalendarItem,
		Updates: []ews.ItemUpdate{
			ews.SetItemField(ews.FieldItemSubject, ews.Item{Subject: "sync (moved)"}),
			ews.SetItemField(ews.FieldCalendarStart, ews.Item{Calendar: &ews.CalendarItem{Start: start.AddDate(0, 0, 1).Add(2 * time.Hour)}}),
			ews.SetItemField(ews.FieldCalendarEnd, ews.Item{Calendar: &ews.CalendarItem{End: start.AddDate(0, 0, 1).Add(3 * time.Hour)}}),
		}}}})
	if err != nil || up.Results[0].Err != nil {
		t.Fatalf("UpdateItem(occurrence 2) = %v, %v", err, up.Results[0].Err)
	}
	del, err := alice.DeleteItem(ctx, &ews.DeleteItemRequest{ItemIDs: []ews.ItemID{ews.OccurrenceID{Master: master, Index: 3}.ItemID()},
		DeleteType: ews.MoveToDeletedItems, SendMeetingCancellations: "SendToNone"})
	if err != nil || del.Results[0].Err != nil {
		t.Fatalf("DeleteItem(occurrence 3) = %v, %v", err, del.Results[0].Err)
	}
	m, err = get(master)
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Calendar; len(c.ModifiedOccurrences) != 1 || !c.ModifiedOccurrences[0].OriginalStart.Equal(start.AddDate(0, 0, 1)) ||
		len(c.DeletedOccurrences) != 1 || !c.DeletedOccurrences[0].Equal(start.AddDate(0, 0, 2)) {
		t.Errorf("master after the changes: Modified %+v, Deleted %v", c.ModifiedOccurrences, c.DeletedOccurrences)
	}
	r, err := alice.FindItem(ctx, &ews.FindItemRequest{ParentFolderIDs: []ews.FolderID{cal},
		AdditionalProperties: []ews.FieldURI{ews.FieldItemSubject, ews.FieldCalendarStart, ews.FieldCalendarCalendarItemType},
		CalendarView:         &ews.CalendarView{Start: start.AddDate(0, 0, -1), End: start.AddDate(0, 0, 10)}})
	if err != nil || r.Results[0].Err != nil {
		t.Fatalf("FindItem(CalendarView) = %v, %v", err, r.Results[0].Err)
	}
	var got []string
	for _, it := range r.Results[0].Items {
		got = append(got, it.Calendar.Start.Format("01-02T15:04")+" "+it.Calendar.CalendarItemType+" "+it.Subject)
	}
	want := []string{"06-03T09:00 Occurrence sync", "06-04T11:00 Exception sync (moved)", "06-06T09:00 Occurrence sync"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("CalendarView (-want +got):\n%s", d)
	}
}
