package mailbox

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// restrictFixture is a folder of items to query.
func restrictFixture(t testing.TB) (*Mailbox, string) {
	t.Helper()
	m := newMailbox(t)
	f := mustFolder(t, m, "msgfolderroot", NewFolder{DisplayName: "Q"})
	day := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for i, x := range []struct {
		subj string
		cats []string
		read bool
		crm  string
		n    string
	}{
		{"Invoice 17 for Fabrikam", []string{"CRM"}, false, "c-1", "5"},
		{"Re: invoice question", nil, true, "", "10"},
		{"Café meeting notes", []string{"vip", "Customer"}, false, "c-2", ""},
		{"Quarterly report", []string{"Report"}, true, "C-3", "-3"},
	} {
		it := Item{Subject: x.subj, Categories: x.cats, IsRead: x.read, Received: day.AddDate(0, 0, i)}
		if x.crm != "" {
			it.Extended = append(it.Extended, ExtendedProperty{URI: crm("CrmRecordId", PTString), Values: []string{x.crm}})
		}
		if x.n != "" {
			it.Extended = append(it.Extended, ExtendedProperty{URI: crm("N", PTInteger), Values: []string{x.n}})
		}
		mustItem(t, m, f.ID, it)
	}
	return m, f.ID
}

func subjects(r FindResult) []string {
	var out []string
	for _, it := range r.Items {
		out = append(out, it.Subject)
	}
	return out
}

