package mailbox

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const crmSet = "39717984-7536-4d32-bf68-76afadbfe15c"

func crm(name string, t PropType) ExtendedFieldURI {
	return ExtendedFieldURI{PropertySetID: crmSet, PropertyName: name, Type: t}
}

func TestExtendedPropertyValues(t *testing.T) {
	tests := []struct {
		typ  PropType
		in   []string
		want []string
		err  *Error
	}{
		{PTString, []string{" keep spaces "}, []string{" keep spaces "}, nil},
		{PTStringArray, []string{"a", "b"}, []string{"a", "b"}, nil},
		{PTInteger, []string{"42"}, []string{"42"}, nil},
		{PTInteger, []string{"4294967295"}, []string{"4294967295"}, nil},
		{PTInteger, []string{"x"}, nil, ErrInvalidExtendedPropValue},
		{PTShort, []string{"70000"}, nil, ErrInvalidExtendedPropValue},
		{PTLong, []string{"-9000000000"}, []string{"-9000000000"}, nil},
		{PTCurrency, []string{"123"}, []string{"123"}, nil},
		{PTIntegerArray, []string{"1", "2"}, []string{"1", "2"}, nil},
		{PTBoolean, []string{"TRUE"}, []string{"true"}, nil},
		{PTBoolean, []string{"yes"}, nil, ErrInvalidExtendedPropValue},
		{PTDouble, []string{"1.50"}, []string{"1.5"}, nil},
		{PTFloat, []string{"NaN"}, nil, ErrInvalidExtendedPropValue},
		{PTApplicationTime, []string{"45000.5"}, []string{"45000.5"}, nil},
		{PTSystemTime, []string{"2024-06-01T10:00:00+02:00"}, []string{"2024-06-01T08:00:00Z"}, nil},
		{PTSystemTimeArray, []string{"2024-06-01T08:00:00Z", "2024-06-02"}, []string{"2024-06-01T08:00:00Z", "2024-06-02T00:00:00Z"}, nil},
		{PTCLSID, []string{"{6ED8DA90-450B-101B-98DA-00AA003F1305}"}, []string{"6ed8da90-450b-101b-98da-00aa003f1305"}, nil},
		{PTBinary, []string{"AQID"}, []string{"AQID"}, nil},
		{PTBinary, []string{"***"}, nil, ErrInvalidExtendedPropValue},
		{PTBinaryArray, []string{"AQID", "BA=="}, []string{"AQID", "BA=="}, nil},
		{PTString, []string{"a", "b"}, nil, ErrInvalidExtendedPropValue},
		{PTStringArray, nil, nil, ErrInvalidExtendedPropValue},
		{"Object", []string{"x"}, nil, ErrUnsupportedMapiType},
		{"BooleanArray", []string{"true"}, nil, ErrInvalidExtendedProperty},
		{"Strin", []string{"x"}, nil, ErrInvalidExtendedProperty},
	}
	for _, tc := range tests {
		t.Run(string(tc.typ)+"/"+strings.Join(tc.in, ","), func(t *testing.T) {
			m := newMailbox(t)
			u := crm("P", tc.typ)
			it, err := m.CreateItem("inbox", Item{Extended: []ExtendedProperty{{URI: u, Values: tc.in}}})
			wantErr(t, "CreateItem", err, tc.err)
			if err != nil {
				return
			}
			got, err := m.ItemExtendedProperties(it.ID, []ExtendedFieldURI{u})
			if err != nil || len(got) != 1 {
				t.Fatalf("ItemExtendedProperties = %v, %v", got, err)
			}
			if d := cmp.Diff(tc.want, got[0].Values); d != "" {
				t.Errorf("values (-want +got):\n%s", d)
			}
		})
	}
}

