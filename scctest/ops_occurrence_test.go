package scctest

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

// getRef is GetItem (AllProperties, IsRecurring) of one item id element.
func getRef(t *testing.T, s *Server, idElem string) resp {
	t.Helper()
	return do(t, s, nil, svcReq(imp(alice), `<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="calendar:IsRecurring"/>`+
		`</t:AdditionalProperties></m:ItemShape><m:ItemIds>`+idElem+`</m:ItemIds></m:GetItem>`))
}

func occRef(master string, idx int) string {
	return `<t:OccurrenceItemId RecurringMasterId="` + master + `" InstanceIndex="` + strconv.Itoa(idx) + `"/>`
}

func fails(code ews.ResponseCode) want {
	return want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{code}}
}

// changeKeyOf is the ChangeKey GetItem gives item id.
func changeKeyOf(t *testing.T, s *Server, id string) string {
	t.Helper()
	return find(t, getRef(t, s, `<t:ItemId Id="`+id+`"/>`).body, "ItemId").attrOr("ChangeKey", "")
}

// updateRef is an UpdateItem (AlwaysOverwrite) of the item id element ref
// with the update elements ups.
func updateRef(t *testing.T, s *Server, ref, ups string) resp {
	t.Helper()
	return do(t, s, nil, svcReq(imp(alice), `<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange>`+
		ref+`<t:Updates>`+ups+`</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`))
}

// setItemField is a SetItemField of uri with el in an item element of kind.
func setItemField(kind, uri, el string) string {
	return `<t:SetItemField><t:FieldURI FieldURI="` + uri + `"/><t:` + kind + `>` + el + `</t:` + kind + `></t:SetItemField>`
}