func TestRestrictions(t *testing.T) {
	subj := Field("item:Subject")
	id := Extended(crm("CrmRecordId", PTString))
	n := Extended(crm("N", PTInteger))
	ascending := []SortKey{{Path: Field("item:DateTimeReceived")}}
	tests := []struct {
		name string
		r    Restriction
		want []string
		err  *Error
	}{
		{"equal extended, case-insensitive", Compare{Op: IsEqualTo, Path: id, Constant: "c-3"}, []string{"Quarterly report"}, nil},
		{"not equal skips items without the property", Compare{Op: IsNotEqualTo, Path: id, Constant: "c-1"}, []string{"Café meeting notes", "Quarterly report"}, nil},
		{"greater integer", Compare{Op: IsGreaterThan, Path: n, Constant: "0"}, []string{"Invoice 17 for Fabrikam", "Re: invoice question"}, nil},
		{"less or equal integer", Compare{Op: IsLessThanOrEqualTo, Path: n, Constant: "5"}, []string{"Invoice 17 for Fabrikam", "Quarterly report"}, nil},
		{"date", Compare{Op: IsGreaterThanOrEqualTo, Path: Field("item:DateTimeReceived"), Constant: "2024-06-03T00:00:00Z"}, []string{"Café meeting notes", "Quarterly report"}, nil},
		{"boolean", Compare{Op: IsEqualTo, Path: Field("message:IsRead"), Constant: "true"}, []string{"Re: invoice question", "Quarterly report"}, nil},
		{"categories any element", Compare{Op: IsEqualTo, Path: Field("item:Categories"), Constant: "VIP"}, []string{"Café meeting notes"}, nil},
		{"contains substring ignore case", Contains{Path: subj, Value: "INVOICE", Mode: Substring, Comparison: IgnoreCase}, []string{"Invoice 17 for Fabrikam", "Re: invoice question"}, nil},
		{"contains exact is case-sensitive", Contains{Path: subj, Value: "invoice", Mode: Substring, Comparison: Exact}, []string{"Re: invoice question"}, nil},
		{"contains prefixed", Contains{Path: subj, Value: "Re:", Mode: Prefixed}, []string{"Re: invoice question"}, nil},
		{"contains full string", Contains{Path: subj, Value: "quarterly REPORT", Mode: FullString, Comparison: IgnoreCase}, []string{"Quarterly report"}, nil},
		{"contains prefix on words", Contains{Path: subj, Value: "quest", Mode: PrefixOnWords, Comparison: IgnoreCase}, []string{"Re: invoice question"}, nil},
		{"contains exact phrase", Contains{Path: subj, Value: "meeting notes", Mode: ExactPhrase, Comparison: IgnoreCase}, []string{"Café meeting notes"}, nil},
		{"contains ignoring accents", Contains{Path: subj, Value: "cafe", Mode: Prefixed, Comparison: IgnoreCaseAndNonSpacingCharacters}, []string{"Café meeting notes"}, nil},
		{"accents matter with IgnoreCase", Contains{Path: subj, Value: "cafe", Mode: Prefixed, Comparison: IgnoreCase}, nil, nil},
		{"exists", Exists{Path: id}, []string{"Invoice 17 for Fabrikam", "Café meeting notes", "Quarterly report"}, nil},
		{"not exists", Not{Exists{Path: id}}, []string{"Re: invoice question"}, nil},
		{"and/or", And{Compare{Op: IsEqualTo, Path: Field("message:IsRead"), Constant: "false"},
			Or{Contains{Path: subj, Value: "invoice", Comparison: IgnoreCase}, Compare{Op: IsEqualTo, Path: Field("item:Categories"), Constant: "customer"}}},
			[]string{"Invoice 17 for Fabrikam", "Café meeting notes"}, nil},
		{"excludes", Excludes{Path: Extended(ExtendedFieldURI{PropertyTag: "0x0E07", Type: PTInteger}), Bitmask: "0x1"}, []string{"Invoice 17 for Fabrikam", "Café meeting notes"}, nil},
		{"compare two fields", Compare{Op: IsEqualTo, Path: Field("item:DateTimeReceived"), Other: &Path{Field: "item:DateTimeReceived"}}, []string{"Invoice 17 for Fabrikam", "Re: invoice question", "Café meeting notes", "Quarterly report"}, nil},
		{"computed size", Compare{Op: IsGreaterThan, Path: Field("item:Size"), Constant: "0"}, []string{"Invoice 17 for Fabrikam", "Re: invoice question", "Café meeting notes", "Quarterly report"}, nil},

		{"unknown field", Compare{Op: IsEqualTo, Path: Field("item:Bogus"), Constant: "x"}, nil, ErrUnsupportedPathForQuery},
		{"recipients not searchable", Compare{Op: IsEqualTo, Path: Field("message:ToRecipients"), Constant: "x"}, nil, ErrUnsupportedPathForQuery},
		{"indexed without index", Compare{Op: IsEqualTo, Path: Field("contacts:EmailAddress"), Constant: "x"}, nil, ErrUnsupportedPathForQuery},
		{"contains on boolean", Contains{Path: Field("message:IsRead"), Value: "true"}, nil, ErrContainsFilterWrongType},
		{"contains on categories", Contains{Path: Field("item:Categories"), Value: "x"}, nil, ErrContainsFilterWrongType},
		{"contains on integer extended", Contains{Path: n, Value: "1"}, nil, ErrContainsFilterWrongType},
		{"exists on flag", Exists{Path: Field("message:IsRead")}, nil, ErrInvalidPropertyForExists},
		{"bad constant", Compare{Op: IsGreaterThan, Path: Field("item:DateTimeCreated"), Constant: "true"}, nil, ErrInvalidValueForProperty},
		{"bad boolean", Compare{Op: IsEqualTo, Path: Field("message:IsRead"), Constant: "maybe"}, nil, ErrInvalidValueForProperty},
		{"empty and", And{}, nil, ErrRestrictionTooComplex},
		{"nil child", And{nil}, nil, ErrRestrictionTooComplex},
		{"bad extended uri", Exists{Path: Extended(ExtendedFieldURI{PropertyTag: "0x9000", Type: PTString})}, nil, ErrNoPropertyTagForCustom},
		{"bad mode", Contains{Path: subj, Value: "x", Mode: "Fuzzy"}, nil, ErrInvalidValueForProperty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, f := restrictFixture(t)
			res, err := m.FindItems(f, Query{Restriction: tc.r, Sort: ascending})
			wantErr(t, "FindItems", err, tc.err)
			if err != nil {
				return
			}
			if d := cmp.Diff(tc.want, subjects(res)); d != "" {
				t.Errorf("FindItems (-want +got):\n%s", d)
			}
			if res.Total != len(tc.want) || !res.IncludesLast {
				t.Errorf("Total %d IncludesLast %v", res.Total, res.IncludesLast)
			}
		})
	}
}

