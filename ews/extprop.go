package ews

import (
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// Path names one property in a shape, an update, a restriction or a sort
// order: a [FieldURI] (t:FieldURI), an [IndexedFieldURI]
// (t:IndexedFieldURI) or an [ExtendedFieldURI] (t:ExtendedFieldURI).
type Path interface {
	// writePath checks the path and appends its element to parent.
	writePath(op string, parent *etree.Element) error
	// String returns the path as a human reads it in an error message.
	String() string
}

// String returns the FieldURI.
func (f FieldURI) String() string { return string(f) }

func (f FieldURI) writePath(op string, parent *etree.Element) error {
	if f == "" || strings.ContainsAny(string(f), " \t\r\n") || !strings.Contains(string(f), ":") {
		return invalidf("%s: property %q is not a FieldURI like item:Subject", op, clip(string(f)))
	}
	if err := checkText(op, "property", string(f)); err != nil {
		return err
	}
	parent.CreateElement("t:FieldURI").CreateAttr("FieldURI", string(f))
	return nil
}

// IndexedFieldURI names one entry of a dictionary property
// (t:IndexedFieldURI), e.g. the second e-mail address of a contact:
// IndexedFieldURI{FieldURI: FieldContactEmailAddress, FieldIndex: "EmailAddress2"}.
type IndexedFieldURI struct {
	FieldURI   FieldURI
	FieldIndex string
}

// String returns "uri[index]".
func (f IndexedFieldURI) String() string { return string(f.FieldURI) + "[" + f.FieldIndex + "]" }

func (f IndexedFieldURI) writePath(op string, parent *etree.Element) error {
	if f.FieldURI == "" || !strings.Contains(string(f.FieldURI), ":") || strings.ContainsAny(string(f.FieldURI), " \t\r\n") {
		return invalidf("%s: indexed property %q is not a FieldURI like contacts:EmailAddress", op, clip(string(f.FieldURI)))
	}
	if f.FieldIndex == "" {
		return invalidf("%s: indexed property %s has no FieldIndex", op, f.FieldURI)
	}
	if err := checkText(op, "indexed property", string(f.FieldURI)+f.FieldIndex); err != nil {
		return err
	}
	e := parent.CreateElement("t:IndexedFieldURI")
	e.CreateAttr("FieldURI", string(f.FieldURI))
	e.CreateAttr("FieldIndex", f.FieldIndex)
	return nil
}

// PropertyType is the MAPI type of an extended property
// (t:ExtendedFieldURI/@PropertyType).
type PropertyType string

// The property types EWS can set and read. The *Array types carry several
// values (ExtendedProperty.Values), the others one (ExtendedProperty.Value).
const (
	PropertyApplicationTime      PropertyType = "ApplicationTime"
	PropertyApplicationTimeArray PropertyType = "ApplicationTimeArray"
	PropertyBinary               PropertyType = "Binary"
	PropertyBinaryArray          PropertyType = "BinaryArray"
	PropertyBoolean              PropertyType = "Boolean"
	PropertyCLSID                PropertyType = "CLSID"
	PropertyCLSIDArray           PropertyType = "CLSIDArray"
	PropertyCurrency             PropertyType = "Currency"
	PropertyCurrencyArray        PropertyType = "CurrencyArray"
	PropertyDouble               PropertyType = "Double"
	PropertyDoubleArray          PropertyType = "DoubleArray"
	PropertyFloat                PropertyType = "Float"
	PropertyFloatArray           PropertyType = "FloatArray"
	PropertyInteger              PropertyType = "Integer"
	PropertyIntegerArray         PropertyType = "IntegerArray"
	PropertyLong                 PropertyType = "Long"
	PropertyLongArray            PropertyType = "LongArray"
	PropertyShort                PropertyType = "Short"
	PropertyShortArray           PropertyType = "ShortArray"
	PropertySystemTime           PropertyType = "SystemTime"
	PropertySystemTimeArray      PropertyType = "SystemTimeArray"
	PropertyString               PropertyType = "String"
	PropertyStringArray          PropertyType = "StringArray"
)

// IsArray reports whether t is one of the *Array types.
func (t PropertyType) IsArray() bool { return strings.HasSuffix(string(t), "Array") }

func (t PropertyType) known() bool {
	switch t {
	case PropertyApplicationTime, PropertyApplicationTimeArray, PropertyBinary, PropertyBinaryArray,
		PropertyBoolean, PropertyCLSID, PropertyCLSIDArray, PropertyCurrency, PropertyCurrencyArray,
		PropertyDouble, PropertyDoubleArray, PropertyFloat, PropertyFloatArray, PropertyInteger,
		PropertyIntegerArray, PropertyLong, PropertyLongArray, PropertyShort, PropertyShortArray,
		PropertySystemTime, PropertySystemTimeArray, PropertyString, PropertyStringArray:
		return true
	}
	return false
}

// DistinguishedPropertySet is a well-known property set
// (t:ExtendedFieldURI/@DistinguishedPropertySetId).
type DistinguishedPropertySet string

// The well-known property sets.
const (
	PropertySetMeeting           DistinguishedPropertySet = "Meeting"
	PropertySetAppointment       DistinguishedPropertySet = "Appointment"
	PropertySetCommon            DistinguishedPropertySet = "Common"
	PropertySetPublicStrings     DistinguishedPropertySet = "PublicStrings"
	PropertySetAddress           DistinguishedPropertySet = "Address"
	PropertySetInternetHeaders   DistinguishedPropertySet = "InternetHeaders"
	PropertySetCalendarAssistant DistinguishedPropertySet = "CalendarAssistant"
	PropertySetUnifiedMessaging  DistinguishedPropertySet = "UnifiedMessaging"
	PropertySetTask              DistinguishedPropertySet = "Task"
	PropertySetSharing           DistinguishedPropertySet = "Sharing"
)

// propertySetGUIDs maps the well-known sets to their GUIDs (MS-OXPROPS
// PSETID_*), in lower case. Servers may echo either form.
var propertySetGUIDs = map[DistinguishedPropertySet]string{
	PropertySetMeeting:           "6ed8da90-450b-101b-98da-00aa003f1305",
	PropertySetAppointment:       "00062002-0000-0000-c000-000000000046",
	PropertySetCommon:            "00062008-0000-0000-c000-000000000046",
	PropertySetPublicStrings:     "00020329-0000-0000-c000-000000000046",
	PropertySetAddress:           "00062004-0000-0000-c000-000000000046",
	PropertySetInternetHeaders:   "00020386-0000-0000-c000-000000000046",
	PropertySetCalendarAssistant: "11000e07-b51b-40d6-af21-caa85edab1d0",
	PropertySetUnifiedMessaging:  "4442858e-a9e3-4e80-b900-317a210cc15b",
	PropertySetTask:              "00062003-0000-0000-c000-000000000046",
	PropertySetSharing:           "00062040-0000-0000-c000-000000000046",
}

// ExtendedFieldURI names a MAPI property (t:ExtendedFieldURI). Set
// PropertyType and exactly one addressing form:
//
//   - PropertyTag alone, "0x0E07" or "3591": a tagged property (0x0001 to
//     0x7FFF);
//   - PropertySetID (a GUID) or DistinguishedPropertySetID, plus either
//     PropertyName or PropertyID: a named property.
//
// A sync engine keeps its own data (an external record id) in a named
// property of one GUID of its own:
//
//	ews.ExtendedFieldURI{PropertySetID: "39717984-7536-4d32-bf68-76afadbfe15c",
//		PropertyName: "CrmRecordId", PropertyType: ews.PropertyString}
type ExtendedFieldURI struct {
	PropertyTag                string
	PropertySetID              string
	DistinguishedPropertySetID DistinguishedPropertySet
	PropertyName               string
	// PropertyID is the numeric id of a named property; 0 means unset.
	PropertyID   int32
	PropertyType PropertyType
}

// String describes the property.
func (u ExtendedFieldURI) String() string {
	var b strings.Builder
	switch {
	case u.PropertyTag != "":
		b.WriteString("tag " + u.PropertyTag)
	default:
		if u.DistinguishedPropertySetID != "" {
			b.WriteString(string(u.DistinguishedPropertySetID))
		} else {
			b.WriteString("{" + u.PropertySetID + "}")
		}
		if u.PropertyName != "" {
			b.WriteString("/" + u.PropertyName)
		} else {
			b.WriteString("/" + strconv.Itoa(int(u.PropertyID)))
		}
	}
	b.WriteString(" (" + string(u.PropertyType) + ")")
	return b.String()
}

// validate checks the addressing rules EWS enforces.
func (u ExtendedFieldURI) validate(op string) error {
	if !u.PropertyType.known() {
		return invalidf("%s: extended property %s: PropertyType %q is not a type EWS can set or read", op, clip(u.String()), clip(string(u.PropertyType)))
	}
	sets := 0
	if u.PropertySetID != "" {
		sets++
		if !isGUID(u.PropertySetID) {
			return invalidf("%s: extended property PropertySetID %q is not a GUID like 39717984-7536-4d32-bf68-76afadbfe15c", op, clip(u.PropertySetID))
		}
	}
	if u.DistinguishedPropertySetID != "" {
		sets++
		if _, ok := propertySetGUIDs[u.DistinguishedPropertySetID]; !ok {
			return invalidf("%s: extended property DistinguishedPropertySetID %q is not a well-known set such as PublicStrings", op, clip(string(u.DistinguishedPropertySetID)))
		}
	}
	named := 0
	if u.PropertyName != "" {
		named++
		if err := checkText(op, "extended property name", u.PropertyName); err != nil {
			return err
		}
	}
	if u.PropertyID != 0 {
		named++
	}
	if u.PropertyTag != "" {
		if sets > 0 || named > 0 {
			return invalidf("%s: extended property %s: PropertyTag goes alone, without a property set, name or id", op, clip(u.String()))
		}
		tag, ok := parsePropertyTag(u.PropertyTag)
		if !ok {
			return invalidf("%s: extended property PropertyTag %q is not a number like 0x0E07", op, clip(u.PropertyTag))
		}
		if tag < 1 || tag >= 0x8000 {
			return invalidf("%s: extended property PropertyTag %s is outside 0x0001..0x7FFF; address named properties by property set and name or id", op, clip(u.PropertyTag))
		}
		return nil
	}
	if sets != 1 {
		return invalidf("%s: extended property %s needs exactly one of PropertyTag, PropertySetID, DistinguishedPropertySetID", op, clip(u.String()))
	}
	if named != 1 {
		return invalidf("%s: extended property %s needs exactly one of PropertyName and PropertyID", op, clip(u.String()))
	}
	return nil
}

func parsePropertyTag(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	var n int64
	var err error
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, err = strconv.ParseInt(h, 16, 32)
	} else {
		n, err = strconv.ParseInt(s, 10, 32)
	}
	return n, err == nil
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func (u ExtendedFieldURI) writePath(op string, parent *etree.Element) error {
	if err := u.validate(op); err != nil {
		return err
	}
	e := parent.CreateElement("t:ExtendedFieldURI")
	if u.DistinguishedPropertySetID != "" {
		e.CreateAttr("DistinguishedPropertySetId", string(u.DistinguishedPropertySetID))
	}
	if u.PropertySetID != "" {
		e.CreateAttr("PropertySetId", u.PropertySetID)
	}
	if u.PropertyTag != "" {
		e.CreateAttr("PropertyTag", u.PropertyTag)
	}
	if u.PropertyName != "" {
		e.CreateAttr("PropertyName", u.PropertyName)
	}
	if u.PropertyID != 0 {
		e.CreateAttr("PropertyId", strconv.Itoa(int(u.PropertyID)))
	}
	e.CreateAttr("PropertyType", string(u.PropertyType))
	return nil
}

func parseExtendedFieldURI(e *etree.Element) ExtendedFieldURI {
	u := ExtendedFieldURI{
		PropertyTag:                e.SelectAttrValue("PropertyTag", ""),
		PropertySetID:              e.SelectAttrValue("PropertySetId", ""),
		DistinguishedPropertySetID: DistinguishedPropertySet(e.SelectAttrValue("DistinguishedPropertySetId", "")),
		PropertyName:               e.SelectAttrValue("PropertyName", ""),
		PropertyType:               PropertyType(e.SelectAttrValue("PropertyType", "")),
	}
	if id := e.SelectAttrValue("PropertyId", ""); id != "" {
		if n, ok := parsePropertyTag(id); ok {
			u.PropertyID = int32(n)
		}
	}
	return u
}

// Normalize returns u in the form used to compare properties: a tag as
// lower-case hex ("0xe07"), a well-known set's GUID as its
// DistinguishedPropertySetID, other GUIDs in lower case. Servers echo
// properties in either form (PropertyTag="4340" comes back as "0x10f4").
func (u ExtendedFieldURI) Normalize() ExtendedFieldURI {
	if u.PropertyTag != "" {
		if n, ok := parsePropertyTag(u.PropertyTag); ok {
			u.PropertyTag = "0x" + strconv.FormatInt(n, 16)
		}
	}
	if u.PropertySetID != "" {
		g := strings.ToLower(u.PropertySetID)
		u.PropertySetID = g
		for name, guid := range propertySetGUIDs {
			if guid == g {
				u.PropertySetID, u.DistinguishedPropertySetID = "", name
				break
			}
		}
	}
	return u
}

// Same reports whether u and v name the same property of the same type,
// whatever form each is written in (see [ExtendedFieldURI.Normalize]).
func (u ExtendedFieldURI) Same(v ExtendedFieldURI) bool {
	return u.Normalize() == v.Normalize()
}

// ExtendedProperty is the value of one extended property
// (t:ExtendedProperty). Values are strings as EWS carries them: Binary is
// base64, Boolean "true"/"false", SystemTime an xs:dateTime, CLSID a GUID,
// numbers in decimal. Single-valued types use Value, *Array types Values.
type ExtendedProperty struct {
	Field  ExtendedFieldURI
	Value  string
	Values []string
}

func (p *ExtendedProperty) write(op string, parent *etree.Element) error {
	if err := p.Field.validate(op); err != nil {
		return err
	}
	e := parent.CreateElement("t:ExtendedProperty")
	if err := p.Field.writePath(op, e); err != nil {
		return err
	}
	if p.Field.PropertyType.IsArray() {
		if len(p.Values) == 0 {
			return invalidf("%s: extended property %s is an array type; set Values (at least one)", op, clip(p.Field.String()))
		}
		vs := e.CreateElement("t:Values")
		for _, v := range p.Values {
			if err := checkText(op, "extended property value", v); err != nil {
				return err
			}
			vs.CreateElement("t:Value").SetText(v)
		}
		return nil
	}
	if len(p.Values) > 0 {
		return invalidf("%s: extended property %s is single-valued; set Value, not Values", op, clip(p.Field.String()))
	}
	if err := checkText(op, "extended property value", p.Value); err != nil {
		return err
	}
	e.CreateElement("t:Value").SetText(p.Value)
	return nil
}

func parseExtendedProperty(e *etree.Element) ExtendedProperty {
	var p ExtendedProperty
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "ExtendedFieldURI":
			p.Field = parseExtendedFieldURI(c)
		case "Value":
			p.Value = c.Text()
		case "Values":
			for _, v := range c.ChildElements() {
				if v.Tag == "Value" {
					p.Values = append(p.Values, v.Text())
				}
			}
		}
	}
	return p
}

