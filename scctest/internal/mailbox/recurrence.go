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

// Interval limits of the patterns (MS-OXOCAL's RecurrencePattern Period:
// 1..999 days, 1..99 weeks or months; exchangelib enforces the same).
const (
	maxDailyInterval  = 999
	maxPeriodInterval = 99
)

// maxRecurrenceEnd is the last date a recurrence may end on
// (ErrorRecurrenceEndDateTooBig: "after September 1, 4500").
var maxRecurrenceEnd = time.Date(4500, 9, 1, 0, 0, 0, 0, time.UTC)

// dateOf is the calendar date of t as written (its own year, month and
// day, whatever its location) at midnight in loc: recurrence StartDate and
// EndDate are xs:date values, not instants.
func dateOf(t time.Time, loc *time.Location) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// validate checks the recurrence as Exchange does and normalises it: the
// range dates become midnights in the zone of the series' start (start),
// a zero StartDate is start's date, yearly patterns get Interval 1 and a
// weekly pattern's duplicate days are dropped.
func (r *Recurrence) validate(start time.Time) error {
	p := &r.Pattern
	bad := func(f string, a ...any) error { return errf(ErrCalendarInvalidRecurrence, f, a...) }
	outOfRange := func(f string, a ...any) error { return errf(ErrCalendarOutOfRange, f, a...) }
	switch p.Kind {
	case Daily:
		if p.Interval < 1 || p.Interval > maxDailyInterval {
			return outOfRange("DailyRecurrence Interval %d is outside 1..%d", p.Interval, maxDailyInterval)
		}
	case Weekly, AbsoluteMonthly, RelativeMonthly:
		if p.Interval < 1 || p.Interval > maxPeriodInterval {
			return outOfRange("Interval %d is outside 1..%d", p.Interval, maxPeriodInterval)
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
		var days []string
		for _, d := range p.DaysOfWeek {
			if d == "Day" || d == "Weekday" || d == "WeekendDay" {
				return errf(ErrCalendarInvalidDayForWeekly, "DaysOfWeek %q in a WeeklyRecurrence", d)
			}
			if _, ok := weekdayNames[d]; !ok {
				return bad("DaysOfWeek %q is not a day of the week", d)
			}
			if !oneOf(d, days) {
				days = append(days, d)
			}
		}
		p.DaysOfWeek = days
		if _, ok := weekdayNames[p.FirstDayOfWeek]; p.FirstDayOfWeek != "" && !ok {
			return errf(ErrCalendarInvalidDayForWeekly, "FirstDayOfWeek %q is not a day of the week", p.FirstDayOfWeek)
		}
	case RelativeMonthly, RelativeYearly:
		if len(p.DaysOfWeek) != 1 {
			// What Exchange answered for several days (exchangelib
			// issue 637); none is a schema violation.
			return errf(ErrCalendarInvalidPropValue, "a relative pattern takes one DaysOfWeek value, not %d", len(p.DaysOfWeek))
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
			return outOfRange("DayOfMonth %d is outside 1..31", p.DayOfMonth)
		}
	}
	g := &r.Range
	loc := start.Location()
	if g.StartDate.IsZero() {
		g.StartDate = start
	}
	g.StartDate = dateOf(g.StartDate, loc)
	if g.StartDate.Year() < 1 || g.StartDate.After(maxRecurrenceEnd) {
		return outOfRange("StartDate %s is outside 0001-01-01..4500-09-01", g.StartDate.Format(time.DateOnly))
	}
	switch g.Kind {
	case NoEnd:
		g.EndDate, g.Count = time.Time{}, 0
	case EndDate:
		g.EndDate, g.Count = dateOf(g.EndDate, loc), 0
		if g.EndDate.Before(g.StartDate) {
			return bad("EndDate is before StartDate")
		}
		if dateOf(g.EndDate, time.UTC).After(maxRecurrenceEnd) {
			return errf(ErrRecurrenceEndDateTooBig, "EndDate %s", g.EndDate.Format(time.DateOnly))
		}
	case Numbered:
		g.EndDate = time.Time{}
		if g.Count < 1 {
			return outOfRange("NumberOfOccurrences %d must be at least 1", g.Count)
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
func nthDay(y int, mo time.Month, kind string, n int) (int, bool) {
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
	first := time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC).Weekday()
	found, last := 0, 0
	for d := 1; d <= days; d++ {
		if match((first + time.Weekday(d-1)) % 7) {
			found++
			last = d
			if found == n {
				return d, true
			}
		}
	}
	return last, n == -1 && last > 0
}

func daysIn(y int, mo time.Month) int {
	return time.Date(y, mo+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// periods describes the pattern as a sequence of periods (a day, a week,
// a month or a year), each holding the same number of pattern days
// (perPeriod) except the first, whose days before the range's start do
// not count.
type periods struct {
	r         *Recurrence
	loc       *time.Location
	rs        time.Time // the range's first date
	weekStart time.Time // Weekly: the first day of rs's week
	weekDays  []int     // Weekly: day offsets in the week, sorted
	firstY    int       // monthly and yearly: the year and month of period 0
	firstM    time.Month
	months    int // monthly and yearly: months per period
	perPeriod int
	limit     int // how many periods iteration may visit
}

func (r *Recurrence) periods(loc *time.Location) periods {
	p := &r.Pattern
	ps := periods{r: r, loc: loc, rs: dateOf(r.Range.StartDate, loc), perPeriod: 1}
	y, mo, _ := ps.rs.Date()
	switch p.Kind {
	case Daily:
		ps.limit = maxSteps
	case Weekly:
		fdw := weekdayNames[p.FirstDayOfWeek] // "" is Sunday
		off := (int(ps.rs.Weekday()) - int(fdw) + 7) % 7
		ps.weekStart = ps.rs.AddDate(0, 0, -off)
		for _, n := range p.DaysOfWeek {
			ps.weekDays = append(ps.weekDays, (int(weekdayNames[n])-int(fdw)+7)%7)
		}
		sort.Ints(ps.weekDays)
		ps.perPeriod, ps.limit = len(ps.weekDays), maxSteps/7
	case AbsoluteMonthly, RelativeMonthly:
		ps.firstY, ps.firstM, ps.months, ps.limit = y, mo, p.Interval, maxSteps/30
	case AbsoluteYearly, RelativeYearly:
		ps.firstY, ps.firstM, ps.months, ps.limit = y, p.Month, 12, maxSteps/30
		if p.Month < mo {
			ps.firstY++
		}
	}
	return ps
}

// days returns the pattern dates (midnights) of period k, in order.
func (ps *periods) days(k int) []time.Time {
	p := &ps.r.Pattern
	switch p.Kind {
	case Daily:
		return []time.Time{ps.rs.AddDate(0, 0, k*p.Interval)}
	case Weekly:
		ws := ps.weekStart.AddDate(0, 0, 7*k*p.Interval)
		out := make([]time.Time, len(ps.weekDays))
		for i, dd := range ps.weekDays {
			out[i] = ws.AddDate(0, 0, dd)
		}
		return out
	}
	first := time.Date(ps.firstY, ps.firstM+time.Month(k*ps.months), 1, 0, 0, 0, 0, ps.loc)
	fy, fm := first.Year(), first.Month()
	day := min(p.DayOfMonth, daysIn(fy, fm))
	if p.Kind == RelativeMonthly || p.Kind == RelativeYearly {
		day, _ = nthDay(fy, fm, p.DaysOfWeek[0], weekIndexes[p.DayOfWeekIndex])
	}
	return []time.Time{time.Date(fy, fm, day, 0, 0, 0, 0, ps.loc)}
}

// near is a period at or before the one holding date t (0 when t is
// before the series).
func (ps *periods) near(t time.Time) int {
	if t.IsZero() || !t.After(ps.rs) {
		return 0
	}
	p := &ps.r.Pattern
	days := int(dateOf(t.In(ps.loc), time.UTC).Sub(dateOf(ps.rs, time.UTC)).Hours() / 24)
	var k int
	switch p.Kind {
	case Daily:
		k = days / p.Interval
	case Weekly:
		k = (days + 7) / (7 * p.Interval)
	default:
		// At least 28 days a month.
		k = days / 31 / ps.months
	}
	return max(0, k-1)
}

// each calls fn with the 1-based index and start of every occurrence of
// the series the pattern and range give, in order, until fn returns false.
// seriesStart is the master's Start: its clock time and zone are every
// occurrence's. from is a hint: occurrences starting before from's date
// may be skipped (the indexes stay those of the whole series).
func (r *Recurrence) each(seriesStart, from time.Time, fn func(idx int, start time.Time) bool) {
	loc := seriesStart.Location()
	h, mi, s := seriesStart.Clock()
	ns := seriesStart.Nanosecond()
	g := &r.Range
	ps := r.periods(loc)
	if ps.perPeriod == 0 {
		return
	}
	count0 := 0
	for _, day := range ps.days(0) {
		if !day.Before(ps.rs) {
			count0++
		}
	}
	k0 := ps.near(from)
	idx := 0
	if k0 > 0 {
		idx = count0 + (k0-1)*ps.perPeriod
	}
	end := dateOf(g.EndDate, loc)
	for k := k0; k < k0+ps.limit; k++ {
		for _, day := range ps.days(k) {
			if day.Before(ps.rs) {
				continue
			}
			if g.Kind == EndDate && day.After(end) {
				return
			}
			idx++
			if g.Kind == Numbered && idx > g.Count {
				return
			}
			if day.Year() > farFuture.Year() {
				return
			}
			if !fn(idx, time.Date(day.Year(), day.Month(), day.Day(), h, mi, s, ns, loc)) {
				return
			}
		}
	}
}

// starts returns the occurrence starts of the series in [from, before),
// in order, at most limit of them (0: no limit).
func (r *Recurrence) starts(seriesStart, from, before time.Time, limit int) []time.Time {
	var out []time.Time
	r.each(seriesStart, from, func(_ int, t time.Time) bool {
		if !t.Before(before) {
			return false
		}
		if !t.Before(from) {
			out = append(out, t)
		}
		return limit == 0 || len(out) < limit
	})
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
// [from, before): the pattern's occurrences that start in the window or
// last into it, and the exceptions that were moved into it.
func (m *Mailbox) expandLocked(it *item, from, before time.Time) []Occurrence {
	c := it.data.Calendar
	dur := c.End.Sub(c.Start)
	var out []Occurrence
	var snap *Item
	add := func(idx int, os time.Time) {
		st, en, typ := os, os.Add(dur), "Occurrence"
		var exc *OccurrenceException
		for _, d := range c.DeletedOccurrences {
			if d.Equal(os) {
				return
			}
		}
		for _, x := range c.ModifiedOccurrences {
			if x.OriginalStart.Equal(os) {
				st, en, typ, exc = x.Start, x.End, "Exception", &x
			}
		}
		if en.Before(from) || !st.Before(before) {
			return
		}
		for _, o := range out {
			if o.Index == idx {
				return
			}
		}
		if snap == nil {
			s := m.snapshot(it)
			snap = &s
		}
		inst := cloneItem(*snap)
		inst.Calendar.Start, inst.Calendar.End = st, en
		if exc != nil {
			// The exception's properties, with the master's identity
			// and series.
			d := m.exceptionItem(it, *snap, *exc)
			d.ID, d.ChangeKey, d.ParentFolderID, d.Size = inst.ID, inst.ChangeKey, inst.ParentFolderID, inst.Size
			d.HasAttachments, d.Attachments, d.Created, d.Modified = inst.HasAttachments, inst.Attachments, inst.Created, inst.Modified
			d.Calendar.Recurrence, d.Calendar.DeletedOccurrences, d.Calendar.ModifiedOccurrences = inst.Calendar.Recurrence, inst.Calendar.DeletedOccurrences, inst.Calendar.ModifiedOccurrences
			inst = d
		}
		out = append(out, Occurrence{
			ID:   occurrenceID(m.idx, it.num, idx),
			Type: typ, Index: idx, OriginalStart: os, Start: st, End: en, Item: inst,
		})
	}
	// An instance starting before from can still overlap it.
	c.Recurrence.each(c.Start, from.Add(-dur).AddDate(0, 0, -1), func(idx int, os time.Time) bool {
		if !os.Before(before) {
			return false
		}
		if !os.Add(dur).Before(from) {
			add(idx, os)
		}
		return true
	})
	// Exceptions moved into the window from elsewhere.
	for _, x := range c.ModifiedOccurrences {
		if x.End.Before(from) || !x.Start.Before(before) {
			continue
		}
		if idx := c.Recurrence.indexOf(c.Start, x.OriginalStart); idx > 0 {
			add(idx, x.OriginalStart)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

func occurrenceID(mbox uint32, num uint64, idx int) string {
	return EncodeID(IDInfo{Kind: KindOccurrenceID, Mailbox: mbox, Num: num, Sub: uint32(idx)})
}

// indexOf is the 1-based index of the occurrence the pattern starts at
// os, 0 when none does.
func (r *Recurrence) indexOf(seriesStart, os time.Time) int {
	found := 0
	r.each(seriesStart, os, func(idx int, t time.Time) bool {
		if t.Equal(os) {
			found = idx
		}
		return t.Before(os)
	})
	return found
}

// nth is the original start of occurrence idx (1-based) of the series.
func (r *Recurrence) nth(seriesStart time.Time, idx int) (time.Time, bool) {
	var at time.Time
	r.each(seriesStart, time.Time{}, func(i int, t time.Time) bool {
		if i == idx {
			at = t
		}
		return i < idx
	})
	return at, !at.IsZero()
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
	if it == nil || it.data.Calendar == nil || it.data.Calendar.Recurrence == nil || info.Sub == 0 || info.Sub > maxSteps {
		return Occurrence{}, errf(ErrItemNotFound, "occurrence %q", short(id))
	}
	c := it.data.Calendar
	os, ok := c.Recurrence.nth(c.Start, int(info.Sub))
	if !ok {
		return Occurrence{}, errf(ErrItemNotFound, "the series has no occurrence %d", info.Sub)
	}
	from, before := os, os.Add(time.Second)
	for _, x := range c.ModifiedOccurrences {
		if x.OriginalStart.Equal(os) {
			// an exception may have moved it anywhere
			from, before = x.Start, x.Start.Add(time.Second)
		}
	}
	for _, o := range m.expandLocked(it, from, before) {
		if o.Index == int(info.Sub) {
			return o, nil
		}
	}
	return Occurrence{}, errf(ErrItemNotFound, "occurrence %d of the series was deleted", info.Sub)
}

// SeriesInfo is what a recurring master reports about its instances
// (t:FirstOccurrence, t:LastOccurrence, t:ModifiedOccurrences,
// t:DeletedOccurrences). Its occurrences carry ID, Index, Type, Start, End
// and OriginalStart, not Item.
type SeriesInfo struct {
	// First is the first instance that is not deleted; Last the last one
	// of a series that ends (nil for NoEnd ranges).
	First, Last *Occurrence
	// Modified are the exceptions, by original start.
	Modified []Occurrence
	// Deleted are the original starts of deleted occurrences.
	Deleted []time.Time
}

// Series computes the [SeriesInfo] of a recurring master as GetItem
// returned it; ok is false for an item that is not one.
func Series(it Item) (info SeriesInfo, ok bool) {
	c := it.Calendar
	if c == nil || c.Recurrence == nil {
		return SeriesInfo{}, false
	}
	id, err := DecodeID(it.ID)
	if err != nil || id.Kind != KindItemID {
		return SeriesInfo{}, false
	}
	dur := c.End.Sub(c.Start)
	deleted := func(os time.Time) bool {
		for _, d := range c.DeletedOccurrences {
			if d.Equal(os) {
				return true
			}
		}
		return false
	}
	inst := func(idx int, os time.Time) *Occurrence {
		o := &Occurrence{ID: occurrenceID(id.Mailbox, id.Num, idx), Type: "Occurrence", Index: idx, OriginalStart: os, Start: os, End: os.Add(dur)}
		for _, x := range c.ModifiedOccurrences {
			if x.OriginalStart.Equal(os) {
				o.Type, o.Start, o.End = "Exception", x.Start, x.End
			}
		}
		return o
	}
	r := c.Recurrence
	r.each(c.Start, time.Time{}, func(idx int, os time.Time) bool {
		if deleted(os) {
			return true
		}
		info.First = inst(idx, os)
		return false
	})
	if r.Range.Kind != NoEnd {
		r.each(c.Start, time.Time{}, func(idx int, os time.Time) bool {
			if !deleted(os) {
				info.Last = inst(idx, os)
			}
			return true
		})
	}
	for _, x := range c.ModifiedOccurrences {
		if idx := r.indexOf(c.Start, x.OriginalStart); idx > 0 && !deleted(x.OriginalStart) {
			info.Modified = append(info.Modified, *inst(idx, x.OriginalStart))
		}
	}
	sort.Slice(info.Modified, func(i, j int) bool { return info.Modified[i].Index < info.Modified[j].Index })
	info.Deleted = append([]time.Time(nil), c.DeletedOccurrences...)
	sort.Slice(info.Deleted, func(i, j int) bool { return info.Deleted[i].Before(info.Deleted[j]) })
	return info, true
}
