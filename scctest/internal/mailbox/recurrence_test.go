package mailbox

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func d(y int, mo time.Month, day int) time.Time { return time.Date(y, mo, day, 0, 0, 0, 0, time.UTC) }

func TestRecurrencePatterns(t *testing.T) {
	tests := []struct {
		name  string
		start time.Time // master Start (clock time of every occurrence)
		rec   Recurrence
		from  time.Time
		to    time.Time
		want  []string
		err   *Error
	}{
		{name: "daily every 2, numbered",
			start: time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC),
			rec:   Recurrence{Pattern: RecurrencePattern{Kind: Daily, Interval: 2}, Range: RecurrenceRange{Kind: Numbered, Count: 5}},
			from:  d(2024, 6, 1), to: d(2024, 7, 1),
			want: []string{"06-03", "06-05", "06-07", "06-09", "06-11"}},
		{name: "weekly mon/wed/fri to an end date",
			start: time.Date(2024, 6, 5, 9, 0, 0, 0, time.UTC),
			rec: Recurrence{Pattern: RecurrencePattern{Kind: Weekly, Interval: 1, DaysOfWeek: []string{"Friday", "Monday", "Wednesday"}},
				Range: RecurrenceRange{Kind: EndDate, EndDate: d(2024, 6, 14)}},
			from: d(2024, 6, 1), to: d(2024, 7, 1),
			want: []string{"06-05", "06-07", "06-10", "06-12", "06-14"}},
		{name: "every other week, weeks from Monday, no end",
			start: time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC),
			rec: Recurrence{Pattern: RecurrencePattern{Kind: Weekly, Interval: 2, DaysOfWeek: []string{"Tuesday"}, FirstDayOfWeek: "Monday"},
				Range: RecurrenceRange{Kind: NoEnd}},
			from: d(2024, 6, 1), to: d(2024, 7, 1),
			want: []string{"06-04", "06-18"}},
		{name: "absolute monthly on the 31st",
			start: time.Date(2024, 1, 31, 8, 0, 0, 0, time.UTC),
			rec:   Recurrence{Pattern: RecurrencePattern{Kind: AbsoluteMonthly, Interval: 1, DayOfMonth: 31}, Range: RecurrenceRange{Kind: Numbered, Count: 4}},
			from:  d(2024, 1, 1), to: d(2025, 1, 1),
			want: []string{"01-31", "02-29", "03-31", "04-30"}},
		{name: "relative monthly second Tuesday",
			start: time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC),
			rec: Recurrence{Pattern: RecurrencePattern{Kind: RelativeMonthly, Interval: 1, DaysOfWeek: []string{"Tuesday"}, DayOfWeekIndex: "Second"},
				Range: RecurrenceRange{Kind: Numbered, Count: 3}},
			from: d(2024, 1, 1), to: d(2025, 1, 1),
			want: []string{"06-11", "07-09", "08-13"}},
		{name: "relative monthly last weekday",
			start: time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC),
			rec: Recurrence{Pattern: RecurrencePattern{Kind: RelativeMonthly, Interval: 1, DaysOfWeek: []string{"Weekday"}, DayOfWeekIndex: "Last"},
				Range: RecurrenceRange{Kind: EndDate, EndDate: d(2024, 8, 31)}},
			from: d(2024, 1, 1), to: d(2025, 1, 1),
			want: []string{"06-28", "07-31", "08-30"}},
		{name: "absolute yearly Feb 29",
			start: time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC),
			rec:   Recurrence{Pattern: RecurrencePattern{Kind: AbsoluteYearly, DayOfMonth: 29, Month: time.February}, Range: RecurrenceRange{Kind: Numbered, Count: 3}},
			from:  d(2024, 1, 1), to: d(2025, 12, 31),
			want: []string{"02-29", "02-28"}},
		{name: "relative yearly first Monday of September",
			start: time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC),
			rec: Recurrence{Pattern: RecurrencePattern{Kind: RelativeYearly, DaysOfWeek: []string{"Monday"}, DayOfWeekIndex: "First", Month: time.September},
				Range: RecurrenceRange{Kind: NoEnd}},
			from: d(2024, 1, 1), to: d(2025, 12, 31),
			want: []string{"09-02", "09-01"}},
		{name: "window in the middle of a numbered series",
			start: time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC),
			rec:   Recurrence{Pattern: RecurrencePattern{Kind: Daily, Interval: 1}, Range: RecurrenceRange{Kind: Numbered, Count: 10}},
			from:  d(2024, 6, 10), to: d(2024, 7, 1),
			want: []string{"06-10", "06-11", "06-12"}},
		{name: "local time zone keeps the clock",
			start: time.Date(2024, 6, 3, 23, 30, 0, 0, time.FixedZone("UTC+2", 2*3600)),
			rec:   Recurrence{Pattern: RecurrencePattern{Kind: Weekly, Interval: 1, DaysOfWeek: []string{"Monday"}}, Range: RecurrenceRange{Kind: Numbered, Count: 2}},
			from:  d(2024, 6, 1), to: d(2024, 7, 1),
			want: []string{"06-03", "06-10"}}, // 21:30Z on the Mondays
		{name: "interval zero", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: Daily}, Range: RecurrenceRange{Kind: NoEnd}}, err: ErrCalendarOutOfRange},
		{name: "weekly without days", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: Weekly, Interval: 1}, Range: RecurrenceRange{Kind: NoEnd}}, err: ErrCalendarInvalidRecurrence},
		{name: "bad day name", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: Weekly, Interval: 1, DaysOfWeek: []string{"Funday"}}, Range: RecurrenceRange{Kind: NoEnd}}, err: ErrCalendarInvalidRecurrence},
		{name: "bad index", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: RelativeMonthly, Interval: 1, DaysOfWeek: []string{"Day"}, DayOfWeekIndex: "Fifth"}, Range: RecurrenceRange{Kind: NoEnd}}, err: ErrCalendarInvalidRecurrence},
		{name: "day 32", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: AbsoluteMonthly, Interval: 1, DayOfMonth: 32}, Range: RecurrenceRange{Kind: NoEnd}}, err: ErrCalendarOutOfRange},
		{name: "no range", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: Daily, Interval: 1}}, err: ErrCalendarInvalidRecurrence},
		{name: "end before start", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: Daily, Interval: 1}, Range: RecurrenceRange{Kind: EndDate, EndDate: d(2024, 6, 1)}}, err: ErrCalendarInvalidRecurrence},
		{name: "weekly interval 100", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: Weekly, Interval: 100, DaysOfWeek: []string{"Monday"}}, Range: RecurrenceRange{Kind: NoEnd}}, err: ErrCalendarOutOfRange},
		{name: "daily interval 1000", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: Daily, Interval: 1000}, Range: RecurrenceRange{Kind: NoEnd}}, err: ErrCalendarOutOfRange},
		{name: "numbered zero", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: Daily, Interval: 1}, Range: RecurrenceRange{Kind: Numbered}}, err: ErrCalendarOutOfRange},
		{name: "weekly on weekdays", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: Weekly, Interval: 1, DaysOfWeek: []string{"Monday", "Weekday"}}, Range: RecurrenceRange{Kind: NoEnd}}, err: ErrCalendarInvalidDayForWeekly},
		{name: "weekly first day Day", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: Weekly, Interval: 1, DaysOfWeek: []string{"Monday"}, FirstDayOfWeek: "Day"}, Range: RecurrenceRange{Kind: NoEnd}}, err: ErrCalendarInvalidDayForWeekly},
		{name: "relative with two days", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: RelativeMonthly, Interval: 1, DaysOfWeek: []string{"Monday", "Tuesday"}, DayOfWeekIndex: "First"}, Range: RecurrenceRange{Kind: NoEnd}}, err: ErrCalendarInvalidPropValue},
		{name: "end after 4500-09-01", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: Daily, Interval: 1}, Range: RecurrenceRange{Kind: EndDate, EndDate: d(4500, 9, 2)}}, err: ErrRecurrenceEndDateTooBig},
		{name: "dates are dates in a zone west of UTC",
			start: time.Date(2024, 6, 3, 18, 0, 0, 0, time.FixedZone("UTC-7", -7*3600)),
			rec:   Recurrence{Pattern: RecurrencePattern{Kind: Daily, Interval: 1}, Range: RecurrenceRange{Kind: EndDate, StartDate: d(2024, 6, 3), EndDate: d(2024, 6, 5)}},
			from:  d(2024, 6, 1), to: d(2024, 7, 1),
			want: []string{"06-03", "06-04", "06-05"}},
		{name: "weekly duplicate days count once",
			start: time.Date(2024, 6, 3, 9, 0, 0, 0, time.UTC),
			rec:   Recurrence{Pattern: RecurrencePattern{Kind: Weekly, Interval: 1, DaysOfWeek: []string{"Monday", "Monday"}}, Range: RecurrenceRange{Kind: Numbered, Count: 2}},
			from:  d(2024, 6, 1), to: d(2024, 7, 1),
			want: []string{"06-03", "06-10"}},
		{name: "relative yearly last weekend day of February",
			start: time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC),
			rec: Recurrence{Pattern: RecurrencePattern{Kind: RelativeYearly, DaysOfWeek: []string{"WeekendDay"}, DayOfWeekIndex: "Last", Month: time.February},
				Range: RecurrenceRange{Kind: Numbered, Count: 2}},
			from: d(2024, 1, 1), to: d(2025, 12, 31),
			want: []string{"02-25", "02-23"}},
		{name: "no occurrence", start: d(2024, 6, 3), rec: Recurrence{Pattern: RecurrencePattern{Kind: Weekly, Interval: 1, DaysOfWeek: []string{"Friday"}}, Range: RecurrenceRange{Kind: EndDate, EndDate: d(2024, 6, 4)}}, err: ErrRecurrenceHasNoOccurrence},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMailbox(t)
			rec := tc.rec
			it, err := m.CreateItem("calendar", Item{Kind: CalendarItem, Subject: "series",
				Calendar: &CalendarFields{Start: tc.start, End: tc.start.Add(30 * time.Minute), Recurrence: &rec}})
			wantErr(t, "CreateItem", err, tc.err)
			if err != nil {
				return
			}
			occ, more, err := m.CalendarView("calendar", tc.from, tc.to, 0)
			if err != nil || more {
				t.Fatalf("CalendarView = %v, more %v", err, more)
			}
			var got []string
			for i, o := range occ {
				got = append(got, o.Start.Format("01-02"))
				if o.Type != "Occurrence" || o.Index == 0 || o.End.Sub(o.Start) != 30*time.Minute || o.Item.ID != it.ID {
					t.Errorf("occurrence %d = %+v", i, o)
				}
				h, mi, _ := o.Start.Clock()
				sh, smi, _ := tc.start.Clock()
				if h != sh || mi != smi {
					t.Errorf("occurrence %d at %v, want the series' clock %v", i, o.Start, tc.start)
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("occurrences (-want +got):\n%s", d)
			}
		})
	}
}