// TestOccurrenceItemIDs: t:OccurrenceItemId and t:RecurringMasterItemId in
// GetItem, UpdateItem and DeleteItem; IsRecurring and CalendarItemType as
// Exchange reports them; an updated occurrence becomes an exception, a
// deleted one joins DeletedOccurrences, and CalendarView follows.
func TestOccurrenceItemIDs(t *testing.T) {
	s := newTestServer(t)
	master := createOne(t, s, ` SendMeetingInvitations="SendToNone"`, calItem("2024-06-03T09:00:00Z", "2024-06-03T10:00:00Z",
		`<t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence><t:NumberedRecurrence><t:StartDate>2024-06-03</t:StartDate><t:NumberOfOccurrences>5</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`))
	single := createOne(t, s, ` SendMeetingInvitations="SendToNone"`, calItem("2024-06-20T09:00:00Z", "2024-06-20T10:00:00Z", ""))

	props := func(r resp, els ...string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, el := range els {
			out[el] = textOf(t, r.body, el)
		}
		return out
	}
	for _, tc := range []struct {
		name, ref string
		want      map[string]string
	}{
		{"master", `<t:ItemId Id="` + master + `"/>`, map[string]string{"CalendarItemType": "RecurringMaster", "IsRecurring": "false", "Start": "2024-06-03T09:00:00Z"}},
		{"single", `<t:ItemId Id="` + single + `"/>`, map[string]string{"CalendarItemType": "Single", "IsRecurring": "false", "Start": "2024-06-20T09:00:00Z"}},
		{"occurrence 2", occRef(master, 2), map[string]string{"CalendarItemType": "Occurrence", "IsRecurring": "true", "Start": "2024-06-04T09:00:00Z"}},
		{"last occurrence", occRef(master, 5), map[string]string{"CalendarItemType": "Occurrence", "IsRecurring": "true", "Start": "2024-06-07T09:00:00Z"}},
	} {
		r := getRef(t, s, tc.ref)
		check(t, r, ok1())
		if d := cmp.Diff(tc.want, props(r, "CalendarItemType", "IsRecurring", "Start")); d != "" {
			t.Errorf("GetItem %s (-want +got):\n%s", tc.name, d)
		}
	}
	occ2 := find(t, getRef(t, s, occRef(master, 2)).body, "ItemId").attrOr("Id", "")
	r := getRef(t, s, `<t:RecurringMasterItemId OccurrenceId="`+occ2+`"/>`)
	check(t, r, ok1())
	if got := find(t, r.body, "ItemId").attrOr("Id", ""); got != master || textOf(t, r.body, "CalendarItemType") != "RecurringMaster" {
		t.Errorf("RecurringMasterItemId gave %s (%s), want the master %s", got, textOf(t, r.body, "CalendarItemType"), master)
	}

	for _, tc := range []struct {
		name, ref string
		code      ews.ResponseCode
	}{
		{"index past the end", occRef(master, 6), ews.ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange},
		{"index 0", occRef(master, 0), ews.ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange},
		{"single as master", occRef(single, 1), ews.ErrorCalendarCannotUseIdForRecurringMasterId},
		{"malformed master", occRef("bogus", 1), ews.ErrorInvalidIdMalformed},
		{"master as occurrence", `<t:RecurringMasterItemId OccurrenceId="` + master + `"/>`, ews.ErrorCalendarCannotUseIdForOccurrenceId},
	} {
		check(t, getRef(t, s, tc.ref), fails(tc.code))
		if t.Failed() {
			t.Fatalf("case %s", tc.name)
		}
	}

	update := func(ref, ups string) resp { t.Helper(); return updateRef(t, s, ref, ups) }
	withCK := func(idx int) string {
		return `<t:OccurrenceItemId RecurringMasterId="` + master + `" ChangeKey="` + changeKeyOf(t, s, master) + `" InstanceIndex="` + strconv.Itoa(idx) + `"/>`
	}
	set := func(uri, el string) string { return setItemField("CalendarItem", uri, el) }
	r = update(withCK(3), set("item:Subject", `<t:Subject>moved</t:Subject>`)+
		set("calendar:Start", `<t:Start>2024-06-05T14:00:00Z</t:Start>`)+set("calendar:End", `<t:End>2024-06-05T15:00:00Z</t:End>`))
	check(t, r, ok1())
	check(t, update(withCK(2), `<t:SetItemField><t:FieldURI FieldURI="calendar:Recurrence"/><t:CalendarItem>`+
		`<t:Recurrence><t:DailyRecurrence><t:Interval>2</t:Interval></t:DailyRecurrence><t:NoEndRecurrence><t:StartDate>2024-06-03</t:StartDate></t:NoEndRecurrence></t:Recurrence>`+
		`</t:CalendarItem></t:SetItemField>`), fails(ews.ErrorInvalidPropertyRequest))
	check(t, update(occRef(master, 2), set("item:Subject", `<t:Subject>x</t:Subject>`)), fails(ews.ErrorChangeKeyRequiredForWriteOperations))

	del := func(ref string) resp {
		t.Helper()
		return do(t, s, nil, svcReq(imp(alice), `<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendToNone"><m:ItemIds>`+ref+`</m:ItemIds></m:DeleteItem>`))
	}
	check(t, del(occRef(master, 4)), ok1())
	check(t, del(occRef(master, 4)), fails(ews.ErrorCalendarOccurrenceIsDeletedFromRecurrence))
	check(t, getRef(t, s, occRef(master, 4)), fails(ews.ErrorCalendarOccurrenceIsDeletedFromRecurrence))

	r = getRef(t, s, occRef(master, 3))
	check(t, r, ok1())
	if d := cmp.Diff(map[string]string{"CalendarItemType": "Exception", "IsRecurring": "true", "Start": "2024-06-05T14:00:00Z", "Subject": "moved"}, props(r, "CalendarItemType", "IsRecurring", "Start", "Subject")); d != "" {
		t.Errorf("GetItem of the updated occurrence (-want +got):\n%s", d)
	}
	r = getRef(t, s, `<t:ItemId Id="`+master+`"/>`)
	mod := findT(t, r.body, "ModifiedOccurrences")
	delo := findT(t, r.body, "DeletedOccurrences")
	if mod == nil || len(mod.kids) != 1 || mod.kids[0].child(nsTypes, "OriginalStart").text != "2024-06-05T09:00:00Z" || mod.kids[0].child(nsTypes, "Start").text != "2024-06-05T14:00:00Z" {
		t.Errorf("ModifiedOccurrences of the master:\n%s", r.body)
	}
	if delo == nil || len(delo.kids) != 1 || delo.kids[0].child(nsTypes, "Start").text != "2024-06-06T09:00:00Z" {
		t.Errorf("DeletedOccurrences of the master:\n%s", r.body)
	}
	r = calendarView(t, s, "2024-06-01T00:00:00Z", "2024-06-15T00:00:00Z", "")
	want := []string{"2024-06-03T09:00:00Z Occurrence", "2024-06-04T09:00:00Z Occurrence", "2024-06-05T14:00:00Z Exception", "2024-06-07T09:00:00Z Occurrence"}
	if d := cmp.Diff(want, viewStarts(t, r)); d != "" {
		t.Errorf("CalendarView after the exception and the deletion (-want +got):\n%s", d)
	}

	// Deleting the exception drops it from ModifiedOccurrences; the
	// occurrence id CalendarView gave works as well as OccurrenceItemId.
	exc := findAll(t, r.body, "CalendarItem")[2].child(nsTypes, "ItemId").attrOr("Id", "")
	check(t, del(`<t:ItemId Id="`+exc+`"/>`), ok1())
	r = getRef(t, s, `<t:ItemId Id="`+master+`"/>`)
	if findT(t, r.body, "ModifiedOccurrences") != nil || len(findT(t, r.body, "DeletedOccurrences").kids) != 2 {
		t.Errorf("after deleting the exception:\n%s", r.body)
	}
	r = calendarView(t, s, "2024-06-01T00:00:00Z", "2024-06-15T00:00:00Z", "")
	if d := cmp.Diff([]string{"2024-06-03T09:00:00Z Occurrence", "2024-06-04T09:00:00Z Occurrence", "2024-06-07T09:00:00Z Occurrence"}, viewStarts(t, r)); d != "" {
		t.Errorf("CalendarView after deleting the exception (-want +got):\n%s", d)
	}
}

