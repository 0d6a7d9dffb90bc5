package ews

import (
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// CalendarItem holds the fields of an appointment or meeting
// (t:CalendarItem) beyond those of every item. An item with attendees is a
// meeting; CreateItem saves it without invitations unless
// CreateItemRequest.SendMeetingInvitations says otherwise.
type CalendarItem struct {
	UID string
	// RecurrenceID and OriginalStart are read-only: the original start of
	// an occurrence or exception.
	RecurrenceID  time.Time
	Start         time.Time
	End           time.Time
	OriginalStart time.Time
	// IsAllDayEvent: Start and End should be midnights.
	IsAllDayEvent bool
	// LegacyFreeBusyStatus is Free, Tentative, Busy, OOF,
	// WorkingElsewhere or NoData.
	LegacyFreeBusyStatus string
	Location             string
	// IsMeeting, IsCancelled, IsRecurring, CalendarItemType (Single,
	// Occurrence, Exception, RecurringMaster), MyResponseType and Organizer
	// are read-only.
	IsMeeting         bool
	IsCancelled       bool
	IsRecurring       bool
	CalendarItemType  string
	MyResponseType    string
	Organizer         Mailbox
	RequiredAttendees []Attendee
	OptionalAttendees []Attendee
	Resources         []Attendee
	// Recurrence makes the item a recurring master.
	Recurrence *Recurrence
	// FirstOccurrence and LastOccurrence are read-only, set on a recurring
	// master.
	FirstOccurrence *Occurrence
	LastOccurrence  *Occurrence
	// ModifiedOccurrences (the exceptions) and DeletedOccurrences (their
	// original starts) are read-only, set on a recurring master that has
	// any.
	ModifiedOccurrences []Occurrence
	DeletedOccurrences  []time.Time
}

// Attendee is one attendee of a meeting.
type Attendee struct {
	Mailbox Mailbox
	// ResponseType is read-only: Unknown, Organizer, Tentative, Accept,
	// Decline, NoResponseReceived.
	ResponseType     string
	LastResponseTime time.Time
}

// Occurrence is the id and times of one occurrence of a series.
type Occurrence struct {
	ItemID        ItemID
	Start         time.Time
	End           time.Time
	OriginalStart time.Time
}

// Calendar properties.
const (
	FieldCalendarUID                  FieldURI = "calendar:UID"
	FieldCalendarStart                FieldURI = "calendar:Start"
	FieldCalendarEnd                  FieldURI = "calendar:End"
	FieldCalendarIsAllDayEvent        FieldURI = "calendar:IsAllDayEvent"
	FieldCalendarLegacyFreeBusyStatus FieldURI = "calendar:LegacyFreeBusyStatus"
	FieldCalendarLocation             FieldURI = "calendar:Location"
	FieldCalendarIsRecurring          FieldURI = "calendar:IsRecurring"
	FieldCalendarCalendarItemType     FieldURI = "calendar:CalendarItemType"
	FieldCalendarOrganizer            FieldURI = "calendar:Organizer"
	FieldCalendarRequiredAttendees    FieldURI = "calendar:RequiredAttendees"
	FieldCalendarOptionalAttendees    FieldURI = "calendar:OptionalAttendees"
	FieldCalendarResources            FieldURI = "calendar:Resources"
	FieldCalendarRecurrence           FieldURI = "calendar:Recurrence"
	FieldCalendarFirstOccurrence      FieldURI = "calendar:FirstOccurrence"
	FieldCalendarLastOccurrence       FieldURI = "calendar:LastOccurrence"
	FieldCalendarModifiedOccurrences  FieldURI = "calendar:ModifiedOccurrences"
	FieldCalendarDeletedOccurrences   FieldURI = "calendar:DeletedOccurrences"
)

func (c *CalendarItem) write(w *itemWriter, e *etree.Element) {
	if w.only == nil && !c.Start.IsZero() && !c.End.IsZero() && c.End.Before(c.Start) {
		w.fail(invalidf("%s: %s.End %s is before Start %s", w.op, w.where, formatTime(c.End), formatTime(c.Start)))
		return
	}
	w.text(e, FieldCalendarUID, "UID", c.UID)
	w.dateTime(e, FieldCalendarStart, "Start", c.Start)
	w.dateTime(e, FieldCalendarEnd, "End", c.End)
	w.flag(e, FieldCalendarIsAllDayEvent, "IsAllDayEvent", c.IsAllDayEvent)
	w.enum(e, FieldCalendarLegacyFreeBusyStatus, "LegacyFreeBusyStatus", c.LegacyFreeBusyStatus, "Free", "Tentative", "Busy", "OOF", "WorkingElsewhere", "NoData")
	w.text(e, FieldCalendarLocation, "Location", c.Location)
	for _, l := range [...]struct {
		uri  FieldURI
		tag  string
		list []Attendee
	}{{FieldCalendarRequiredAttendees, "RequiredAttendees", c.RequiredAttendees}, {FieldCalendarOptionalAttendees, "OptionalAttendees", c.OptionalAttendees}, {FieldCalendarResources, "Resources", c.Resources}} {
		if w.err != nil || !w.field(l.uri, len(l.list) > 0) {
			continue
		}
		le := e.CreateElement("t:" + l.tag)
		for _, a := range l.list {
			if err := writeMailbox(w.op, w.where+"."+l.tag, le.CreateElement("t:Attendee"), a.Mailbox); err != nil {
				w.fail(err)
				return
			}
		}
	}
	if w.err == nil && w.field(FieldCalendarRecurrence, c.Recurrence != nil) {
		if c.Recurrence == nil {
			w.fail(invalidf("%s: %s.Recurrence is nil; delete calendar:Recurrence to end the series", w.op, w.where))
			return
		}
		w.fail(c.Recurrence.write(w.op, w.where+".Recurrence", e))
	}
}

func (c *CalendarItem) parseField(e *etree.Element) {
	switch e.Tag {
	case "UID":
		c.UID = strings.TrimSpace(e.Text())
	case "RecurrenceId":
		c.RecurrenceID = parseTime(e.Text())
	case "Start":
		c.Start = parseTime(e.Text())
	case "End":
		c.End = parseTime(e.Text())
	case "OriginalStart":
		c.OriginalStart = parseTime(e.Text())
	case "IsAllDayEvent":
		c.IsAllDayEvent = parseBool(e.Text())
	case "LegacyFreeBusyStatus":
		c.LegacyFreeBusyStatus = strings.TrimSpace(e.Text())
	case "Location":
		c.Location = strings.TrimSpace(e.Text())
	case "IsMeeting":
		c.IsMeeting = parseBool(e.Text())
	case "IsCancelled":
		c.IsCancelled = parseBool(e.Text())
	case "IsRecurring":
		c.IsRecurring = parseBool(e.Text())
	case "CalendarItemType":
		c.CalendarItemType = strings.TrimSpace(e.Text())
	case "MyResponseType":
		c.MyResponseType = strings.TrimSpace(e.Text())
	case "Organizer":
		c.Organizer = parseMailbox(childNS(e, NamespaceTypes, "Mailbox"))
	case "RequiredAttendees":
		c.RequiredAttendees = parseAttendees(e)
	case "OptionalAttendees":
		c.OptionalAttendees = parseAttendees(e)
	case "Resources":
		c.Resources = parseAttendees(e)
	case "Recurrence":
		c.Recurrence = parseRecurrence(e)
	case "FirstOccurrence":
		c.FirstOccurrence = parseOccurrence(e)
	case "LastOccurrence":
		c.LastOccurrence = parseOccurrence(e)
	case "ModifiedOccurrences":
		c.ModifiedOccurrences = nil
		for _, o := range e.ChildElements() {
			if o.Tag == "Occurrence" {
				c.ModifiedOccurrences = append(c.ModifiedOccurrences, *parseOccurrence(o))
			}
		}
	case "DeletedOccurrences":
		c.DeletedOccurrences = nil
		for _, o := range e.ChildElements() {
			if o.Tag == "DeletedOccurrence" {
				c.DeletedOccurrences = append(c.DeletedOccurrences, parseTime(childText(o, NamespaceTypes, "Start")))
			}
		}
	}
}

func parseAttendees(e *etree.Element) []Attendee {
	var out []Attendee
	for _, a := range e.ChildElements() {
		if a.Tag != "Attendee" {
			continue
		}
		out = append(out, Attendee{
			Mailbox:          parseMailbox(childNS(a, NamespaceTypes, "Mailbox")),
			ResponseType:     childText(a, NamespaceTypes, "ResponseType"),
			LastResponseTime: parseTime(childText(a, NamespaceTypes, "LastResponseTime")),
		})
	}
	return out
}

func parseOccurrence(e *etree.Element) *Occurrence {
	return &Occurrence{
		ItemID:        parseItemID(childNS(e, NamespaceTypes, "ItemId")),
		Start:         parseTime(childText(e, NamespaceTypes, "Start")),
		End:           parseTime(childText(e, NamespaceTypes, "End")),
		OriginalStart: parseTime(childText(e, NamespaceTypes, "OriginalStart")),
	}
}

// RecurrencePattern is the kind of a recurrence (the element name of its
// pattern).
type RecurrencePattern string

// The recurrence patterns and the fields each uses.
const (
	// Daily: Interval days.
	RecurDaily RecurrencePattern = "DailyRecurrence"
	// Weekly: Interval weeks, on DaysOfWeek, optionally FirstDayOfWeek.
	RecurWeekly RecurrencePattern = "WeeklyRecurrence"
	// AbsoluteMonthly: Interval months, on DayOfMonth.
	RecurAbsoluteMonthly RecurrencePattern = "AbsoluteMonthlyRecurrence"
	// RelativeMonthly: Interval months, on the DayOfWeekIndex DaysOfWeek[0]
	// (e.g. the Last Friday).
	RecurRelativeMonthly RecurrencePattern = "RelativeMonthlyRecurrence"
	// AbsoluteYearly: every year on DayOfMonth of Month.
	RecurAbsoluteYearly RecurrencePattern = "AbsoluteYearlyRecurrence"
	// RelativeYearly: every year on the DayOfWeekIndex DaysOfWeek[0] of
	// Month.
	RecurRelativeYearly RecurrencePattern = "RelativeYearlyRecurrence"
)

// Recurrence is a recurrence pattern and its range (t:Recurrence). The range
// starts on StartDate (a date) and ends on EndDate, after
// NumberOfOccurrences, or never when both are zero.
type Recurrence struct {
	Pattern  RecurrencePattern
	Interval int
	// DaysOfWeek are day names: Sunday ... Saturday, and for the relative
	// patterns also Day, Weekday, WeekendDay.
	DaysOfWeek     []string
	FirstDayOfWeek string
	DayOfMonth     int
	// DayOfWeekIndex is First, Second, Third, Fourth or Last.
	DayOfWeekIndex string
	// Month is January ... December.
	Month string

	StartDate           time.Time
	EndDate             time.Time
	NumberOfOccurrences int
}

var (
	dayNames       = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	relativeDays   = append(append([]string{}, dayNames...), "Day", "Weekday", "WeekendDay")
	dayIndexes     = []string{"First", "Second", "Third", "Fourth", "Last"}
	monthNames     = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	errNoDayOfWeek = "needs exactly one day in DaysOfWeek"
)

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func (r *Recurrence) write(op, where string, parent *etree.Element) error {
	bad := func(format string, args ...any) error {
		return invalidf("%s: %s: "+format, append([]any{op, where}, args...)...)
	}
	interval := func(p *etree.Element) error {
		if r.Interval < 1 || r.Interval > 999 {
			return bad("%s Interval %d is outside 1..999", r.Pattern, r.Interval)
		}
		p.CreateElement("t:Interval").SetText(strconv.Itoa(r.Interval))
		return nil
	}
	dayOfMonth := func(p *etree.Element) error {
		if r.DayOfMonth < 1 || r.DayOfMonth > 31 {
			return bad("DayOfMonth %d is outside 1..31", r.DayOfMonth)
		}
		p.CreateElement("t:DayOfMonth").SetText(strconv.Itoa(r.DayOfMonth))
		return nil
	}
	relative := func(p *etree.Element) error {
		if len(r.DaysOfWeek) != 1 || !oneOf(r.DaysOfWeek[0], relativeDays) {
			return bad("%s %s (a day name, Day, Weekday or WeekendDay)", r.Pattern, errNoDayOfWeek)
		}
		if !oneOf(r.DayOfWeekIndex, dayIndexes) {
			return bad("DayOfWeekIndex %q is none of First, Second, Third, Fourth, Last", clip(r.DayOfWeekIndex))
		}
		p.CreateElement("t:DaysOfWeek").SetText(r.DaysOfWeek[0])
		p.CreateElement("t:DayOfWeekIndex").SetText(r.DayOfWeekIndex)
		return nil
	}
	month := func(p *etree.Element) error {
		if !oneOf(r.Month, monthNames) {
			return bad("Month %q is not a month name like January", clip(r.Month))
		}
		p.CreateElement("t:Month").SetText(r.Month)
		return nil
	}
	if r.StartDate.IsZero() {
		return bad("StartDate is not set")
	}
	if !r.EndDate.IsZero() && r.NumberOfOccurrences != 0 {
		return bad("set EndDate or NumberOfOccurrences, not both")
	}
	if r.NumberOfOccurrences < 0 {
		return bad("NumberOfOccurrences %d is negative", r.NumberOfOccurrences)
	}
	if !r.EndDate.IsZero() && formatDate(r.EndDate) < formatDate(r.StartDate) {
		return bad("EndDate %s is before StartDate %s", formatDate(r.EndDate), formatDate(r.StartDate))
	}
	rec := parent.CreateElement("t:Recurrence")
	p := rec.CreateElement("t:" + string(r.Pattern))
	var err error
	switch r.Pattern {
	case RecurDaily:
		err = interval(p)
	case RecurWeekly:
		if err = interval(p); err != nil {
			break
		}
		if len(r.DaysOfWeek) == 0 {
			err = bad("WeeklyRecurrence needs DaysOfWeek")
			break
		}
		for _, d := range r.DaysOfWeek {
			if !oneOf(d, dayNames) {
				return bad("DaysOfWeek %q is not a day name like Monday", clip(d))
			}
		}
		p.CreateElement("t:DaysOfWeek").SetText(strings.Join(r.DaysOfWeek, " "))
		if r.FirstDayOfWeek != "" {
			if !oneOf(r.FirstDayOfWeek, dayNames) {
				return bad("FirstDayOfWeek %q is not a day name like Monday", clip(r.FirstDayOfWeek))
			}
			p.CreateElement("t:FirstDayOfWeek").SetText(r.FirstDayOfWeek)
		}
	case RecurAbsoluteMonthly:
		if err = interval(p); err == nil {
			err = dayOfMonth(p)
		}
	case RecurRelativeMonthly:
		if err = interval(p); err == nil {
			err = relative(p)
		}
	case RecurAbsoluteYearly:
		if err = dayOfMonth(p); err == nil {
			err = month(p)
		}
	case RecurRelativeYearly:
		if err = relative(p); err == nil {
			err = month(p)
		}
	default:
		return bad("Pattern %q is not a recurrence pattern such as ews.RecurWeekly", clip(string(r.Pattern)))
	}
	if err != nil {
		return err
	}
	var rg *etree.Element
	switch {
	case !r.EndDate.IsZero():
		rg = rec.CreateElement("t:EndDateRecurrence")
	case r.NumberOfOccurrences > 0:
		rg = rec.CreateElement("t:NumberedRecurrence")
	default:
		rg = rec.CreateElement("t:NoEndRecurrence")
	}
	rg.CreateElement("t:StartDate").SetText(formatDate(r.StartDate))
	switch {
	case !r.EndDate.IsZero():
		rg.CreateElement("t:EndDate").SetText(formatDate(r.EndDate))
	case r.NumberOfOccurrences > 0:
		rg.CreateElement("t:NumberOfOccurrences").SetText(strconv.Itoa(r.NumberOfOccurrences))
	}
	return nil
}

func parseRecurrence(e *etree.Element) *Recurrence {
	r := &Recurrence{}
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "DailyRecurrence", "WeeklyRecurrence", "AbsoluteMonthlyRecurrence", "RelativeMonthlyRecurrence", "AbsoluteYearlyRecurrence", "RelativeYearlyRecurrence":
			r.Pattern = RecurrencePattern(c.Tag)
			for _, f := range c.ChildElements() {
				v := strings.TrimSpace(f.Text())
				switch f.Tag {
				case "Interval":
					r.Interval = parseInt(v)
				case "DaysOfWeek":
					r.DaysOfWeek = strings.Fields(v)
				case "FirstDayOfWeek":
					r.FirstDayOfWeek = v
				case "DayOfMonth":
					r.DayOfMonth = parseInt(v)
				case "DayOfWeekIndex":
					r.DayOfWeekIndex = v
				case "Month":
					r.Month = v
				}
			}
		case "NoEndRecurrence", "EndDateRecurrence", "NumberedRecurrence":
			for _, f := range c.ChildElements() {
				v := strings.TrimSpace(f.Text())
				switch f.Tag {
				case "StartDate":
					r.StartDate = parseDate(v)
				case "EndDate":
					r.EndDate = parseDate(v)
				case "NumberOfOccurrences":
					r.NumberOfOccurrences = parseInt(v)
				}
			}
		}
	}
	return r
}