func TestCalendarView(t *testing.T) {
	m := newMailbox(t)
	at := func(day, h int) time.Time { return time.Date(2024, 6, day, h, 0, 0, 0, time.UTC) }
	mustItem(t, m, "calendar", Item{Kind: CalendarItem, Subject: "single", Calendar: &CalendarFields{Start: at(5, 9), End: at(5, 10)}})
	mustItem(t, m, "calendar", Item{Kind: CalendarItem, Subject: "overnight", Calendar: &CalendarFields{Start: at(9, 22), End: at(10, 2)}})
	series := mustItem(t, m, "calendar", Item{Kind: CalendarItem, Subject: "standup", Calendar: &CalendarFields{
		Start: at(3, 8), End: at(3, 9),
		Recurrence:          &Recurrence{Pattern: RecurrencePattern{Kind: Daily, Interval: 1}, Range: RecurrenceRange{Kind: Numbered, Count: 5}},
		DeletedOccurrences:  []time.Time{at(4, 8)},
		ModifiedOccurrences: []OccurrenceException{{OriginalStart: at(6, 8), Start: at(6, 11), End: at(6, 12), Subject: "late standup"}},
	}})
	occ, more, err := m.CalendarView("calendar", at(1, 0), at(30, 0), 0)
	if err != nil || more {
		t.Fatal(err, more)
	}
	var got []string
	for _, o := range occ {
		got = append(got, o.Start.Format("02T15")+" "+o.Item.Subject+" "+o.Type)
	}
	want := []string{"03T08 standup Occurrence", "05T08 standup Occurrence", "05T09 single Single", "06T11 late standup Exception", "07T08 standup Occurrence", "09T22 overnight Single"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("CalendarView (-want +got):\n%s", d)
	}
	if occ[0].ID == series.ID || occ[0].ID == occ[1].ID {
		t.Errorf("occurrence ids are not distinct from the master and each other")
	}
	// A window starting mid-event still shows it; one ending at an
	// event's start does not.
	occ, _, _ = m.CalendarView("calendar", at(10, 1), at(10, 3), 0)
	if len(occ) != 1 || occ[0].Item.Subject != "overnight" {
		t.Errorf("window inside the overnight event = %+v", occ)
	}
	occ, _, _ = m.CalendarView("calendar", at(5, 0), at(5, 8), 0)
	if len(occ) != 0 {
		t.Errorf("window ending at a start = %+v", occ)
	}
	occ, more, _ = m.CalendarView("calendar", at(1, 0), at(30, 0), 2)
	if len(occ) != 2 || !more {
		t.Errorf("MaxEntriesReturned 2 = %d entries, more %v", len(occ), more)
	}
	_, _, err = m.CalendarView("calendar", at(1, 0), at(1, 0).AddDate(2, 0, 1), 0)
	wantErr(t, "CalendarView over two years", err, ErrCalendarViewRangeTooBig)
	_, _, err = m.CalendarView("calendar", at(2, 0), at(1, 0), 0)
	wantErr(t, "CalendarView end before start", err, ErrInvalidRequest)
	_, _, err = m.CalendarView("inbox", at(1, 0), at(2, 0), 0)
	wantErr(t, "CalendarView(inbox)", err, ErrCalendarFolderInvalidForVew)
}

