package scctest

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

// findConversationDocs is the request of the error example of Microsoft's
// "FindConversation operation" page, with the Id the answer complains of.
const findConversationDocs = `<?xml version="1.0" encoding="utf-8" ?>
<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
               xmlns:xsd="http://www.w3.org/2001/XMLSchema"
               xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
               xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
               xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header>
    <t:RequestServerVersion Version="Exchange2010_SP1" />
  </soap:Header>
  <soap:Body>
    <m:FindConversation>
      <m:IndexedPageItemView BasePoint="Beginning" MaxEntriesReturned="1" Offset="0"/>
      <m:ParentFolderId>
        <t:DistinguishedFolderId Id ="inbox1"/>
      </m:ParentFolderId>
    </m:FindConversation>
  </soap:Body>
</soap:Envelope>`

// TestSchemaFaultAsDocumented: the docs' example gets the docs' answer,
// line, position and violation text included.
func TestSchemaFaultAsDocumented(t *testing.T) {
	s := newTestServer(t)
	got := do(t, s, nil, req{user: testSvc, pass: testPassword, body: findConversationDocs})
	check(t, got, faultOf(ews.ErrorSchemaValidation))
	want := map[string]string{
		"LineNumber":   "14",
		"LinePosition": "34",
		"Violation":    "The 'Id' attribute is invalid - The value 'inbox1' is invalid according to its datatype 'http://schemas.microsoft.com/exchange/services/2006/types:DistinguishedFolderIdNameType' - The Enumeration constraint failed.",
	}
	if d := cmp.Diff(want, got.messageValues); d != "" {
		t.Errorf("fault MessageXml (-want +got):\n%s", d)
	}
}

// TestRequestValidation: what breaks the schema inside items is refused
// with ErrorSchemaValidation at the offending element, and nothing is
// stored; what is valid passes.
func TestRequestValidation(t *testing.T) {
	const ns = nsTypes
	tests := []struct {
		name      string
		item      string // the t:Message, on line 2 of the body
		violation string // "" = valid
		pos       int    // LinePosition on line 2
	}{
		{"valid", `<t:Message><t:Subject>s</t:Subject><t:Sensitivity>Private</t:Sensitivity><t:Body BodyType="HTML">&lt;p&gt;hi&lt;/p&gt;</t:Body><t:Importance>High</t:Importance>` +
			`<t:ExtendedProperty><t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="scc-when" PropertyType="SystemTime"/><t:Value>2020-01-01T00:00:00Z</t:Value></t:ExtendedProperty>` +
			`<t:ExtendedProperty><t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="scc-what" PropertyType="String"/><t:Value>x</t:Value></t:ExtendedProperty>` +
			`<t:ToRecipients><t:Mailbox><t:EmailAddress>bob@contoso.example</t:EmailAddress></t:Mailbox></t:ToRecipients><t:IsRead>1</t:IsRead></t:Message>`, "", 0},
		{"html elements in Body", `<t:Message><t:Body BodyType="HTML"><p>hi</p></t:Body></t:Message>`,
			"The element 'Body' in namespace '" + ns + "' cannot contain child element 'p' because the parent element's content model is text only.", 37},
		{"unknown child", `<t:Message><t:Subject>s</t:Subject><t:Colour>red</t:Colour></t:Message>`,
			"The element 'Message' in namespace '" + ns + "' has invalid child element 'Colour' in namespace '" + ns + "'. List of possible elements expected: '" + strings.Join(strings.Fields(itemSequences["Message"])[5:], ", ") + "' in namespace '" + ns + "'.", 37},
		{"wrong order", `<t:Message><t:Body BodyType="Text">b</t:Body><t:Subject>s</t:Subject></t:Message>`,
			"The element 'Message' in namespace '" + ns + "' has invalid child element 'Subject' in namespace '" + ns + "'. List of possible elements expected: '" + strings.Join(strings.Fields(itemSequences["Message"])[7:], ", ") + "' in namespace '" + ns + "'.", 47},
		{"twice", `<t:Message><t:Subject>a</t:Subject><t:Subject>b</t:Subject></t:Message>`,
			"The element 'Message' in namespace '" + ns + "' has invalid child element 'Subject' in namespace '" + ns + "'. List of possible elements expected: '" + strings.Join(strings.Fields(itemSequences["Message"])[5:], ", ") + "' in namespace '" + ns + "'.", 37},
		{"enum value", `<t:Message><t:Importance>Urgent</t:Importance></t:Message>`,
			"The '" + ns + ":Importance' element is invalid - The value 'Urgent' is invalid according to its datatype '" + ns + ":ImportanceChoicesType' - The Enumeration constraint failed.", 13},
		{"boolean", `<t:Message><t:IsRead>yes</t:IsRead></t:Message>`,
			"The '" + ns + ":IsRead' element is invalid - The value 'yes' is invalid according to its datatype 'http://www.w3.org/2001/XMLSchema:boolean' - The string 'yes' is not a valid Boolean value.", 13},
		{"dateTime", `<t:CalendarItem><t:Start>tomorrow</t:Start></t:CalendarItem>`,
			"The '" + ns + ":Start' element is invalid - The value 'tomorrow' is invalid according to its datatype 'http://www.w3.org/2001/XMLSchema:dateTime' - The string 'tomorrow' is not a valid AllXsd value.", 18},
		{"BodyType value", `<t:Message><t:Body  BodyType="html">b</t:Body></t:Message>`,
			"The 'BodyType' attribute is invalid - The value 'html' is invalid according to its datatype '" + ns + ":BodyTypeType' - The Enumeration constraint failed.", 21},
		{"BodyType missing", `<t:Message><t:Body>b</t:Body></t:Message>`, "The required attribute 'BodyType' is missing.", 13},
		{"nested in an attachment", `<t:Message><t:Attachments><t:ItemAttachment><t:Name>n</t:Name><t:Message><t:Body BodyType="Text"><b/></t:Body></t:Message></t:ItemAttachment></t:Attachments></t:Message>`,
			"The element 'Body' in namespace '" + ns + "' cannot contain child element 'b' because the parent element's content model is text only.", 99},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t)
			body := `<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="drafts"/></m:SavedItemFolderId><m:Items>` + "\n" + tc.item + "\n</m:Items></m:CreateItem>"
			got := do(t, s, nil, svcReq(imp(alice), body))
			items, err := s.Items(alice, "drafts")
			if err != nil {
				t.Fatal(err)
			}
			if tc.violation == "" {
				check(t, got, ok1())
				if len(items) != 1 {
					t.Errorf("Items(alice, drafts) = %d items, want 1", len(items))
				}
				return
			}
			check(t, got, faultOf(ews.ErrorSchemaValidation))
			// envelope() puts the whole request on line 1; the item is on
			// the body's line 2.
			want := map[string]string{"LineNumber": "2", "LinePosition": itoa(tc.pos), "Violation": tc.violation}
			if d := cmp.Diff(want, got.messageValues); d != "" {
				t.Errorf("fault MessageXml (-want +got):\n%s", d)
			}
			if len(items) != 0 {
				t.Errorf("Items(alice, drafts) = %d items after a schema fault, want 0", len(items))
			}
		})
	}
}