func TestRestrictionTooLong(t *testing.T) {
	var or Or
	for i := 0; i < MaxRestrictionNodes; i++ {
		or = append(or, Exists{Path: Field("item:Subject")})
	}
	err := ValidateRestriction(or, TargetItems)
	wantErr(t, "ValidateRestriction(256 nodes)", err, ErrRestrictionTooLong)
	err = ValidateRestriction(or[:MaxRestrictionNodes-1], TargetItems)
	wantErr(t, "ValidateRestriction(255 nodes)", err, nil)
}

func TestSortAndPaging(t *testing.T) {
	m, f := restrictFixture(t)
	tests := []struct {
		name string
		q    Query
		want []string
		last bool
		err  *Error
	}{
		{"default newest first", Query{}, []string{"Quarterly report", "Café meeting notes", "Re: invoice question", "Invoice 17 for Fabrikam"}, true, nil},
		{"subject ascending", Query{Sort: []SortKey{{Path: Field("item:Subject")}}}, []string{"Café meeting notes", "Invoice 17 for Fabrikam", "Quarterly report", "Re: invoice question"}, true, nil},
		{"read then subject descending", Query{Sort: []SortKey{{Path: Field("message:IsRead")}, {Path: Field("item:Subject"), Descending: true}}},
			[]string{"Invoice 17 for Fabrikam", "Café meeting notes", "Re: invoice question", "Quarterly report"}, true, nil},
		{"extended integer, missing first", Query{Sort: []SortKey{{Path: Extended(crm("N", PTInteger))}}},
			[]string{"Café meeting notes", "Quarterly report", "Invoice 17 for Fabrikam", "Re: invoice question"}, true, nil},
		{"page", Query{Sort: []SortKey{{Path: Field("item:Subject")}}, Offset: 1, Max: 2}, []string{"Invoice 17 for Fabrikam", "Quarterly report"}, false, nil},
		{"offset past end", Query{Offset: 10}, nil, true, nil},
		{"multi-valued sort", Query{Sort: []SortKey{{Path: Field("item:Categories")}}}, nil, false, ErrUnsupportedPathForSort},
		{"body sort", Query{Sort: []SortKey{{Path: Field("item:Body")}}}, nil, false, ErrUnsupportedPathForSort},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := m.FindItems(f, tc.q)
			wantErr(t, "FindItems", err, tc.err)
			if err != nil {
				return
			}
			if d := cmp.Diff(tc.want, subjects(res)); d != "" {
				t.Errorf("FindItems (-want +got):\n%s", d)
			}
			if res.Total != 4 || res.IncludesLast != tc.last {
				t.Errorf("Total %d IncludesLast %v, want 4 %v", res.Total, res.IncludesLast, tc.last)
			}
		})
	}
}