func TestExtendedFieldURIForms(t *testing.T) {
	tests := []struct {
		name string
		uri  ExtendedFieldURI
		echo ExtendedFieldURI
		err  *Error
	}{
		{"tag hex", ExtendedFieldURI{PropertyTag: "0x10F4", Type: PTBoolean}, ExtendedFieldURI{PropertyTag: "0x10f4", Type: PTBoolean}, nil},
		{"tag decimal", ExtendedFieldURI{PropertyTag: "4340", Type: PTBoolean}, ExtendedFieldURI{PropertyTag: "0x10f4", Type: PTBoolean}, nil},
		{"set+name", crm("CrmRecordId", PTString), crm("CrmRecordId", PTString), nil},
		{"upper-case set", ExtendedFieldURI{PropertySetID: strings.ToUpper(crmSet), PropertyName: "N", Type: PTString}, crm("N", PTString), nil},
		{"set+id hex", ExtendedFieldURI{PropertySetID: crmSet, PropertyID: "0x8005", Type: PTString}, ExtendedFieldURI{PropertySetID: crmSet, PropertyID: "32773", Type: PTString}, nil},
		{"distinguished", ExtendedFieldURI{DistinguishedPropertySetID: "PublicStrings", PropertyName: "CrmTag", Type: PTStringArray}, ExtendedFieldURI{DistinguishedPropertySetID: "PublicStrings", PropertyName: "CrmTag", Type: PTStringArray}, nil},
		{"no addressing", ExtendedFieldURI{Type: PTString}, ExtendedFieldURI{}, ErrInvalidExtendedProperty},
		{"tag and set", ExtendedFieldURI{PropertyTag: "0x10f4", PropertySetID: crmSet, Type: PTString}, ExtendedFieldURI{}, ErrInvalidExtendedProperty},
		{"name and id", ExtendedFieldURI{PropertySetID: crmSet, PropertyName: "a", PropertyID: "1", Type: PTString}, ExtendedFieldURI{}, ErrInvalidExtendedProperty},
		{"set without name", ExtendedFieldURI{PropertySetID: crmSet, Type: PTString}, ExtendedFieldURI{}, ErrInvalidExtendedProperty},
		{"bad guid", ExtendedFieldURI{PropertySetID: "not-a-guid", PropertyName: "a", Type: PTString}, ExtendedFieldURI{}, ErrInvalidExtendedProperty},
		{"unknown distinguished set", ExtendedFieldURI{DistinguishedPropertySetID: "Bogus", PropertyName: "a", Type: PTString}, ExtendedFieldURI{}, ErrInvalidExtendedProperty},
		{"named-range tag", ExtendedFieldURI{PropertyTag: "0x8001", Type: PTString}, ExtendedFieldURI{}, ErrNoPropertyTagForCustom},
		{"computed tag", ExtendedFieldURI{PropertyTag: "0x0E08", Type: PTInteger}, ExtendedFieldURI{}, ErrInvalidPropertySet},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMailbox(t)
			v := "1"
			if tc.uri.Type == PTBoolean {
				v = "true"
			}
			it, err := m.CreateItem("inbox", Item{Extended: []ExtendedProperty{{URI: tc.uri, Values: []string{v}}}})
			wantErr(t, "CreateItem", err, tc.err)
			if err != nil {
				return
			}
			if d := cmp.Diff(tc.echo, it.Extended[0].URI); d != "" {
				t.Errorf("stored URI (-want +got):\n%s", d)
			}
			// Found by any equivalent form.
			got, err := m.ItemExtendedProperties(it.ID, []ExtendedFieldURI{tc.echo})
			if err != nil || len(got) != 1 {
				t.Errorf("lookup by the echoed form = %v, %v", got, err)
			}
		})
	}
}

func TestExtendedPropertyTypeIsPartOfIdentity(t *testing.T) {
	m := newMailbox(t)
	it := mustItem(t, m, "inbox", Item{Extended: []ExtendedProperty{
		{URI: crm("X", PTString), Values: []string{"s"}},
		{URI: crm("X", PTInteger), Values: []string{"7"}},
	}})
	if len(it.Extended) != 2 {
		t.Fatalf("Extended = %+v, want two properties (a MAPI tag includes the type)", it.Extended)
	}
	// A second value for the same property replaces the first.
	it = mustItem(t, m, "inbox", Item{Extended: []ExtendedProperty{
		{URI: crm("X", PTString), Values: []string{"1"}},
		{URI: crm("X", PTString), Values: []string{"2"}},
	}})
	if len(it.Extended) != 1 || it.Extended[0].Values[0] != "2" {
		t.Errorf("Extended = %+v, want the last value", it.Extended)
	}
}