// TestUpdateKeepsTimeZones: calendar:StartTimeZone and EndTimeZone, which
// clients such as exchangelib send with every new start and end, are kept
// verbatim by UpdateItem on a single item and on an occurrence (for that
// exception only), returned when asked, removed by DeleteItemField, and
// refused on an item of another kind.
func TestUpdateKeepsTimeZones(t *testing.T) {
	s := newTestServer(t)
	master := createOne(t, s, ` SendMeetingInvitations="SendToNone"`, calItem("2024-06-03T09:00:00Z", "2024-06-03T10:00:00Z",
		`<t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence><t:NumberedRecurrence><t:StartDate>2024-06-03</t:StartDate><t:NumberOfOccurrences>3</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`))
	single := createOne(t, s, ` SendMeetingInvitations="SendToNone"`, calItem("2024-06-20T09:00:00Z", "2024-06-20T10:00:00Z", ""))
	ck := func(id string) string { t.Helper(); return changeKeyOf(t, s, id) }
	update := func(ref, ups string) resp { t.Helper(); return updateRef(t, s, ref, ups) }
	set := setItemField
	move := set("CalendarItem", "calendar:Start", `<t:Start>2024-06-20T11:00:00Z</t:Start>`) + set("CalendarItem", "calendar:End", `<t:End>2024-06-20T12:00:00Z</t:End>`) +
		set("CalendarItem", "calendar:StartTimeZone", `<t:StartTimeZone Id="W. Europe Standard Time"/>`) +
		set("CalendarItem", "calendar:EndTimeZone", `<t:EndTimeZone Id="W. Europe Standard Time"/>`)
	getZones := func(ref string) (start, end string) {
		t.Helper()
		r := do(t, s, nil, svcReq(imp(alice), `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>`+
			`<t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:StartTimeZone"/><t:FieldURI FieldURI="calendar:EndTimeZone"/>`+
			`</t:AdditionalProperties></m:ItemShape><m:ItemIds>`+ref+`</m:ItemIds></m:GetItem>`))
		check(t, r, ok1())
		if z := findT(t, r.body, "StartTimeZone"); z != nil {
			start = z.attrOr("Id", "?")
		}
		if z := findT(t, r.body, "EndTimeZone"); z != nil {
			end = z.attrOr("Id", "?")
		}
		return start, end
	}

	check(t, update(`<t:ItemId Id="`+single+`" ChangeKey="`+ck(single)+`"/>`, move), ok1())
	if st, en := getZones(`<t:ItemId Id="` + single + `"/>`); st != "W. Europe Standard Time" || en != "W. Europe Standard Time" {
		t.Errorf("single item after the move: StartTimeZone %q, EndTimeZone %q; want both W. Europe Standard Time", st, en)
	}
	check(t, update(`<t:ItemId Id="`+single+`" ChangeKey="`+ck(single)+`"/>`, `<t:DeleteItemField><t:FieldURI FieldURI="calendar:EndTimeZone"/></t:DeleteItemField>`), ok1())
	if st, en := getZones(`<t:ItemId Id="` + single + `"/>`); st != "W. Europe Standard Time" || en != "" {
		t.Errorf("single item after DeleteItemField EndTimeZone: StartTimeZone %q, EndTimeZone %q; want the start's kept, no end's", st, en)
	}
	// ReminderIsSet is kept verbatim too (with a default when unset).
	check(t, update(`<t:ItemId Id="`+single+`" ChangeKey="`+ck(single)+`"/>`, set("CalendarItem", "item:ReminderIsSet", `<t:ReminderIsSet>true</t:ReminderIsSet>`)), ok1())
	r := do(t, s, nil, svcReq(imp(alice), `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:ReminderIsSet"/>`+
		`</t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="`+single+`"/></m:ItemIds></m:GetItem>`))
	if got := textOf(t, r.body, "ReminderIsSet"); got != "true" {
		t.Errorf("ReminderIsSet after SetItemField = %q, want true", got)
	}
	check(t, update(`<t:ItemId Id="`+single+`" ChangeKey="`+ck(single)+`"/>`, `<t:AppendToItemField><t:FieldURI FieldURI="calendar:StartTimeZone"/><t:CalendarItem><t:StartTimeZone Id="UTC"/></t:CalendarItem></t:AppendToItemField>`),
		fails(ews.ErrorInvalidPropertyAppend))

	occ := `<t:OccurrenceItemId RecurringMasterId="` + master + `" ChangeKey="` + ck(master) + `" InstanceIndex="2"/>`
	check(t, update(occ, strings.ReplaceAll(move, "2024-06-20", "2024-06-04")), ok1())
	if st, en := getZones(occRef(master, 2)); st != "W. Europe Standard Time" || en != "W. Europe Standard Time" {
		t.Errorf("moved occurrence: StartTimeZone %q, EndTimeZone %q; want both W. Europe Standard Time", st, en)
	}
	if st, _ := getZones(occRef(master, 3)); st == "W. Europe Standard Time" {
		t.Errorf("occurrence 3 got the exception's StartTimeZone")
	}
	r = calendarView(t, s, "2024-06-01T00:00:00Z", "2024-06-10T00:00:00Z", "")
	if d := cmp.Diff([]string{"2024-06-03T09:00:00Z Occurrence", "2024-06-04T11:00:00Z Exception", "2024-06-05T09:00:00Z Occurrence"}, viewStarts(t, r)); d != "" {
		t.Errorf("CalendarView after moving occurrence 2 (-want +got):\n%s", d)
	}

	msg := createOne(t, s, ` MessageDisposition="SaveOnly"`, `<t:Message><t:Subject>m</t:Subject></t:Message>`)
	check(t, update(`<t:ItemId Id="`+msg+`" ChangeKey="`+ck(msg)+`"/>`, set("CalendarItem", "calendar:StartTimeZone", `<t:StartTimeZone Id="UTC"/>`)), fails(ews.ErrorInvalidPropertyRequest))
}

