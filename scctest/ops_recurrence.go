package scctest

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// Calendar recurrence on the wire: t:Recurrence (RecurrenceType) of a
// CalendarItem read into the model's [mbx.Recurrence] and written back in
// schema order, and the occurrence lists a recurring master reports
// (t:FirstOccurrence, t:LastOccurrence, t:ModifiedOccurrences,
// t:DeletedOccurrences). What the schema refuses is an ErrorSchemaValidation
// fault here; what Exchange refuses for its meaning (intervals, days, no
// occurrence) is the model's error. A task's t:Recurrence (TaskRecurrenceType,
// which adds the Regeneration patterns) is kept verbatim, not parsed.

// faultError carries a schema fault out of an item property's set.
type faultError struct{ f *soapFault }

func (e *faultError) Error() string { return e.f.message }

// recurrencePatterns are the pattern elements of RecurrenceType, each with
// its children in schema order.
var recurrencePatterns = []struct {
	name string
	kind mbx.PatternKind
	seq  []string
}{
	{"RelativeYearlyRecurrence", mbx.RelativeYearly, []string{"DaysOfWeek", "DayOfWeekIndex", "Month"}},
	{"AbsoluteYearlyRecurrence", mbx.AbsoluteYearly, []string{"DayOfMonth", "Month"}},
	{"RelativeMonthlyRecurrence", mbx.RelativeMonthly, []string{"Interval", "DaysOfWeek", "DayOfWeekIndex"}},
	{"AbsoluteMonthlyRecurrence", mbx.AbsoluteMonthly, []string{"Interval", "DayOfMonth"}},
	{"WeeklyRecurrence", mbx.Weekly, []string{"Interval", "DaysOfWeek", "FirstDayOfWeek"}},
	{"DailyRecurrence", mbx.Daily, []string{"Interval"}},
}

// recurrenceRanges are the range elements, children in schema order.
var recurrenceRanges = []struct {
	name string
	kind mbx.RangeKind
	seq  []string
}{
	{"NoEndRecurrence", mbx.NoEnd, []string{"StartDate"}},
	{"EndDateRecurrence", mbx.EndDate, []string{"StartDate", "EndDate"}},
	{"NumberedRecurrence", mbx.Numbered, []string{"StartDate", "NumberOfOccurrences"}},
}

var (
	dayOfWeekEnum  = strings.Fields("Sunday Monday Tuesday Wednesday Thursday Friday Saturday Day Weekday WeekendDay")
	dayIndexEnum   = strings.Fields("First Second Third Fourth Last")
	monthNamesEnum = strings.Fields("January February March April May June July August September October November December")
	xsDate         = regexp.MustCompile(`^(\d{4})-(\d\d)-(\d\d)(Z|[+-]\d\d:\d\d)?$`)
)

// optionalRecurrenceChild: FirstDayOfWeek is the only optional child.
func optionalRecurrenceChild(name string) bool { return name == "FirstDayOfWeek" }

