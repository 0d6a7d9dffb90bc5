package scctest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

// TestRecurrenceWithEWSClient: a series created with our ews client comes
// back as sent, CalendarView expands it into occurrences GetItem can read,
// SetItemField replaces the recurrence and a value Exchange refuses is its
// response code.
func TestRecurrenceWithEWSClient(t *testing.T) {
	ctx := context.Background()
	_, alice := ewsAlice(t)
	cal := ews.DistinguishedFolder(ews.FolderCalendar)
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	start := time.Date(2024, 6, 3, 9, 30, 0, 0, time.UTC) // a Monday
	rec := &ews.Recurrence{Pattern: ews.RecurWeekly, Interval: 1, DaysOfWeek: []string{"Monday", "Thursday"}, FirstDayOfWeek: "Monday",
		StartDate: day("2024-06-03"), NumberOfOccurrences: 5}
	id, err := alice.CreateItemIn(ctx, cal, ews.Item{Subject: "review", Calendar: &ews.CalendarItem{Start: start, End: start.Add(time.Hour), Recurrence: rec}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := alice.GetItem(ctx, &ews.GetItemRequest{ItemIDs: []ews.ItemID{id}, Shape: ews.ShapeAllProperties})
	if err != nil || got.Results[0].Err != nil {
		t.Fatalf("GetItem = %v, %v", err, got.Results[0].Err)
	}
	c := got.Results[0].Item.Calendar
	if d := cmp.Diff(rec, c.Recurrence); d != "" {
		t.Errorf("GetItem Recurrence (-sent +got):\n%s", d)
	}
	if c.CalendarItemType != "RecurringMaster" || c.FirstOccurrence == nil || c.LastOccurrence == nil {
		t.Fatalf("GetItem = %+v, want a RecurringMaster with First/LastOccurrence", c)
	}
	if !c.FirstOccurrence.Start.Equal(start) || !c.LastOccurrence.Start.Equal(start.AddDate(0, 0, 14)) {
		t.Errorf("First/LastOccurrence start = %v, %v; want %v, %v", c.FirstOccurrence.Start, c.LastOccurrence.Start, start, start.AddDate(0, 0, 14))
	}
	view := func() []ews.Item {
		t.Helper()
		r, err := alice.FindItem(ctx, &ews.FindItemRequest{ParentFolderIDs: []ews.FolderID{cal},
			AdditionalProperties: []ews.FieldURI{ews.FieldCalendarStart, ews.FieldCalendarEnd, ews.FieldCalendarCalendarItemType},
			CalendarView:         &ews.CalendarView{Start: day("2024-06-01"), End: day("2024-07-01")}})
		if err != nil || r.Results[0].Err != nil {
			t.Fatalf("FindItem(CalendarView) = %v, %v", err, r.Results[0].Err)
		}
		return r.Results[0].Items
	}
	var starts []string
	var ids []ews.ItemID
	for _, it := range view() {
		starts = append(starts, it.Calendar.Start.Format("01-02T15:04")+" "+it.Calendar.CalendarItemType)
		ids = append(ids, it.ItemID)
	}
	want := []string{"06-03T09:30 Occurrence", "06-06T09:30 Occurrence", "06-10T09:30 Occurrence", "06-13T09:30 Occurrence", "06-17T09:30 Occurrence"}
	if d := cmp.Diff(want, starts); d != "" {
		t.Errorf("CalendarView (-want +got):\n%s", d)
	}
	if c.FirstOccurrence.ItemID.ID != ids[0].ID || c.LastOccurrence.ItemID.ID != ids[len(ids)-1].ID {
		t.Errorf("First/LastOccurrence ids are not those CalendarView gives")
	}
	occ, err := alice.GetItem(ctx, &ews.GetItemRequest{ItemIDs: ids[1:2], Shape: ews.ShapeAllProperties})
	if err != nil || occ.Results[0].Err != nil {
		t.Fatalf("GetItem(occurrence) = %v, %v", err, occ.Results[0].Err)
	}
	if oc := occ.Results[0].Item.Calendar; oc.CalendarItemType != "Occurrence" || oc.Recurrence != nil || !oc.Start.Equal(start.AddDate(0, 0, 3)) || occ.Results[0].Item.Subject != "review" {
		t.Errorf("GetItem(occurrence 2) = %+v, want the Thursday occurrence without a recurrence", oc)
	}

	daily := &ews.Recurrence{Pattern: ews.RecurDaily, Interval: 3, StartDate: day("2024-06-03"), EndDate: day("2024-06-09")}
	up, err := alice.UpdateItem(ctx, &ews.UpdateItemRequest{ConflictResolution: ews.AlwaysOverwrite, Changes: []ews.ItemChange{{ItemID: id, Kind: ews.KindCalendarItem,
		Updates: []ews.ItemUpdate{ews.SetItemField(ews.FieldCalendarRecurrence, ews.Item{Calendar: &ews.CalendarItem{Recurrence: daily}})}}}})
	if err != nil || up.Results[0].Err != nil {
		t.Fatalf("UpdateItem(SetItemField Recurrence) = %v, %v", err, up.Results[0].Err)
	}
	starts = nil
	for _, it := range view() {
		starts = append(starts, it.Calendar.Start.Format("01-02"))
	}
	if d := cmp.Diff([]string{"06-03", "06-06", "06-09"}, starts); d != "" {
		t.Errorf("CalendarView after SetItemField (-want +got):\n%s", d)
	}

	tooWide := &ews.Recurrence{Pattern: ews.RecurWeekly, Interval: 100, DaysOfWeek: []string{"Monday"}, StartDate: day("2024-06-03")}
	_, err = alice.CreateItemIn(ctx, cal, ews.Item{Calendar: &ews.CalendarItem{Start: start, End: start.Add(time.Hour), Recurrence: tooWide}})
	if !errors.Is(err, ews.ErrorCalendarOutOfRange) {
		t.Errorf("CreateItem(weekly every 100 weeks) error = %v, want ErrorCalendarOutOfRange", err)
	}
}