func TestCalendarViewLongSeriesIsBounded(t *testing.T) {
	m := newMailbox(t)
	start := time.Date(1900, 1, 1, 8, 0, 0, 0, time.UTC)
	mustItem(t, m, "calendar", Item{Kind: CalendarItem, Calendar: &CalendarFields{Start: start, End: start.Add(time.Hour),
		Recurrence: &Recurrence{Pattern: RecurrencePattern{Kind: Daily, Interval: 1}, Range: RecurrenceRange{Kind: NoEnd}}}})
	occ, _, err := m.CalendarView("calendar", d(2024, 1, 1), d(2025, 1, 1), 0)
	if err != nil || len(occ) != 366 {
		t.Errorf("a daily series from 1900 over 2024 = %d occurrences, %v; want 366", len(occ), err)
	}
}

func TestGetOccurrence(t *testing.T) {
	m := newMailbox(t)
	at := func(day, h int) time.Time { return time.Date(2024, 6, day, h, 0, 0, 0, time.UTC) }
	series := mustItem(t, m, "calendar", Item{Kind: CalendarItem, Subject: "standup", Calendar: &CalendarFields{
		Start: at(3, 8), End: at(3, 9),
		Recurrence:          &Recurrence{Pattern: RecurrencePattern{Kind: Daily, Interval: 1}, Range: RecurrenceRange{Kind: Numbered, Count: 5}},
		DeletedOccurrences:  []time.Time{at(4, 8)},
		ModifiedOccurrences: []OccurrenceException{{OriginalStart: at(6, 8), Start: at(20, 11), End: at(20, 12)}},
	}})
	occ, _, _ := m.CalendarView("calendar", at(1, 0), at(30, 0), 0)
	for _, o := range occ {
		got, err := m.GetOccurrence(o.ID)
		if err != nil || got.Start != o.Start || got.Index != o.Index || got.Type != o.Type {
			t.Errorf("GetOccurrence(%d) = %+v, %v; want %+v", o.Index, got, err, o)
		}
	}
	occID := func(n uint32) string {
		info, _ := DecodeID(series.ID)
		info.Kind, info.Sub = KindOccurrenceID, n
		return EncodeID(info)
	}
	for _, n := range []uint32{0, 2, 6} { // none, deleted, past the end
		_, err := m.GetOccurrence(occID(n))
		wantErr(t, "GetOccurrence(bad index)", err, ErrItemNotFound)
	}
	_, err := m.GetOccurrence(series.ID)
	wantErr(t, "GetOccurrence(master id)", err, ErrInvalidIDMalformed)
}