// parseRecurrence reads t:Recurrence of a calendar item.
func parseRecurrence(n *node) (*mbx.Recurrence, error) {
	fail := func(f *soapFault) (*mbx.Recurrence, error) { return nil, &faultError{f} }
	var names []string
	for _, p := range recurrencePatterns {
		names = append(names, p.name)
	}
	var rangeNames []string
	for _, g := range recurrenceRanges {
		rangeNames = append(rangeNames, g.name)
	}
	if len(n.kids) == 0 {
		return fail(incomplete(n, names))
	}
	r := &mbx.Recurrence{}
	pn := n.kids[0]
	pi := -1
	for i, p := range recurrencePatterns {
		if pn.is(nsTypes, p.name) {
			pi = i
		}
	}
	if pi < 0 {
		return fail(elemFault(pn, invalidChild(n, pn, names)))
	}
	r.Pattern.Kind = recurrencePatterns[pi].kind
	vals, f := sequence(pn, recurrencePatterns[pi].seq)
	if f != nil {
		return fail(f)
	}
	for name, v := range vals {
		var f *soapFault
		switch name {
		case "Interval":
			r.Pattern.Interval, f = xsInt(v)
		case "DayOfMonth":
			r.Pattern.DayOfMonth, f = xsInt(v)
		case "DaysOfWeek":
			// DayOfWeekType in the relative patterns, a list of them
			// (DaysOfWeekType) in WeeklyRecurrence; the model refuses
			// several days in a relative pattern as Exchange does.
			dt := "t:DayOfWeekType"
			if r.Pattern.Kind == mbx.Weekly {
				dt = "t:DaysOfWeekType"
			}
			r.Pattern.DaysOfWeek = nil
			for _, d := range strings.Fields(v.text) {
				if !slices.Contains(dayOfWeekEnum, d) {
					f = enumFault(v, dt)
					break
				}
				r.Pattern.DaysOfWeek = append(r.Pattern.DaysOfWeek, d)
			}
			if f == nil && r.Pattern.Kind != mbx.Weekly && len(r.Pattern.DaysOfWeek) == 0 {
				f = enumFault(v, dt)
			}
		case "FirstDayOfWeek":
			if r.Pattern.FirstDayOfWeek = v.trimmed(); !slices.Contains(dayOfWeekEnum, r.Pattern.FirstDayOfWeek) {
				f = enumFault(v, "t:DayOfWeekType")
			}
		case "DayOfWeekIndex":
			if r.Pattern.DayOfWeekIndex = v.trimmed(); !slices.Contains(dayIndexEnum, r.Pattern.DayOfWeekIndex) {
				f = enumFault(v, "t:DayOfWeekIndexType")
			}
		case "Month":
			m := v.trimmed()
			for i, name := range monthNamesEnum {
				if m == name {
					r.Pattern.Month = time.Month(i + 1)
				}
			}
			if r.Pattern.Month == 0 {
				f = enumFault(v, "t:MonthNamesType")
			}
		}
		if f != nil {
			return fail(f)
		}
	}
	if len(n.kids) < 2 {
		return fail(incomplete(n, rangeNames))
	}
	gn := n.kids[1]
	gi := -1
	for i, g := range recurrenceRanges {
		if gn.is(nsTypes, g.name) {
			gi = i
		}
	}
	if gi < 0 {
		return fail(elemFault(gn, invalidChild(n, gn, rangeNames)))
	}
	if len(n.kids) > 2 {
		return fail(elemFault(n.kids[2], invalidChild(n, n.kids[2], nil)))
	}
	r.Range.Kind = recurrenceRanges[gi].kind
	vals, f = sequence(gn, recurrenceRanges[gi].seq)
	if f != nil {
		return fail(f)
	}
	for name, v := range vals {
		var f *soapFault
		switch name {
		case "StartDate":
			r.Range.StartDate, f = xsDateValue(v)
		case "EndDate":
			r.Range.EndDate, f = xsDateValue(v)
		case "NumberOfOccurrences":
			r.Range.Count, f = xsInt(v)
		}
		if f != nil {
			return fail(f)
		}
	}
	return r, nil
}

// sequence checks that the children of n are the text-only elements seq in
// order (FirstDayOfWeek may be left out) and returns them by name.
func sequence(n *node, seq []string) (map[string]*node, *soapFault) {
	out := map[string]*node{}
	next := 0
	for _, k := range n.kids {
		i := -1
		if k.name.Space == nsTypes {
			for j := next; j < len(seq); j++ {
				if seq[j] == k.name.Local {
					i = j
					break
				}
				if !optionalRecurrenceChild(seq[j]) {
					break
				}
			}
		}
		if i < 0 {
			return nil, elemFault(k, invalidChild(n, k, expectedFrom(seq, next)))
		}
		if len(k.kids) > 0 {
			c := k.kids[0]
			return nil, elemFault(c, fmt.Sprintf("The element '%s' in namespace '%s' cannot contain child element '%s'%s because the parent element's content model is text only.",
				k.name.Local, k.name.Space, c.name.Local, inNamespace(c.name.Space)))
		}
		out[k.name.Local] = k
		next = i + 1
	}
	for j := next; j < len(seq); j++ {
		if !optionalRecurrenceChild(seq[j]) {
			return nil, incomplete(n, expectedFrom(seq, next))
		}
	}
	return out, nil
}