func TestFolderRestrictions(t *testing.T) {
	m := newMailbox(t)
	mustFolder(t, m, "msgfolderroot", NewFolder{DisplayName: "CRM Contacts", Kind: ContactsFolder,
		Extended: []ExtendedProperty{{URI: crm("Owner", PTString), Values: []string{"sync"}}}})
	mustFolder(t, m, "msgfolderroot", NewFolder{DisplayName: "CRM Mail", Class: "IPF.Note"})
	tests := []struct {
		name string
		r    Restriction
		want []string
		err  *Error
	}{
		{"by name", Compare{Op: IsEqualTo, Path: Field("folder:DisplayName"), Constant: "crm mail"}, []string{"CRM Mail"}, nil},
		{"by class", Compare{Op: IsEqualTo, Path: Field("folder:FolderClass"), Constant: "IPF.Contact"}, []string{"Contacts", "CRM Contacts"}, nil},
		{"by extended", Exists{Path: Extended(crm("Owner", PTString))}, []string{"CRM Contacts"}, nil},
		{"by computed", And{Contains{Path: Field("folder:DisplayName"), Value: "CRM", Mode: Prefixed}, Compare{Op: IsEqualTo, Path: Extended(ExtendedFieldURI{PropertyTag: "0x3602", Type: PTInteger}), Constant: "0"}}, []string{"CRM Contacts", "CRM Mail"}, nil},
		{"item field on folders", Compare{Op: IsEqualTo, Path: Field("item:Subject"), Constant: "x"}, nil, ErrUnsupportedPathForQuery},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := m.FindFoldersQuery("msgfolderroot", Shallow, Query{Restriction: tc.r})
			wantErr(t, "FindFoldersQuery", err, tc.err)
			if err != nil {
				return
			}
			var names []string
			for _, f := range res.Folders {
				names = append(names, f.DisplayName)
			}
			if d := cmp.Diff(tc.want, names); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// randomRestriction builds a random AST of paths the model knows and
// ones it does not.
func randomRestriction(r *rand.Rand, depth int) Restriction {
	paths := []Path{Field("item:Subject"), Field("item:Categories"), Field("message:IsRead"), Field("item:Size"),
		Field("item:DateTimeReceived"), Field("contacts:EmailAddress"), Indexed("contacts:EmailAddress", "EmailAddress1"),
		Field("task:PercentComplete"), Field("bogus"), Extended(crm("N", PTInteger)), Extended(crm("CrmRecordId", PTString)),
		Extended(ExtendedFieldURI{PropertyTag: "0x0E07", Type: PTInteger}), Extended(crm("A", PTStringArray)), Extended(ExtendedFieldURI{Type: "x"})}
	consts := []string{"", "0", "-1", "true", "2024-06-01T00:00:00Z", "c-1", "ü", "9999999999999999999999", "0x10"}
	p := paths[r.Intn(len(paths))]
	c := consts[r.Intn(len(consts))]
	if depth > 3 {
		return Exists{Path: p}
	}
	switch r.Intn(9) {
	case 0:
		return Compare{Op: CompareOp(r.Intn(8)), Path: p, Constant: c}
	case 1:
		q := paths[r.Intn(len(paths))]
		return Compare{Op: IsEqualTo, Path: p, Other: &q}
	case 2:
		return Contains{Path: p, Value: c, Mode: []ContainmentMode{"", FullString, Prefixed, Substring, PrefixOnWords, ExactPhrase}[r.Intn(6)],
			Comparison: []ContainmentComparison{"", Exact, IgnoreCase, IgnoreNonSpacingCharacters, Loose}[r.Intn(5)]}
	case 3:
		return Excludes{Path: p, Bitmask: c}
	case 4:
		return Exists{Path: p}
	case 5:
		return Not{randomRestriction(r, depth+1)}
	case 6, 7:
		var l []Restriction
		for i := r.Intn(4); i > 0; i-- {
			l = append(l, randomRestriction(r, depth+1))
		}
		if r.Intn(2) == 0 {
			return And(l)
		}
		return Or(l)
	}
	return nil
}

func FuzzRestriction(f *testing.F) {
	for i := int64(0); i < 8; i++ {
		f.Add(i)
	}
	m, folder := restrictFixture(f)
	mustItem(f, m, folder, Item{Kind: Message, Extended: []ExtendedProperty{{URI: crm("A", PTStringArray), Values: []string{"x", "y"}}}})
	f.Fuzz(func(t *testing.T, seed int64) {
		r := rand.New(rand.NewSource(seed))
		q := Query{Restriction: randomRestriction(r, 0)}
		if r.Intn(2) == 0 {
			q.Sort = []SortKey{{Path: []Path{Field("item:Subject"), Field("item:Size"), Extended(crm("N", PTInteger)), Field("bogus")}[r.Intn(4)], Descending: r.Intn(2) == 0}}
		}
		res, err := m.FindItems(folder, q)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("FindItems(%#v) = %T %v, want a *Error", q.Restriction, err, err)
			}
			return
		}
		if res.Total > 5 {
			t.Fatalf("FindItems(%#v) returned %d of 5 items", q.Restriction, res.Total)
		}
		if _, err := m.FindFoldersQuery("root", Deep, Query{Restriction: q.Restriction}); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("FindFoldersQuery = %T %v", err, err)
			}
		}
	})
}

