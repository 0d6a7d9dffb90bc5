package mailbox

import (
	"sort"
	"time"
)

// PatternKind is the recurrence pattern element.
type PatternKind uint8

// Recurrence patterns.
const (
	Daily           PatternKind = iota + 1 // DailyRecurrence
	Weekly                                 // WeeklyRecurrence
	AbsoluteMonthly                        // AbsoluteMonthlyRecurrence
	RelativeMonthly                        // RelativeMonthlyRecurrence
	AbsoluteYearly                         // AbsoluteYearlyRecurrence
	RelativeYearly                         // RelativeYearlyRecurrence
)

// RangeKind is the recurrence range element.
type RangeKind uint8

// Recurrence ranges.
const (
	NoEnd    RangeKind = iota + 1 // NoEndRecurrence
	EndDate                       // EndDateRecurrence
	Numbered                      // NumberedRecurrence
)

// Recurrence is a calendar item's recurrence (t:Recurrence): one pattern
// and one range.
type Recurrence struct {
	Pattern RecurrencePattern
	Range   RecurrenceRange
}

// RecurrencePattern holds the fields of the pattern elements; which apply
// depends on Kind.
type RecurrencePattern struct {
	Kind PatternKind
	// Interval: Daily, Weekly and the monthly patterns (1..999).
	Interval int
	// DaysOfWeek: Weekly, one or more of Sunday..Saturday; relative
	// patterns, exactly one of Sunday..Saturday, Day, Weekday, WeekendDay.
	DaysOfWeek []string
	// FirstDayOfWeek: Weekly, optional (default Sunday).
	FirstDayOfWeek string
	// DayOfMonth: absolute patterns (1..31; past a month's end means its
	// last day).
	DayOfMonth int
	// DayOfWeekIndex: relative patterns, First..Fourth or Last.
	DayOfWeekIndex string
	// Month: yearly patterns.
	Month time.Month
}

// RecurrenceRange is the range; StartDate (a date) is required, EndDate
// for EndDate ranges (inclusive), Count for Numbered ones.
type RecurrenceRange struct {
	Kind      RangeKind
	StartDate time.Time
	EndDate   time.Time
	Count     int
}

var weekdayNames = map[string]time.Weekday{"Sunday": time.Sunday, "Monday": time.Monday, "Tuesday": time.Tuesday,
	"Wednesday": time.Wednesday, "Thursday": time.Thursday, "Friday": time.Friday, "Saturday": time.Saturday}

var weekIndexes = map[string]int{"First": 1, "Second": 2, "Third": 3, "Fourth": 4, "Last": -1}