// expectedFrom lists the elements allowed at position next of seq: the
// next one and, past an optional one, the one after it.
func expectedFrom(seq []string, next int) []string {
	var out []string
	for j := next; j < len(seq); j++ {
		out = append(out, seq[j])
		if !optionalRecurrenceChild(seq[j]) {
			break
		}
	}
	return out
}

// incomplete is the fault for an element missing required children.
func incomplete(n *node, expected []string) *soapFault {
	return elemFault(n, fmt.Sprintf("The element '%s' in namespace '%s' has incomplete content. List of possible elements expected: '%s' in namespace '%s'.",
		n.name.Local, n.name.Space, strings.Join(expected, ", "), nsTypes))
}

func enumFault(n *node, dt string) *soapFault {
	v := strings.TrimSpace(n.text)
	return elemFault(n, fmt.Sprintf("The '%s:%s' element is invalid - The value '%s' is invalid according to its datatype '%s' - The Enumeration constraint failed.",
		n.name.Space, n.name.Local, clip(v, 200), qualified(dt)))
}

func xsInt(n *node) (int, *soapFault) {
	v := strings.TrimSpace(n.text)
	if reason := invalidValue("xs:int", v); reason != "" {
		return 0, elemFault(n, fmt.Sprintf("The '%s:%s' element is invalid - The value '%s' is invalid according to its datatype '%s' - %s",
			n.name.Space, n.name.Local, clip(v, 200), qualified("xs:int"), reason))
	}
	i, _ := strconv.ParseInt(strings.TrimPrefix(v, "+"), 10, 32)
	return int(i), nil
}

// xsDateValue reads an xs:date (a zone suffix is allowed and ignored: the
// date is a calendar date of the series' zone).
func xsDateValue(n *node) (time.Time, *soapFault) {
	v := strings.TrimSpace(n.text)
	m := xsDate.FindStringSubmatch(v)
	var t time.Time
	if m != nil {
		var err error
		t, err = time.Parse(time.DateOnly, m[1]+"-"+m[2]+"-"+m[3])
		if err != nil || t.Year() < 1 {
			m = nil
		}
	}
	if m == nil {
		return time.Time{}, elemFault(n, fmt.Sprintf("The '%s:%s' element is invalid - The value '%s' is invalid according to its datatype '%s' - The string '%s' is not a valid Date value.",
			n.name.Space, n.name.Local, clip(v, 200), qualified("xs:date"), clip(v, 200)))
	}
	return t, nil
}

// writeRecurrence writes the pattern and range of r into e (t:Recurrence)
// in schema order.
func writeRecurrence(e *elem, r *mbx.Recurrence) {
	p := r.Pattern
	for _, rp := range recurrencePatterns {
		if rp.kind != p.Kind {
			continue
		}
		pe := e.CreateElement("t:" + rp.name)
		for _, name := range rp.seq {
			switch name {
			case "Interval":
				pe.CreateElement("t:Interval").SetText(itoa(p.Interval))
			case "DayOfMonth":
				pe.CreateElement("t:DayOfMonth").SetText(itoa(p.DayOfMonth))
			case "DaysOfWeek":
				pe.CreateElement("t:DaysOfWeek").SetText(strings.Join(p.DaysOfWeek, " "))
			case "FirstDayOfWeek":
				if p.FirstDayOfWeek != "" {
					pe.CreateElement("t:FirstDayOfWeek").SetText(p.FirstDayOfWeek)
				}
			case "DayOfWeekIndex":
				pe.CreateElement("t:DayOfWeekIndex").SetText(p.DayOfWeekIndex)
			case "Month":
				pe.CreateElement("t:Month").SetText(p.Month.String())
			}
		}
	}
	g := r.Range
	for _, rg := range recurrenceRanges {
		if rg.kind != g.Kind {
			continue
		}
		ge := e.CreateElement("t:" + rg.name)
		ge.CreateElement("t:StartDate").SetText(g.StartDate.Format(time.DateOnly))
		switch g.Kind {
		case mbx.EndDate:
			ge.CreateElement("t:EndDate").SetText(g.EndDate.Format(time.DateOnly))
		case mbx.Numbered:
			ge.CreateElement("t:NumberOfOccurrences").SetText(itoa(g.Count))
		}
	}
}