func TestRecurrenceKeepsLocalTimeAcrossDST(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	m := newMailbox(t)
	start := time.Date(2024, 3, 25, 9, 0, 0, 0, loc) // a Monday before the change on the 31st
	mustItem(t, m, "calendar", Item{Kind: CalendarItem, Calendar: &CalendarFields{Start: start, End: start.Add(time.Hour),
		Recurrence: &Recurrence{Pattern: RecurrencePattern{Kind: Weekly, Interval: 1, DaysOfWeek: []string{"Monday"}}, Range: RecurrenceRange{Kind: Numbered, Count: 2}}}})
	occ, _, err := m.CalendarView("calendar", d(2024, 3, 1), d(2024, 5, 1), 0)
	if err != nil || len(occ) != 2 {
		t.Fatalf("CalendarView = %d, %v", len(occ), err)
	}
	utc := []string{occ[0].Start.UTC().Format("01-02T15"), occ[1].Start.UTC().Format("01-02T15")}
	if d := cmp.Diff([]string{"03-25T08", "04-01T07"}, utc); d != "" {
		t.Errorf("occurrences in UTC (-want +got):\n%s", d)
	}
}

// TestRecurrenceIndexesSurviveSkipping: a view far into a long series
// skips ahead without losing the instance indexes (ids) or the end of a
// numbered range.
func TestRecurrenceIndexesSurviveSkipping(t *testing.T) {
	start := time.Date(2000, 1, 3, 9, 0, 0, 0, time.UTC) // a Monday
	for _, rec := range []Recurrence{
		{Pattern: RecurrencePattern{Kind: Daily, Interval: 3}, Range: RecurrenceRange{Kind: Numbered, Count: 4000}},
		{Pattern: RecurrencePattern{Kind: Weekly, Interval: 2, DaysOfWeek: []string{"Monday", "Thursday", "Sunday"}, FirstDayOfWeek: "Monday"}, Range: RecurrenceRange{Kind: Numbered, Count: 1500}},
		{Pattern: RecurrencePattern{Kind: RelativeMonthly, Interval: 5, DaysOfWeek: []string{"Friday"}, DayOfWeekIndex: "Last"}, Range: RecurrenceRange{Kind: Numbered, Count: 100}},
		{Pattern: RecurrencePattern{Kind: AbsoluteYearly, DayOfMonth: 2, Month: time.January}, Range: RecurrenceRange{Kind: NoEnd}},
	} {
		rec := rec
		if err := rec.validate(start); err != nil {
			t.Fatal(err)
		}
		var all []time.Time
		rec.each(start, time.Time{}, func(idx int, at time.Time) bool {
			if idx != len(all)+1 {
				t.Fatalf("%v: index %d after %d occurrences", rec.Pattern.Kind, idx, len(all))
			}
			all = append(all, at)
			return at.Year() < 2040
		})
		for _, k := range []int{len(all) / 3, len(all) / 2, len(all) - 1} {
			from := all[k]
			rec.each(start, from, func(idx int, at time.Time) bool {
				if at.Before(from) {
					return true
				}
				if idx != k+1 || !at.Equal(all[k]) {
					t.Errorf("%v from %v: first index %d at %v, want %d at %v", rec.Pattern.Kind, from, idx, at, k+1, all[k])
				}
				return false
			})
		}
	}
}