func bigFolder(b *testing.B) (*Mailbox, string) {
	m := newMailbox(b)
	f := mustFolder(b, m, "msgfolderroot", NewFolder{DisplayName: "Big", Kind: ContactsFolder})
	for i := 0; i < 10000; i++ {
		mustItem(b, m, f.ID, Item{Kind: Contact, Subject: fmt.Sprint("contact ", i),
			Extended: []ExtendedProperty{
				{URI: crm("CrmSyncHash", PTBinary), Values: []string{"AQID"}},
				{URI: crm("CrmRecordId", PTString), Values: []string{fmt.Sprintf("contact-%06d", i)}},
			}})
	}
	return m, f.ID
}

// BenchmarkFindItemsExtendedEqual is the target: IsEqualTo on an
// extended property over a 10,000-item folder (served from the index).
func BenchmarkFindItemsExtendedEqual(b *testing.B) {
	m, f := bigFolder(b)
	q := Query{Restriction: Compare{Op: IsEqualTo, Path: Extended(crm("CrmRecordId", PTString)), Constant: "contact-004242"}, Max: 2}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := m.FindItems(f, q)
		if err != nil || res.Total != 1 {
			b.Fatalf("FindItems = %d, %v", res.Total, err)
		}
	}
}

// BenchmarkFindItemsScan is a restriction no index serves: Contains on
// an extended property over the same folder.
func BenchmarkFindItemsScan(b *testing.B) {
	m, f := bigFolder(b)
	q := Query{Restriction: Contains{Path: Extended(crm("CrmRecordId", PTString)), Value: "004242", Mode: Substring}, Max: 2}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := m.FindItems(f, q)
		if err != nil || res.Total != 1 {
			b.Fatalf("FindItems = %d, %v", res.Total, err)
		}
	}
}

func TestExtendedIndexFollowsWrites(t *testing.T) {
	m, f := restrictFixture(t)
	id := Extended(crm("CrmRecordId", PTString))
	find := func(v string) []string {
		t.Helper()
		res, err := m.FindItems(f, Query{Restriction: And{Compare{Op: IsEqualTo, Path: id, Constant: v}, Exists{Path: Field("item:Subject")}}})
		if err != nil {
			t.Fatal(err)
		}
		return subjects(res)
	}
	if got := find("C-1"); len(got) != 1 {
		t.Fatalf("find(C-1) = %v", got)
	}
	// The index now exists; writes must keep it current.
	res, _ := m.FindItems(f, Query{Restriction: Compare{Op: IsEqualTo, Path: id, Constant: "c-1"}})
	it := res.Items[0]
	up := Update{Op: SetField, Path: id, Value: Item{Extended: []ExtendedProperty{{URI: crm("CrmRecordId", PTString), Values: []string{"c-9"}}}}}
	if _, err := m.UpdateItem(it.ID, it.ChangeKey, AutoResolve, []Update{up}); err != nil {
		t.Fatal(err)
	}
	if got := find("c-1"); len(got) != 0 {
		t.Errorf("after the update find(c-1) = %v", got)
	}
	if got := find("c-9"); len(got) != 1 {
		t.Errorf("after the update find(c-9) = %v", got)
	}
	n := mustItem(t, m, f, Item{Subject: "new", Extended: []ExtendedProperty{{URI: crm("CrmRecordId", PTString), Values: []string{"c-9"}}}})
	if got := find("c-9"); len(got) != 2 {
		t.Errorf("after a create find(c-9) = %v", got)
	}
	if _, err := m.MoveItem(n.ID, "inbox"); err != nil {
		t.Fatal(err)
	}
	if got := find("c-9"); len(got) != 1 {
		t.Errorf("after a move out find(c-9) = %v", got)
	}
	res, _ = m.FindItems(f, Query{Restriction: Compare{Op: IsEqualTo, Path: id, Constant: "c-9"}})
	if _, err := m.DeleteItem(res.Items[0].ID, HardDelete); err != nil {
		t.Fatal(err)
	}
	if got := find("c-9"); len(got) != 0 {
		t.Errorf("after a delete find(c-9) = %v", got)
	}
}