func (r *Recurrence) validate(start time.Time) error {
	p := &r.Pattern
	bad := func(f string, a ...any) error { return errf(ErrCalendarInvalidRecurrence, f, a...) }
	switch p.Kind {
	case Daily, Weekly, AbsoluteMonthly, RelativeMonthly:
		if p.Interval < 1 || p.Interval > 999 {
			return bad("Interval %d is outside 1..999", p.Interval)
		}
	case AbsoluteYearly, RelativeYearly:
		if p.Month < time.January || p.Month > time.December {
			return bad("Month %d is not a month", p.Month)
		}
		p.Interval = 1
	default:
		return bad("no recurrence pattern")
	}
	switch p.Kind {
	case Weekly:
		if len(p.DaysOfWeek) == 0 {
			return bad("WeeklyRecurrence needs DaysOfWeek")
		}
		for _, d := range p.DaysOfWeek {
			if _, ok := weekdayNames[d]; !ok {
				return bad("DaysOfWeek %q is not a day of the week", d)
			}
		}
		if _, ok := weekdayNames[p.FirstDayOfWeek]; p.FirstDayOfWeek != "" && !ok {
			return bad("FirstDayOfWeek %q is not a day of the week", p.FirstDayOfWeek)
		}
	case RelativeMonthly, RelativeYearly:
		if len(p.DaysOfWeek) != 1 {
			return bad("a relative pattern takes one DaysOfWeek value")
		}
		d := p.DaysOfWeek[0]
		if _, ok := weekdayNames[d]; !ok && d != "Day" && d != "Weekday" && d != "WeekendDay" {
			return bad("DaysOfWeek %q", d)
		}
		if _, ok := weekIndexes[p.DayOfWeekIndex]; !ok {
			return bad("DayOfWeekIndex %q (First, Second, Third, Fourth, Last)", p.DayOfWeekIndex)
		}
	case AbsoluteMonthly, AbsoluteYearly:
		if p.DayOfMonth < 1 || p.DayOfMonth > 31 {
			return bad("DayOfMonth %d is outside 1..31", p.DayOfMonth)
		}
	}
	g := &r.Range
	if g.StartDate.IsZero() {
		g.StartDate = start
	}
	loc := start.Location()
	sd := g.StartDate.In(loc)
	g.StartDate = time.Date(sd.Year(), sd.Month(), sd.Day(), 0, 0, 0, 0, loc)
	switch g.Kind {
	case NoEnd:
	case EndDate:
		ed := g.EndDate.In(loc)
		g.EndDate = time.Date(ed.Year(), ed.Month(), ed.Day(), 0, 0, 0, 0, loc)
		if g.EndDate.Before(g.StartDate) {
			return bad("EndDate is before StartDate")
		}
	case Numbered:
		if g.Count < 1 {
			return bad("NumberOfOccurrences %d must be at least 1", g.Count)
		}
	default:
		return bad("no recurrence range")
	}
	if len(r.starts(start, g.StartDate, farFuture, 1)) == 0 {
		return errf(ErrRecurrenceHasNoOccurrence, "the recurrence has no occurrence in its range")
	}
	return nil
}

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// maxSteps bounds pattern iteration (about 2,700 years of days).
const maxSteps = 1_000_000

// nthDay finds the n-th (1..4, -1 last) day of month matching kind.
func nthDay(y int, mo time.Month, kind string, n int, loc *time.Location) (int, bool) {
	match := func(d time.Weekday) bool {
		switch kind {
		case "Day":
			return true
		case "Weekday":
			return d != time.Saturday && d != time.Sunday
		case "WeekendDay":
			return d == time.Saturday || d == time.Sunday
		}
		return d == weekdayNames[kind]
	}
	days := daysIn(y, mo)
	var hits []int
	for d := 1; d <= days; d++ {
		if match(time.Date(y, mo, d, 0, 0, 0, 0, loc).Weekday()) {
			hits = append(hits, d)
		}
	}
	if n == -1 {
		return hits[len(hits)-1], true
	}
	if n <= len(hits) {
		return hits[n-1], true
	}
	return 0, false
}