// findExtended returns the property of props that u names.
func findExtended(props []ExtendedProperty, u ExtendedFieldURI) (ExtendedProperty, bool) {
	n := u.Normalize()
	for _, p := range props {
		if p.Field.Normalize() == n {
			return p, true
		}
	}
	return ExtendedProperty{}, false
}

// writeAdditional appends t:AdditionalProperties with props and ext to a
// shape element, or nothing when both are empty.
func writeAdditional(op string, shape *etree.Element, props []FieldURI, ext []ExtendedFieldURI) error {
	if len(props) == 0 && len(ext) == 0 {
		return nil
	}
	ap := shape.CreateElement("t:AdditionalProperties")
	for _, p := range props {
		if err := p.writePath(op, ap); err != nil {
			return err
		}
	}
	for _, u := range ext {
		if err := u.writePath(op, ap); err != nil {
			return err
		}
	}
	return nil
}

// extended writes the extended properties to write: all of them, or the one
// w.only names.
func (w *propWriter) extended(op string, parent *etree.Element, props []ExtendedProperty) error {
	var want ExtendedFieldURI
	if w.only != nil {
		u, ok := w.only.(ExtendedFieldURI)
		if !ok {
			return nil
		}
		want = u.Normalize()
	}
	for i := range props {
		if w.only != nil {
			if props[i].Field.Normalize() != want {
				continue
			}
			w.found++
		}
		if err := props[i].write(op, parent); err != nil {
			return err
		}
	}
	return nil
}
