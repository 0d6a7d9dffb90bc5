package scctest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// calItem is a calendar item with a recurrence element of the request.
func calItem(start, end, recurrence string) string {
	return `<t:CalendarItem><t:Subject>series</t:Subject><t:Start>` + start + `</t:Start><t:End>` + end + `</t:End>` + recurrence + `</t:CalendarItem>`
}

// calendarView returns the FindItem CalendarView answer over the calendar.
func calendarView(t *testing.T, s *Server, start, end, extra string) resp {
	t.Helper()
	return do(t, s, nil, svcReq(imp(alice), `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>`+
		`<t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:End"/><t:FieldURI FieldURI="calendar:CalendarItemType"/>`+
		`</t:AdditionalProperties></m:ItemShape><m:CalendarView`+extra+` StartDate="`+start+`" EndDate="`+end+`"/>`+
		`<m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>`))
}

// viewStarts lists "Start Type" of every entry of a CalendarView answer.
func viewStarts(t *testing.T, r resp) []string {
	t.Helper()
	var out []string
	for _, it := range findAll(t, r.body, "CalendarItem") {
		out = append(out, it.child(nsTypes, "Start").text+" "+it.child(nsTypes, "CalendarItemType").text)
	}
	return out
}

// TestRecurrenceOverSOAP: every pattern and range a client sends is
// parsed, returned as stored in schema order, and expanded by CalendarView.
func TestRecurrenceOverSOAP(t *testing.T) {
	tests := []struct {
		name, start, recurrence string
		from, to                string
		want                    []string // occurrence dates
	}{
		{"daily numbered", "2024-06-03T09:00:00Z",
			`<t:Recurrence><t:DailyRecurrence><t:Interval>2</t:Interval></t:DailyRecurrence><t:NumberedRecurrence><t:StartDate>2024-06-03</t:StartDate><t:NumberOfOccurrences>3</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`,
			"2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", []string{"2024-06-03", "2024-06-05", "2024-06-07"}},
		{"weekly to an end date, weeks from Monday", "2024-06-03T09:00:00Z",
			`<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday Thursday</t:DaysOfWeek><t:FirstDayOfWeek>Monday</t:FirstDayOfWeek></t:WeeklyRecurrence><t:EndDateRecurrence><t:StartDate>2024-06-03</t:StartDate><t:EndDate>2024-06-13</t:EndDate></t:EndDateRecurrence></t:Recurrence>`,
			"2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", []string{"2024-06-03", "2024-06-06", "2024-06-10", "2024-06-13"}},
		{"absolute monthly, no end", "2024-01-31T09:00:00Z",
			`<t:Recurrence><t:AbsoluteMonthlyRecurrence><t:Interval>1</t:Interval><t:DayOfMonth>31</t:DayOfMonth></t:AbsoluteMonthlyRecurrence><t:NoEndRecurrence><t:StartDate>2024-01-31</t:StartDate></t:NoEndRecurrence></t:Recurrence>`,
			"2024-01-01T00:00:00Z", "2024-05-01T00:00:00Z", []string{"2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"}},
		{"relative monthly, last Friday", "2024-06-01T09:00:00Z",
			`<t:Recurrence><t:RelativeMonthlyRecurrence><t:Interval>2</t:Interval><t:DaysOfWeek>Friday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence><t:NumberedRecurrence><t:StartDate>2024-06-01</t:StartDate><t:NumberOfOccurrences>3</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`,
			"2024-06-01T00:00:00Z", "2025-06-01T00:00:00Z", []string{"2024-06-28", "2024-08-30", "2024-10-25"}},
		{"absolute yearly", "2024-01-01T09:00:00Z",
			`<t:Recurrence><t:AbsoluteYearlyRecurrence><t:DayOfMonth>14</t:DayOfMonth><t:Month>February</t:Month></t:AbsoluteYearlyRecurrence><t:NumberedRecurrence><t:StartDate>2024-01-01</t:StartDate><t:NumberOfOccurrences>2</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`,
			"2024-01-01T00:00:00Z", "2025-12-31T00:00:00Z", []string{"2024-02-14", "2025-02-14"}},
		{"relative yearly, first weekday of September", "2024-01-01T09:00:00Z",
			`<t:Recurrence><t:RelativeYearlyRecurrence><t:DaysOfWeek>Weekday</t:DaysOfWeek><t:DayOfWeekIndex>First</t:DayOfWeekIndex><t:Month>September</t:Month></t:RelativeYearlyRecurrence><t:NoEndRecurrence><t:StartDate>2024-01-01</t:StartDate></t:NoEndRecurrence></t:Recurrence>`,
			"2024-01-01T00:00:00Z", "2025-12-31T00:00:00Z", []string{"2024-09-02", "2025-09-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t)
			end := strings.Replace(tt.start, "T09:", "T10:", 1)
			id := createOne(t, s, ` SendMeetingInvitations="SendToNone"`, calItem(tt.start, end, tt.recurrence))
			r := getAll(t, s, id, "")
			check(t, r, ok1())
			rec := findT(t, r.body, "Recurrence")
			if rec == nil {
				t.Fatalf("GetItem has no Recurrence:\n%s", r.body)
			}
			if got := string(r.body[rec.off:]); !strings.HasPrefix(got, tt.recurrence) {
				t.Errorf("GetItem Recurrence =\n%.600s\nwant as sent:\n%s", got, tt.recurrence)
			}
			if got := textOf(t, r.body, "CalendarItemType"); got != "RecurringMaster" {
				t.Errorf("CalendarItemType = %s, want RecurringMaster", got)
			}
			r = calendarView(t, s, tt.from, tt.to, "")
			check(t, r, ok1())
			var got []string
			for _, e := range viewStarts(t, r) {
				if !strings.HasSuffix(e, " Occurrence") || !strings.Contains(e, "T09:00:00Z") {
					t.Errorf("CalendarView entry %q, want an Occurrence at 09:00Z", e)
				}
				got = append(got, e[:10])
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("CalendarView (-want +got):\n%s", d)
			}
		})
	}
}