func TestSeries(t *testing.T) {
	m := newMailbox(t)
	at := func(day, h int) time.Time { return time.Date(2024, 6, day, h, 0, 0, 0, time.UTC) }
	series := mustItem(t, m, "calendar", Item{Kind: CalendarItem, Subject: "standup", Calendar: &CalendarFields{
		Start: at(3, 8), End: at(3, 9),
		Recurrence:          &Recurrence{Pattern: RecurrencePattern{Kind: Daily, Interval: 1}, Range: RecurrenceRange{Kind: Numbered, Count: 5}},
		DeletedOccurrences:  []time.Time{at(3, 8)},
		ModifiedOccurrences: []OccurrenceException{{OriginalStart: at(7, 8), Start: at(20, 11), End: at(20, 12)}},
	}})
	got, err := m.GetItem(series.ID)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := Series(got)
	if !ok || info.First == nil || info.Last == nil {
		t.Fatalf("Series = %+v, %v", info, ok)
	}
	if info.First.Index != 2 || !info.First.Start.Equal(at(4, 8)) {
		t.Errorf("First = %+v, want index 2 at %v (the first is deleted)", info.First, at(4, 8))
	}
	if info.Last.Index != 5 || info.Last.Type != "Exception" || !info.Last.Start.Equal(at(20, 11)) || !info.Last.OriginalStart.Equal(at(7, 8)) {
		t.Errorf("Last = %+v, want the moved exception", info.Last)
	}
	if len(info.Modified) != 1 || info.Modified[0].Index != 5 || len(info.Deleted) != 1 || !info.Deleted[0].Equal(at(3, 8)) {
		t.Errorf("Modified = %+v, Deleted = %v", info.Modified, info.Deleted)
	}
	for _, o := range []*Occurrence{info.First, info.Last} {
		occ, err := m.GetOccurrence(o.ID)
		if err != nil || !occ.Start.Equal(o.Start) || occ.Type != o.Type {
			t.Errorf("GetOccurrence(%d) = %+v, %v; want %+v", o.Index, occ, err, o)
		}
	}
	// The moved exception is in a window around its new time, not its old.
	occ, _, _ := m.CalendarView("calendar", at(20, 0), at(21, 0), 0)
	if len(occ) != 1 || occ[0].Index != 5 || occ[0].Type != "Exception" {
		t.Errorf("CalendarView on the 20th = %+v", occ)
	}
	occ, _, _ = m.CalendarView("calendar", at(7, 0), at(8, 0), 0)
	if len(occ) != 0 {
		t.Errorf("CalendarView on the 7th = %+v, want none (moved away)", occ)
	}
	if _, ok := Series(Item{Kind: CalendarItem, Calendar: &CalendarFields{}}); ok {
		t.Errorf("Series(single) ok")
	}
}