func TestComputedItemProperties(t *testing.T) {
	m := newMailbox(t)
	it := mustItem(t, m, "inbox", Item{Subject: "size", Importance: "High", Sensitivity: "Private", IsRead: true,
		InternetMessageID: "<m@x>", Headers: []Header{{Name: "X-A", Value: "1"}}})
	if _, _, err := m.AddAttachment(it.ID, Attachment{Name: "a.txt", Content: []byte("abc")}); err != nil {
		t.Fatal(err)
	}
	it, _ = m.GetItem(it.ID)
	tag := func(t string, ty PropType) ExtendedFieldURI { return ExtendedFieldURI{PropertyTag: t, Type: ty} }
	got, err := m.ItemExtendedProperties(it.ID, []ExtendedFieldURI{
		tag("0x0E08", PTInteger), tag("0x0E07", PTInteger), tag("0x0E1B", PTBoolean), tag("0x001A", PTString),
		tag("0x0037", PTString), tag("0x0017", PTInteger), tag("0x0036", PTInteger), tag("0x1035", PTString),
		tag("0x007D", PTString), tag("0x0E08", PTString), // wrong type: not there
	})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got {
		s = append(s, p.URI.PropertyTag+"="+p.Values[0])
	}
	want := []string{"0xe08=" + strconv.Itoa(it.Size), "0xe07=17", "0xe1b=true", "0x1a=IPM.Note", "0x37=size", "0x17=2", "0x36=2", "0x1035=<m@x>", "0x7d=X-A: 1\r\n"}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("computed properties (-want +got):\n%s", d)
	}
	eid, _ := m.ItemExtendedProperties(it.ID, []ExtendedFieldURI{tag("0x0FFF", PTBinary), tag("0x3008", PTSystemTime)})
	if len(eid) != 2 || eid[0].Values[0] == "" {
		t.Errorf("PR_ENTRYID / PR_LAST_MODIFICATION_TIME = %+v", eid)
	}
}

func TestKeywordsAreCategories(t *testing.T) {
	m := newMailbox(t)
	kw := ExtendedFieldURI{DistinguishedPropertySetID: "PublicStrings", PropertyName: "Keywords", Type: PTStringArray}
	it := mustItem(t, m, "inbox", Item{Extended: []ExtendedProperty{{URI: kw, Values: []string{"CRM", "VIP"}}}})
	if d := cmp.Diff([]string{"CRM", "VIP"}, it.Categories); d != "" || len(it.Extended) != 0 {
		t.Errorf("Keywords on create: categories %v extended %v", it.Categories, it.Extended)
	}
	res, err := m.UpdateItem(it.ID, it.ChangeKey, AutoResolve, []Update{{Op: SetField, Path: Field("item:Categories"), Value: Item{Categories: []string{"Customer"}}}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := m.ItemExtendedProperties(it.ID, []ExtendedFieldURI{kw})
	if len(got) != 1 || cmp.Diff([]string{"Customer"}, got[0].Values) != "" {
		t.Errorf("Keywords after setting categories = %+v", got)
	}
	res, err = m.UpdateItem(it.ID, res.Item.ChangeKey, AutoResolve, []Update{{Op: SetField, Path: Extended(kw), Value: Item{Extended: []ExtendedProperty{{URI: kw, Values: []string{"A", "B"}}}}}})
	if err != nil || cmp.Diff([]string{"A", "B"}, res.Item.Categories) != "" || len(res.Item.Extended) != 0 {
		t.Errorf("set Keywords = %v %v, %v", res.Item.Categories, res.Item.Extended, err)
	}
	found, _ := m.FindItems("inbox", Query{Restriction: Compare{Op: IsEqualTo, Path: Extended(kw), Constant: "b"}})
	if found.Total != 1 {
		t.Errorf("IsEqualTo on Keywords found %d", found.Total)
	}
	res, _ = m.UpdateItem(it.ID, res.Item.ChangeKey, AutoResolve, []Update{{Op: DeleteField, Path: Extended(kw)}})
	if len(res.Item.Categories) != 0 {
		t.Errorf("delete Keywords left categories %v", res.Item.Categories)
	}
}