// TestOccurrenceExceptionKeepsEveryProperty: an occurrence takes any
// property UpdateItem sets on a calendar item (body, categories,
// importance, attendees, an extended property), for that exception only;
// the other occurrences keep the master's. A later change of the master's
// subject reaches the exceptions that did not set a subject of their own,
// not the one that did.
func TestOccurrenceExceptionKeepsEveryProperty(t *testing.T) {
	s := newTestServer(t)
	master := createOne(t, s, ` SendMeetingInvitations="SendToNone"`, calItem("2024-06-03T09:00:00Z", "2024-06-03T10:00:00Z",
		`<t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence><t:NumberedRecurrence><t:StartDate>2024-06-03</t:StartDate><t:NumberOfOccurrences>3</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`))
	ck := func() string { t.Helper(); return changeKeyOf(t, s, master) }
	update := func(ref, ups string) resp { t.Helper(); return updateRef(t, s, ref, ups) }
	set := func(uri, el string) string { return setItemField("CalendarItem", uri, el) }
	crm := `<t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="CrmRecordId" PropertyType="String"/>`
	occ2 := `<t:OccurrenceItemId RecurringMasterId="` + master + `" ChangeKey="` + ck() + `" InstanceIndex="2"/>`
	check(t, update(occ2, set("item:Body", `<t:Body BodyType="Text">agenda for the second day</t:Body>`)+
		set("item:Categories", `<t:Categories><t:String>CRM</t:String></t:Categories>`)+
		set("item:Importance", `<t:Importance>High</t:Importance>`)+
		set("calendar:RequiredAttendees", `<t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>bob@contoso.example</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees>`)+
		`<t:SetItemField>`+crm+`<t:CalendarItem><t:ExtendedProperty>`+crm+`<t:Value>opp-42</t:Value></t:ExtendedProperty></t:CalendarItem></t:SetItemField>`), ok1())
	occ1 := `<t:OccurrenceItemId RecurringMasterId="` + master + `" ChangeKey="` + ck() + `" InstanceIndex="1"/>`
	check(t, update(occ1, set("item:Subject", `<t:Subject>kick-off</t:Subject>`)), ok1())
	check(t, update(`<t:ItemId Id="`+master+`" ChangeKey="`+ck()+`"/>`, set("item:Subject", `<t:Subject>renamed series</t:Subject>`)), ok1())

	read := func(ref string) resp {
		t.Helper()
		r := do(t, s, nil, svcReq(imp(alice), `<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:AdditionalProperties>`+crm+
			`</t:AdditionalProperties></m:ItemShape><m:ItemIds>`+ref+`</m:ItemIds></m:GetItem>`))
		check(t, r, ok1())
		return r
	}
	r := read(occRef(master, 2))
	got := map[string]string{"Body": textOf(t, r.body, "Body"), "Importance": textOf(t, r.body, "Importance"), "Categories": textOf(t, r.body, "String"),
		"Attendee": findT(t, r.body, "RequiredAttendees").child(nsTypes, "Attendee").child(nsTypes, "Mailbox").child(nsTypes, "EmailAddress").trimmed(), "CrmRecordId": textOf(t, r.body, "Value"), "CalendarItemType": textOf(t, r.body, "CalendarItemType")}
	want := map[string]string{"Body": "agenda for the second day", "Importance": "High", "Categories": "CRM", "Attendee": "bob@contoso.example", "CrmRecordId": "opp-42", "CalendarItemType": "Exception"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("GetItem of the changed occurrence (-want +got):\n%s", d)
	}
	if subj := textOf(t, r.body, "Subject"); subj != "renamed series" {
		t.Errorf("exception 2 (no subject of its own) has subject %q, want the master's new one", subj)
	}
	if subj := textOf(t, read(occRef(master, 1)).body, "Subject"); subj != "kick-off" {
		t.Errorf("exception 1 has subject %q, want its own kick-off", subj)
	}
	r = read(occRef(master, 3))
	if textOf(t, r.body, "Importance") == "High" || bytes.Contains(r.body, []byte("opp-42")) || textOf(t, r.body, "Subject") != "renamed series" {
		t.Errorf("occurrence 3 should have the master's properties:\n%s", r.body)
	}
}