// writeOccurrenceInfo writes an OccurrenceInfoType.
func writeOccurrenceInfo(e *elem, o mbx.Occurrence, changeKey string) {
	id := e.CreateElement("t:ItemId")
	id.CreateAttr("Id", o.ID)
	if changeKey != "" {
		id.CreateAttr("ChangeKey", changeKey)
	}
	e.CreateElement("t:Start").SetText(ewsTime(o.Start))
	e.CreateElement("t:End").SetText(ewsTime(o.End))
	e.CreateElement("t:OriginalStart").SetText(ewsTime(o.OriginalStart))
}

// seriesProp is one of the occurrence lists of a recurring master: left
// out of singles and of the occurrences and exceptions themselves.
func seriesProp(write func(e *elem, info mbx.SeriesInfo, changeKey string) bool) *itemProp {
	return &itemProp{put: func(c propCtx, e *elem, it *mbx.Item) {
		info, ok := mbx.Series(*it)
		if !ok || (c.calType != "" && c.calType != "RecurringMaster") || !write(e, info, it.ChangeKey) {
			e.tag = ""
		}
	}}
}

// recurrenceProp is t:Recurrence of a calendar item: set by clients,
// written for recurring masters only.
func recurrenceProp() *itemProp {
	return &itemProp{put: func(c propCtx, e *elem, it *mbx.Item) {
		r := cal(it).Recurrence
		if r == nil || (c.calType != "" && c.calType != "RecurringMaster") {
			e.tag = ""
			return
		}
		writeRecurrence(e, r)
	}, set: func(it *mbx.Item, n *node) error {
		r, err := parseRecurrence(n)
		if err != nil {
			return err
		}
		cal(it).Recurrence = r
		return nil
	}}
}

// The computed occurrence lists of a recurring master. Like Recurrence,
// FindItem cannot return them (the EWS Managed API gives none of them its
// CanFind flag), so their findOK is false.
var (
	firstOccurrenceProp = seriesProp(func(e *elem, info mbx.SeriesInfo, ck string) bool {
		if info.First != nil {
			writeOccurrenceInfo(e, *info.First, ck)
		}
		return info.First != nil
	})
	lastOccurrenceProp = seriesProp(func(e *elem, info mbx.SeriesInfo, ck string) bool {
		if info.Last != nil {
			writeOccurrenceInfo(e, *info.Last, ck)
		}
		return info.Last != nil
	})
	modifiedOccurrencesProp = seriesProp(func(e *elem, info mbx.SeriesInfo, ck string) bool {
		for _, o := range info.Modified {
			writeOccurrenceInfo(e.CreateElement("t:Occurrence"), o, ck)
		}
		return len(info.Modified) > 0
	})
	deletedOccurrencesProp = seriesProp(func(e *elem, info mbx.SeriesInfo, _ string) bool {
		for _, d := range info.Deleted {
			e.CreateElement("t:DeletedOccurrence").CreateElement("t:Start").SetText(ewsTime(d))
		}
		return len(info.Deleted) > 0
	})
)