// TestRecurringMasterOccurrences: FirstOccurrence, LastOccurrence,
// ModifiedOccurrences and DeletedOccurrences of a master, GetItem on an
// occurrence id CalendarView gave, and the occurrence lists left out of
// the occurrences themselves.
func TestRecurringMasterOccurrences(t *testing.T) {
	s := newTestServer(t)
	at := func(day, h int) time.Time { return time.Date(2024, 6, day, h, 0, 0, 0, time.UTC) }
	// Exceptions and deletions are not made through EWS by the fake; they
	// are seeded into the model directly.
	it, err := s.box(s.dir.lookupAddr(alice)).CreateItem("calendar", mbx.Item{Kind: mbx.CalendarItem, Subject: "standup", Calendar: &mbx.CalendarFields{
		Start: at(3, 8), End: at(3, 9),
		Recurrence:          &mbx.Recurrence{Pattern: mbx.RecurrencePattern{Kind: mbx.Daily, Interval: 1}, Range: mbx.RecurrenceRange{Kind: mbx.Numbered, Count: 5}},
		DeletedOccurrences:  []time.Time{at(4, 8)},
		ModifiedOccurrences: []mbx.OccurrenceException{{OriginalStart: at(5, 8), Start: at(5, 11), End: at(5, 12), Subject: "late standup"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := getAll(t, s, it.ID, "")
	check(t, r, ok1())
	for el, want := range map[string]string{
		"FirstOccurrence":     "2024-06-03T08:00:00Z 2024-06-03T09:00:00Z 2024-06-03T08:00:00Z",
		"LastOccurrence":      "2024-06-07T08:00:00Z 2024-06-07T09:00:00Z 2024-06-07T08:00:00Z",
		"ModifiedOccurrences": "2024-06-05T11:00:00Z 2024-06-05T12:00:00Z 2024-06-05T08:00:00Z",
	} {
		n := findT(t, r.body, el)
		if n == nil {
			t.Errorf("GetItem has no %s:\n%s", el, r.body)
			continue
		}
		if n.name.Local == "ModifiedOccurrences" {
			n = n.child(nsTypes, "Occurrence")
		}
		got := n.child(nsTypes, "Start").text + " " + n.child(nsTypes, "End").text + " " + n.child(nsTypes, "OriginalStart").text
		if got != want || n.child(nsTypes, "ItemId").attrOr("Id", "") == "" {
			t.Errorf("%s = %s (id %q), want %s", el, got, n.child(nsTypes, "ItemId").attrOr("Id", ""), want)
		}
	}
	if got := textOf(t, r.body, "DeletedOccurrence"); got != "<none>" {
		if d := find(t, r.body, "DeletedOccurrence").child(nsTypes, "Start").text; d != "2024-06-04T08:00:00Z" {
			t.Errorf("DeletedOccurrence Start = %s, want 2024-06-04T08:00:00Z", d)
		}
	} else {
		t.Errorf("GetItem has no DeletedOccurrences:\n%s", r.body)
	}
	// Our ews client reads the lists.
	c, err := ews.NewClient(s.EWSURL(), ews.WithBasicAuth(testSvc, testPassword), ews.WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.With(ews.Impersonate(ews.PrimarySmtpAddress(alice))).GetItem(context.Background(),
		&ews.GetItemRequest{ItemIDs: []ews.ItemID{{ID: it.ID}}, Shape: ews.ShapeAllProperties})
	if err != nil || g.Results[0].Err != nil {
		t.Fatalf("ews GetItem = %v, %v", err, g.Results[0].Err)
	}
	if ci := g.Results[0].Item.Calendar; len(ci.ModifiedOccurrences) != 1 || !ci.ModifiedOccurrences[0].Start.Equal(at(5, 11)) || !ci.ModifiedOccurrences[0].OriginalStart.Equal(at(5, 8)) ||
		len(ci.DeletedOccurrences) != 1 || !ci.DeletedOccurrences[0].Equal(at(4, 8)) {
		t.Errorf("ews GetItem Modified/DeletedOccurrences = %+v, %v", ci.ModifiedOccurrences, ci.DeletedOccurrences)
	}
	r = calendarView(t, s, "2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", "")
	want := []string{"2024-06-03T08:00:00Z Occurrence", "2024-06-05T11:00:00Z Exception", "2024-06-06T08:00:00Z Occurrence", "2024-06-07T08:00:00Z Occurrence"}
	if d := cmp.Diff(want, viewStarts(t, r)); d != "" {
		t.Errorf("CalendarView (-want +got):\n%s", d)
	}
	// GetItem on the exception's id.
	exc := findAll(t, r.body, "CalendarItem")[1].child(nsTypes, "ItemId").attrOr("Id", "")
	r = getAll(t, s, exc, "")
	check(t, r, ok1())
	for el, want := range map[string]string{"Subject": "late standup", "Start": "2024-06-05T11:00:00Z", "CalendarItemType": "Exception", "Recurrence": "<none>", "FirstOccurrence": "<none>"} {
		if got := textOf(t, r.body, el); got != want {
			t.Errorf("GetItem(exception) %s = %q, want %q", el, got, want)
		}
	}
	// MaxEntriesReturned caps the view.
	r = calendarView(t, s, "2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", ` MaxEntriesReturned="2"`)
	if got := viewStarts(t, r); len(got) != 2 || find(t, r.body, "RootFolder").attrOr("IncludesLastItemInRange", "") != "false" {
		t.Errorf("CalendarView MaxEntriesReturned=2 = %v, IncludesLastItemInRange %s", got, find(t, r.body, "RootFolder").attrOr("IncludesLastItemInRange", ""))
	}
}

// TestUpdateRecurrence: SetItemField calendar:Recurrence replaces the
// series, DeleteItemField makes the item a single again.
func TestUpdateRecurrence(t *testing.T) {
	s := newTestServer(t)
	id := createOne(t, s, ` SendMeetingInvitations="SendToNone"`, calItem("2024-06-03T09:00:00Z", "2024-06-03T10:00:00Z",
		`<t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence><t:NumberedRecurrence><t:StartDate>2024-06-03</t:StartDate><t:NumberOfOccurrences>10</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`))
	update := func(op string) resp {
		t.Helper()
		r := getAll(t, s, id, "")
		ck := find(t, r.body, "ItemId").attrOr("ChangeKey", "")
		return do(t, s, nil, svcReq(imp(alice), `<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange>`+
			`<t:ItemId Id="`+id+`" ChangeKey="`+ck+`"/><t:Updates>`+op+`</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`))
	}
	weekly := `<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Tuesday</t:DaysOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>2024-06-03</t:StartDate><t:NumberOfOccurrences>2</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`
	check(t, update(`<t:SetItemField><t:FieldURI FieldURI="calendar:Recurrence"/><t:CalendarItem>`+weekly+`</t:CalendarItem></t:SetItemField>`), ok1())
	r := calendarView(t, s, "2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", "")
	if d := cmp.Diff([]string{"2024-06-04T09:00:00Z Occurrence", "2024-06-11T09:00:00Z Occurrence"}, viewStarts(t, r)); d != "" {
		t.Errorf("CalendarView after SetItemField (-want +got):\n%s", d)
	}
	r = update(`<t:SetItemField><t:FieldURI FieldURI="calendar:Recurrence"/><t:CalendarItem>` + strings.Replace(weekly, "Tuesday", "Weekday", 1) + `</t:CalendarItem></t:SetItemField>`)
	check(t, r, want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorCalendarInvalidDayForWeeklyRecurrence}})
	check(t, update(`<t:DeleteItemField><t:FieldURI FieldURI="calendar:Recurrence"/></t:DeleteItemField>`), ok1())
	r = calendarView(t, s, "2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", "")
	if d := cmp.Diff([]string{"2024-06-03T09:00:00Z Single"}, viewStarts(t, r)); d != "" {
		t.Errorf("CalendarView after DeleteItemField (-want +got):\n%s", d)
	}
}

// TestRecurrenceErrors: what the schema refuses is a fault, what Exchange
// refuses for its meaning is the response code of the EWS docs.
func TestRecurrenceErrors(t *testing.T) {
	daily := func(interval, rng string) string {
		return `<t:Recurrence><t:DailyRecurrence><t:Interval>` + interval + `</t:Interval></t:DailyRecurrence>` + rng + `</t:Recurrence>`
	}
	noEnd := `<t:NoEndRecurrence><t:StartDate>2024-06-03</t:StartDate></t:NoEndRecurrence>`
	tests := []struct {
		name, recurrence string
		fault            ews.ResponseCode
		code             ews.ResponseCode
		violation        string
	}{
		{"no range", `<t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence></t:Recurrence>`, ews.ErrorSchemaValidation, "", "has incomplete content"},
		{"range first", `<t:Recurrence>` + noEnd + `<t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence></t:Recurrence>`, ews.ErrorSchemaValidation, "", "invalid child element 'NoEndRecurrence'"},
		{"two ranges", `<t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>` + noEnd + noEnd + `</t:Recurrence>`, ews.ErrorSchemaValidation, "", "invalid child element 'NoEndRecurrence'"},
		{"no interval", `<t:Recurrence><t:DailyRecurrence/>` + noEnd + `</t:Recurrence>`, ews.ErrorSchemaValidation, "", "'Interval'"},
		{"interval not an int", daily("often", noEnd), ews.ErrorSchemaValidation, "", "not a valid Int32"},
		{"bad day name", `<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Mon</t:DaysOfWeek></t:WeeklyRecurrence>` + noEnd + `</t:Recurrence>`, ews.ErrorSchemaValidation, "", "DaysOfWeekType"},
		{"bad month", `<t:Recurrence><t:AbsoluteYearlyRecurrence><t:DayOfMonth>1</t:DayOfMonth><t:Month>Jan</t:Month></t:AbsoluteYearlyRecurrence>` + noEnd + `</t:Recurrence>`, ews.ErrorSchemaValidation, "", "MonthNamesType"},
		{"bad date", daily("1", `<t:NoEndRecurrence><t:StartDate>2024-06-31</t:StartDate></t:NoEndRecurrence>`), ews.ErrorSchemaValidation, "", "not a valid Date"},
		{"first day of week after the days", `<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:FirstDayOfWeek>Monday</t:FirstDayOfWeek><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence>` + noEnd + `</t:Recurrence>`, ews.ErrorSchemaValidation, "", "invalid child element 'FirstDayOfWeek'"},
		{"interval zero", daily("0", noEnd), "", ews.ErrorCalendarOutOfRange, ""},
		{"daily interval 1000", daily("1000", noEnd), "", ews.ErrorCalendarOutOfRange, ""},
		{"weekly interval 100", `<t:Recurrence><t:WeeklyRecurrence><t:Interval>100</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence>` + noEnd + `</t:Recurrence>`, "", ews.ErrorCalendarOutOfRange, ""},
		{"day 32", `<t:Recurrence><t:AbsoluteMonthlyRecurrence><t:Interval>1</t:Interval><t:DayOfMonth>32</t:DayOfMonth></t:AbsoluteMonthlyRecurrence>` + noEnd + `</t:Recurrence>`, "", ews.ErrorCalendarOutOfRange, ""},
		{"no occurrences", daily("1", `<t:NumberedRecurrence><t:StartDate>2024-06-03</t:StartDate><t:NumberOfOccurrences>0</t:NumberOfOccurrences></t:NumberedRecurrence>`), "", ews.ErrorCalendarOutOfRange, ""},
		{"weekly on weekdays", `<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Weekday</t:DaysOfWeek></t:WeeklyRecurrence>` + noEnd + `</t:Recurrence>`, "", ews.ErrorCalendarInvalidDayForWeeklyRecurrence, ""},
		{"relative with two days", `<t:Recurrence><t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday Tuesday</t:DaysOfWeek><t:DayOfWeekIndex>First</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>` + noEnd + `</t:Recurrence>`, "", ews.ErrorCalendarInvalidPropertyValue, ""},
		{"end before start", daily("1", `<t:EndDateRecurrence><t:StartDate>2024-06-03</t:StartDate><t:EndDate>2024-06-01</t:EndDate></t:EndDateRecurrence>`), "", ews.ErrorCalendarInvalidRecurrence, ""},
		{"no occurrence in the range", `<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Friday</t:DaysOfWeek></t:WeeklyRecurrence><t:EndDateRecurrence><t:StartDate>2024-06-03</t:StartDate><t:EndDate>2024-06-04</t:EndDate></t:EndDateRecurrence></t:Recurrence>`, "", ews.ErrorRecurrenceHasNoOccurrence, ""},
		{"end after 4500-09-01", daily("1", `<t:EndDateRecurrence><t:StartDate>2024-06-03</t:StartDate><t:EndDate>4501-01-01</t:EndDate></t:EndDateRecurrence>`), "", ews.ErrorRecurrenceEndDateTooBig, ""},
	}
	s := newTestServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, nil, svcReq(imp(alice), `<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items>`+calItem("2024-06-03T09:00:00Z", "2024-06-03T10:00:00Z", tt.recurrence)+`</m:Items></m:CreateItem>`))
			if tt.fault != "" {
				check(t, r, faultOf(tt.fault))
				if !strings.Contains(r.faultString, tt.violation) && !strings.Contains(string(r.body), tt.violation) {
					t.Errorf("fault does not say %q:\n%s", tt.violation, r.body)
				}
				return
			}
			check(t, r, want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{tt.code}})
		})
	}
	t.Run("occurrence lists are read-only", func(t *testing.T) {
		r := do(t, s, nil, svcReq(imp(alice), `<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem><t:Start>2024-06-03T09:00:00Z</t:Start><t:End>2024-06-03T10:00:00Z</t:End>`+
			`<t:FirstOccurrence><t:ItemId Id="x"/><t:Start>2024-06-03T09:00:00Z</t:Start><t:End>2024-06-03T10:00:00Z</t:End><t:OriginalStart>2024-06-03T09:00:00Z</t:OriginalStart></t:FirstOccurrence></t:CalendarItem></m:Items></m:CreateItem>`))
		check(t, r, want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidPropertySet}})
	})
	t.Run("FindItem cannot return the recurrence", func(t *testing.T) {
		r := do(t, s, nil, svcReq(imp(alice), `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="calendar:Recurrence"/></t:AdditionalProperties></m:ItemShape>`+
			`<m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>`))
		check(t, r, want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidPropertyRequest}})
	})
	t.Run("a task's recurrence is kept verbatim", func(t *testing.T) {
		rec := `<t:Recurrence><t:DailyRegeneration><t:Interval>3</t:Interval></t:DailyRegeneration><t:NoEndRecurrence><t:StartDate>2024-06-03</t:StartDate></t:NoEndRecurrence></t:Recurrence>`
		id := createOne(t, s, "", `<t:Task><t:Subject>water plants</t:Subject>`+rec+`</t:Task>`)
		r := getAll(t, s, id, "")
		n := findT(t, r.body, "Recurrence")
		if n == nil || !strings.HasPrefix(string(r.body[n.off:]), rec) {
			t.Errorf("GetItem(task) Recurrence is not the one sent:\n%s", r.body)
		}
	})
}