// sharedDir returns the shared reference directory (SCC_SHARED, as the
// .ci/checks use it, or ../shared beside the repository) or skips.
func sharedDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv("SCC_SHARED")
	if d == "" {
		d = filepath.Join("..", "..", "shared")
	}
	if _, err := os.Stat(filepath.Join(d, "ews-schema", "types.xsd")); err != nil {
		t.Skipf("no EWS schema under %s (set SCC_SHARED): %v", d, err)
	}
	return d
}

// xsdNode is a generic element of an XML Schema file.
type xsdNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Kids    []xsdNode  `xml:",any"`
}

func (n xsdNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// TestValidateTables checks the validator's tables against types.xsd.
func TestValidateTables(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(sharedDir(t), "ews-schema", "types.xsd"))
	if err != nil {
		t.Fatal(err)
	}
	var schema xsdNode
	if err := xml.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	complexTypes, simpleTypes := map[string]xsdNode{}, map[string]xsdNode{}
	for _, k := range schema.Kids {
		switch k.XMLName.Local {
		case "complexType":
			complexTypes[k.attr("name")] = k
		case "simpleType":
			simpleTypes[k.attr("name")] = k
		}
	}
	var find func(n xsdNode, local string) (xsdNode, bool)
	find = func(n xsdNode, local string) (xsdNode, bool) {
		for _, k := range n.Kids {
			if k.XMLName.Local == local {
				return k, true
			}
			if f, ok := find(k, local); ok {
				return f, true
			}
		}
		return xsdNode{}, false
	}
	// elements returns name -> type of a complex type's sequence, in order.
	var elements func(name string) [][2]string
	elements = func(name string) [][2]string {
		ct := complexTypes[name]
		var out [][2]string
		body := ct
		if ext, ok := find(ct, "extension"); ok && strings.HasPrefix(ext.attr("base"), "t:") {
			out = elements(strings.TrimPrefix(ext.attr("base"), "t:"))
			body = ext
		}
		for _, k := range body.Kids {
			if k.XMLName.Local == "sequence" {
				for _, e := range k.Kids {
					if e.XMLName.Local == "element" {
						out = append(out, [2]string{e.attr("name"), e.attr("type")})
					}
				}
			}
		}
		return out
	}
	for el, tn := range map[string]string{"Item": "ItemType", "Message": "MessageType", "CalendarItem": "CalendarItemType", "Contact": "ContactItemType", "Task": "TaskType", "FileAttachment": "FileAttachmentType"} {
		var names []string
		for _, e := range elements(tn) {
			names = append(names, e[0])
			typ := e[1]
			want, isSimple := "", false
			switch {
			case strings.HasPrefix(typ, "xs:"):
				want, isSimple = typ, true
			case simpleTypes[strings.TrimPrefix(typ, "t:")].XMLName.Local != "":
				st := simpleTypes[strings.TrimPrefix(typ, "t:")]
				want, isSimple = typ, true
				var r xsdNode // a restriction, not a union or list
				for _, k := range st.Kids {
					if k.XMLName.Local == "restriction" {
						r = k
					}
				}
				if r.XMLName.Local != "" {
					var vals []string
					for _, v := range r.Kids {
						if v.XMLName.Local == "enumeration" {
							vals = append(vals, v.attr("value"))
						}
					}
					if len(vals) > 0 {
						if got := enumValues[typ]; got != " "+strings.Join(vals, " ")+" " {
							t.Errorf("enumValues[%q] = %q, want %q", typ, got, " "+strings.Join(vals, " ")+" ")
						}
					} else if b := r.attr("base"); strings.HasPrefix(b, "xs:") {
						want = b
					}
				}
			default:
				if _, ok := find(complexTypes[strings.TrimPrefix(typ, "t:")], "simpleContent"); ok {
					want, isSimple = typ, true
				}
			}
			if got, ok := simpleFields[e[0]]; isSimple && (!ok || got != want) {
				t.Errorf("simpleFields[%q] = %q, want %q", e[0], got, want)
			}
		}
		if got, want := itemSequences[el], strings.Join(names, " "); got != want {
			t.Errorf("itemSequences[%q] = %q, want %q", el, got, want)
		}
	}
}