func daysIn(y int, mo time.Month) int {
	return time.Date(y, mo+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// starts returns the occurrence starts of the series, in order, up to
// before (exclusive) and at most limit (0: no limit). Numbered ranges
// count from the first occurrence; the seriesStart is the master's Start
// (its clock time and zone are every occurrence's).
func (r *Recurrence) starts(seriesStart, from, before time.Time, limit int) []time.Time {
	loc := seriesStart.Location()
	h, mi, s := seriesStart.Clock()
	at := func(y int, mo time.Month, d int) time.Time {
		return time.Date(y, mo, d, h, mi, s, seriesStart.Nanosecond(), loc)
	}
	p, g := &r.Pattern, &r.Range
	rs := g.StartDate
	var out []time.Time
	count := 0
	// emit reports false to stop.
	emit := func(t time.Time) bool {
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		if day.Before(rs) {
			return true
		}
		if g.Kind == EndDate && day.After(g.EndDate) {
			return false
		}
		if g.Kind == Numbered && count >= g.Count {
			return false
		}
		if !t.Before(before) {
			return false
		}
		count++
		if !t.Before(from) {
			out = append(out, t)
		}
		return limit == 0 || len(out) < limit
	}
	y, mo, d := rs.Date()
	switch p.Kind {
	case Daily:
		for i := 0; i < maxSteps; i++ {
			if !emit(at(y, mo, d+i*p.Interval)) {
				break
			}
		}
	case Weekly:
		fdw := weekdayNames[p.FirstDayOfWeek] // "" is Sunday
		off := (int(rs.Weekday()) - int(fdw) + 7) % 7
		weekStart := rs.AddDate(0, 0, -off)
		var days []int
		for _, n := range p.DaysOfWeek {
			days = append(days, (int(weekdayNames[n])-int(fdw)+7)%7)
		}
		sort.Ints(days)
	weeks:
		for w := 0; w < maxSteps/7; w++ {
			ws := weekStart.AddDate(0, 0, 7*w*p.Interval)
			for _, dd := range days {
				t := ws.AddDate(0, 0, dd)
				if !emit(at(t.Year(), t.Month(), t.Day())) {
					break weeks
				}
			}
		}
	case AbsoluteMonthly, RelativeMonthly, AbsoluteYearly, RelativeYearly:
		step := p.Interval
		month := mo
		if p.Kind == AbsoluteYearly || p.Kind == RelativeYearly {
			step, month = 12, p.Month
			if month < mo {
				y++
			}
		}
		for i := 0; i < maxSteps/30; i++ {
			first := time.Date(y, month+time.Month(i*step), 1, 0, 0, 0, 0, loc)
			fy, fm := first.Year(), first.Month()
			var day int
			if p.Kind == AbsoluteMonthly || p.Kind == AbsoluteYearly {
				day = min(p.DayOfMonth, daysIn(fy, fm))
			} else {
				var ok bool
				if day, ok = nthDay(fy, fm, p.DaysOfWeek[0], weekIndexes[p.DayOfWeekIndex], loc); !ok {
					continue
				}
			}
			if !emit(at(fy, fm, day)) {
				break
			}
		}
	}
	return out
}

// Occurrence is one entry of a calendar view: a single item, or an
// occurrence or exception of a recurring series.
type Occurrence struct {
	// ID is the item's id for singles, an occurrence id for instances
	// of a series.
	ID string
	// Type is Single, Occurrence or Exception (CalendarItemType).
	Type          string
	Index         int       // 1-based instance index; 0 for singles
	OriginalStart time.Time // instances: the start the pattern gives
	Start, End    time.Time
	Item          Item // the master (or single) with Start/End of this entry
}

// maxCalendarViewRange is CalendarView's documented limit.
const maxCalendarViewYears = 2

// CalendarView expands the items of a calendar folder that overlap
// [start, end) into singles, occurrences and exceptions, sorted by start.
// Items that end before start or start at or after end are excluded. max
// (MaxEntriesReturned) caps the result, more then says whether entries
// were left out (IncludesLastItemInRange false); max <= 0 means no cap.
// A folder that is not a calendar fails with
// [ErrCalendarFolderInvalidForVew], a range longer than two years with
// [ErrCalendarViewRangeTooBig].
func (m *Mailbox) CalendarView(folderRef string, start, end time.Time, max int) (out []Occurrence, more bool, err error) {
	if end.Before(start) {
		return nil, false, errf(ErrInvalidRequest, "CalendarView EndDate is before StartDate")
	}
	if end.After(start.AddDate(maxCalendarViewYears, 0, 0)) {
		return nil, false, errf(ErrCalendarViewRangeTooBig, "CalendarView spans more than %d years", maxCalendarViewYears)
	}
	m.rlock()
	defer m.mu.RUnlock()
	f, err := m.folderLocked(folderRef)
	if err != nil {
		return nil, false, err
	}
	if f.kind != CalendarFolder {
		return nil, false, errf(ErrCalendarFolderInvalidForVew, "folder %q is a %s", f.name, f.kind)
	}
	for _, it := range sortedItems(f) {
		c := it.data.Calendar
		if c == nil {
			continue
		}
		if c.Recurrence == nil {
			if !c.End.Before(start) && c.Start.Before(end) {
				snap := m.snapshot(it)
				out = append(out, Occurrence{ID: snap.ID, Type: "Single", Start: c.Start, End: c.End, Item: snap})
			}
			continue
		}
		out = append(out, m.expandLocked(it, start, end)...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	if max > 0 && len(out) > max {
		return out[:max], true, nil
	}
	return out, false, nil
}

// expandLocked lists the instances of a recurring master that overlap
// [from, before).
func (m *Mailbox) expandLocked(it *item, from, before time.Time) []Occurrence {
	c := it.data.Calendar
	dur := c.End.Sub(c.Start)
	// An instance starting before from can still overlap it.
	all := c.Recurrence.starts(c.Start, time.Time{}, before, 0)
	var out []Occurrence
	var snap *Item
	for i, os := range all {
		idx := i + 1
		st, en, typ := os, os.Add(dur), "Occurrence"
		subject, location := "", ""
		deleted := false
		for _, d := range c.DeletedOccurrences {
			deleted = deleted || d.Equal(os)
		}
		if deleted {
			continue
		}
		for _, x := range c.ModifiedOccurrences {
			if x.OriginalStart.Equal(os) {
				st, en, typ, subject, location = x.Start, x.End, "Exception", x.Subject, x.Location
			}
		}
		if en.Before(from) || !st.Before(before) {
			continue
		}
		if snap == nil {
			s := m.snapshot(it)
			snap = &s
		}
		inst := cloneItem(*snap)
		inst.Calendar.Start, inst.Calendar.End = st, en
		if subject != "" {
			inst.Subject = subject
		}
		if location != "" {
			inst.Calendar.Location = location
		}
		out = append(out, Occurrence{
			ID:   EncodeID(IDInfo{Kind: KindOccurrenceID, Mailbox: m.idx, Num: it.num, Sub: uint32(idx)}),
			Type: typ, Index: idx, OriginalStart: os, Start: st, End: en, Item: inst,
		})
	}
	return out
}

// GetOccurrence returns one instance of a recurring series by the id
// CalendarView gave it (an OccurrenceItemId). An index past the series'
// end or a deleted occurrence is [ErrItemNotFound].
func (m *Mailbox) GetOccurrence(id string) (Occurrence, error) {
	info, err := m.decode(id, KindOccurrenceID)
	if err != nil {
		return Occurrence{}, err
	}
	m.rlock()
	defer m.mu.RUnlock()
	it := m.items[info.Num]
	if it == nil || it.data.Calendar == nil || it.data.Calendar.Recurrence == nil || info.Sub == 0 {
		return Occurrence{}, errf(ErrItemNotFound, "occurrence %q", short(id))
	}
	c := it.data.Calendar
	starts := c.Recurrence.starts(c.Start, time.Time{}, farFuture, int(info.Sub))
	if len(starts) < int(info.Sub) {
		return Occurrence{}, errf(ErrItemNotFound, "the series has no occurrence %d", info.Sub)
	}
	os := starts[info.Sub-1]
	for _, o := range m.expandLocked(it, os.Add(-c.End.Sub(c.Start)-time.Second), os.Add(time.Second)) {
		if o.Index == int(info.Sub) {
			return o, nil
		}
	}
	// an exception may have moved it anywhere
	for _, x := range c.ModifiedOccurrences {
		if x.OriginalStart.Equal(os) {
			for _, o := range m.expandLocked(it, x.Start.Add(-time.Second), x.End.Add(time.Second)) {
				if o.Index == int(info.Sub) {
					return o, nil
				}
			}
		}
	}
	return Occurrence{}, errf(ErrItemNotFound, "occurrence %d of the series was deleted", info.Sub)
}
