package scctest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

// findWith is a FindItem in drafts with a restriction and sort order.
func findWith(restriction, sort string) string {
	return `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/></t:AdditionalProperties></m:ItemShape>` +
		`<m:Restriction>` + restriction + `</m:Restriction>` + sort + `<m:ParentFolderIds><t:DistinguishedFolderId Id="drafts"/></m:ParentFolderIds></m:FindItem>`
}

func subjects(t *testing.T, r resp) string {
	t.Helper()
	var out []string
	for _, n := range findAll(t, r.body, "Subject") {
		out = append(out, n.text)
	}
	return strings.Join(out, ",")
}

func TestFindItemRestrictions(t *testing.T) {
	s := newTestServer(t)
	for i, subj := range []string{"Invoice March", "Lunch", "invoice April", "Report"} {
		ext := ""
		if i%2 == 0 {
			ext = `<t:ExtendedProperty>` + tagURI + fmt.Sprintf(`<t:Value>P%d</t:Value></t:ExtendedProperty>`, i)
		}
		createOne(t, s, ` MessageDisposition="SaveOnly"`, `<t:Message><t:Subject>`+subj+`</t:Subject>`+ext+`</t:Message>`)
	}
	byExt := func(v string) string {
		return `<t:IsEqualTo>` + tagURI + `<t:FieldURIOrConstant><t:Constant Value="` + v + `"/></t:FieldURIOrConstant></t:IsEqualTo>`
	}
	asc := `<m:SortOrder><t:FieldOrder Order="Ascending"><t:FieldURI FieldURI="item:Subject"/></t:FieldOrder></m:SortOrder>`
	tests := []struct{ name, restriction, sort, want string }{
		{"extended property", byExt("P2"), "", "invoice April"},
		{"contains ignore case, sorted", `<t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase"><t:FieldURI FieldURI="item:Subject"/><t:Constant Value="INVOICE"/></t:Contains>`, asc, "invoice April,Invoice March"},
		{"exists", `<t:Exists>` + tagURI + `</t:Exists>`, asc, "invoice April,Invoice March"},
		{"not exists", `<t:Not><t:Exists>` + tagURI + `</t:Exists></t:Not>`, asc, "Lunch,Report"},
		{"or", `<t:Or>` + byExt("P0") + `<t:IsEqualTo><t:FieldURI FieldURI="item:Subject"/><t:FieldURIOrConstant><t:Constant Value="report"/></t:FieldURIOrConstant></t:IsEqualTo></t:Or>`, asc, "Invoice March,Report"},
		{"and", `<t:And>` + byExt("P0") + `<t:IsEqualTo><t:FieldURI FieldURI="item:Subject"/><t:FieldURIOrConstant><t:Constant Value="report"/></t:FieldURIOrConstant></t:IsEqualTo></t:And>`, asc, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, nil, svcReq(imp(alice), findWith(tt.restriction, tt.sort)))
			check(t, r, ok1())
			if got := subjects(t, r); got != tt.want {
				t.Errorf("FindItem(%s) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestFindFolderRestriction(t *testing.T) {
	s := newTestServer(t)
	r := do(t, s, nil, svcReq(imp(alice), `<m:FindFolder Traversal="Deep"><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:Restriction>`+
		`<t:IsEqualTo><t:FieldURI FieldURI="folder:DisplayName"/><t:FieldURIOrConstant><t:Constant Value="inbox"/></t:FieldURIOrConstant></t:IsEqualTo>`+
		`</m:Restriction><m:ParentFolderIds><t:DistinguishedFolderId Id="root"/></m:ParentFolderIds></m:FindFolder>`))
	check(t, r, ok1())
	if n := findAll(t, r.body, "DisplayName"); len(n) != 1 || n[0].text != "Inbox" {
		t.Errorf("FindFolder(DisplayName = inbox) = %d folders, want Inbox alone", len(n))
	}
}

func TestFindItemCalendarView(t *testing.T) {
	s := newTestServer(t)
	for _, d := range []string{"01", "05", "20"} {
		createOne(t, s, ``, `<t:CalendarItem><t:Subject>day `+d+`</t:Subject><t:Start>2026-12-`+d+`T10:00:00Z</t:Start><t:End>2026-12-`+d+`T11:00:00Z</t:End></t:CalendarItem>`)
	}
	view := func(attrs, folder string) resp {
		return do(t, s, nil, svcReq(imp(alice), `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:CalendarView`+attrs+
			`/><m:ParentFolderIds><t:DistinguishedFolderId Id="`+folder+`"/></m:ParentFolderIds></m:FindItem>`))
	}
	r := view(` StartDate="2026-12-02T00:00:00Z" EndDate="2026-12-31T00:00:00Z"`, "calendar")
	check(t, r, ok1())
	if got := subjects(t, r); got != "day 05,day 20" {
		t.Errorf("CalendarView(Dec 2-31) = %q, want day 05,day 20", got)
	}
	r = view(` MaxEntriesReturned="1" StartDate="2026-12-01T00:00:00Z" EndDate="2026-12-31T00:00:00Z"`, "calendar")
	if got := subjects(t, r); got != "day 01" || find(t, r.body, "RootFolder").attrOr("IncludesLastItemInRange", "") != "false" {
		t.Errorf("CalendarView(max 1) = %q, want day 01 and IncludesLastItemInRange false", got)
	}
	check(t, view(` StartDate="2026-12-01T00:00:00Z" EndDate="2026-12-31T00:00:00Z"`, "inbox"), want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorCalendarFolderIsInvalidForCalendarView}})
	check(t, view(` StartDate="2026-01-01T00:00:00Z" EndDate="2029-01-01T00:00:00Z"`, "calendar"), want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorCalendarViewRangeTooBig}})
}
