package mailbox

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// PropType is a MAPI property type as ExtendedFieldURI PropertyType names
// it.
type PropType string

// The settable property types; each has an array form (name + "Array").
const (
	PTApplicationTime PropType = "ApplicationTime"
	PTBinary          PropType = "Binary"
	PTBoolean         PropType = "Boolean"
	PTCLSID           PropType = "CLSID"
	PTCurrency        PropType = "Currency"
	PTDouble          PropType = "Double"
	PTFloat           PropType = "Float"
	PTInteger         PropType = "Integer"
	PTLong            PropType = "Long"
	PTShort           PropType = "Short"
	PTSystemTime      PropType = "SystemTime"
	PTString          PropType = "String"

	PTApplicationTimeArray PropType = "ApplicationTimeArray"
	PTBinaryArray          PropType = "BinaryArray"
	PTCLSIDArray           PropType = "CLSIDArray"
	PTCurrencyArray        PropType = "CurrencyArray"
	PTDoubleArray          PropType = "DoubleArray"
	PTFloatArray           PropType = "FloatArray"
	PTIntegerArray         PropType = "IntegerArray"
	PTLongArray            PropType = "LongArray"
	PTShortArray           PropType = "ShortArray"
	PTSystemTimeArray      PropType = "SystemTimeArray"
	PTStringArray          PropType = "StringArray"
)

// IsArray reports whether t is an array type.
func (t PropType) IsArray() bool { return strings.HasSuffix(string(t), "Array") }

// Elem is the element type of an array type, or t itself.
func (t PropType) Elem() PropType { return PropType(strings.TrimSuffix(string(t), "Array")) }

func (t PropType) valid() error {
	switch t.Elem() {
	case PTApplicationTime, PTBinary, PTBoolean, PTCLSID, PTCurrency, PTDouble, PTFloat, PTInteger,
		PTLong, PTShort, PTSystemTime, PTString:
		if t.IsArray() && t.Elem() == PTBoolean {
			break // there is no BooleanArray in MapiPropertyTypeType
		}
		return nil
	case "Error", "Null", "Object", "ObjectArray":
		return errf(ErrUnsupportedMapiType, "PropertyType %s cannot be set or read", t)
	}
	return errf(ErrInvalidExtendedProperty, "PropertyType %q is not a MAPI property type", string(t))
}

// ExtendedFieldURI addresses an extended property, with the attributes of
// t:ExtendedFieldURI. Exactly one addressing form is used: PropertyTag
// alone, or a property set (PropertySetID or DistinguishedPropertySetID)
// with PropertyName or PropertyID.
type ExtendedFieldURI struct {
	PropertyTag                string // hex ("0x0E08") or decimal
	PropertySetID              string // GUID
	DistinguishedPropertySetID string // Meeting, Appointment, Common, PublicStrings, ...
	PropertyName               string
	PropertyID                 string // decimal or hex
	Type                       PropType
}

// String renders the URI for messages.
func (u ExtendedFieldURI) String() string {
	var b strings.Builder
	b.WriteString("ExtendedFieldURI(")
	add := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s=%q ", k, v)
		}
	}
	add("PropertyTag", u.PropertyTag)
	add("PropertySetId", u.PropertySetID)
	add("DistinguishedPropertySetId", u.DistinguishedPropertySetID)
	add("PropertyName", u.PropertyName)
	add("PropertyId", u.PropertyID)
	add("PropertyType", string(u.Type))
	return strings.TrimSpace(b.String()) + ")"
}

// ExtendedProperty is an extended property with its value(s): one value
// for single types, one or more for array types, in canonical text form
// (Binary base64, Boolean true/false, SystemTime RFC 3339 UTC, CLSID
// lower-case GUID, numbers in Go's shortest form).
type ExtendedProperty struct {
	URI    ExtendedFieldURI
	Values []string
}

// distinguishedSets are the well-known property sets (MS-OXPROPS).
var distinguishedSets = map[string]string{
	"Meeting":           "6ed8da90-450b-101b-98da-00aa003f1305",
	"Appointment":       "00062002-0000-0000-c000-000000000046",
	"Common":            "00062008-0000-0000-c000-000000000046",
	"PublicStrings":     "00020329-0000-0000-c000-000000000046",
	"Address":           "00062004-0000-0000-c000-000000000046",
	"InternetHeaders":   "00020386-0000-0000-c000-000000000046",
	"CalendarAssistant": "11000e07-b51b-40d6-af21-caa85edab1d0",
	"UnifiedMessaging":  "4442858e-a9e3-4e80-b900-317a210cc15b",
	"Task":              "00062003-0000-0000-c000-000000000046",
	"Sharing":           "00062040-0000-0000-c000-000000000046",
}

// extKey is an extended property's identity: tag, or set + name / id, and
// the type (a MAPI tag includes the type).
type extKey struct {
	tag   uint16
	set   string
	name  string
	id    uint32
	hasID bool
	typ   PropType
}

func parseNum(s string, bits int) (uint64, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		v, err := strconv.ParseUint(s[2:], 16, bits)
		return v, err == nil
	}
	v, err := strconv.ParseUint(s, 10, bits)
	return v, err == nil
}

func normGUID(s string) (string, bool) {
	g := strings.ToLower(strings.Trim(strings.TrimSpace(s), "{}"))
	if len(g) != 36 {
		return "", false
	}
	for i, c := range g {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return "", false
			}
		}
	}
	return g, true
}

func (u ExtendedFieldURI) key() (extKey, error) {
	if err := u.Type.valid(); err != nil {
		return extKey{}, err
	}
	k := extKey{typ: u.Type}
	hasSet := u.PropertySetID != "" || u.DistinguishedPropertySetID != ""
	switch {
	case u.PropertyTag != "":
		if hasSet || u.PropertyName != "" || u.PropertyID != "" {
			return extKey{}, errf(ErrInvalidExtendedProperty, "%s: PropertyTag cannot be combined with a property set, name or id", u)
		}
		v, ok := parseNum(u.PropertyTag, 16)
		if !ok {
			return extKey{}, errf(ErrInvalidExtendedProperty, "%s: PropertyTag is not a 16-bit number", u)
		}
		if v >= 0x8000 {
			return extKey{}, errf(ErrNoPropertyTagForCustom, "%s: tags 0x8000-0xFFFE are named properties; address them by set and name or id", u)
		}
		k.tag = uint16(v)
		if k.tag == 0 {
			return extKey{}, errf(ErrInvalidExtendedProperty, "%s: PropertyTag 0 is not a property", u)
		}
		return k, nil
	case u.PropertySetID != "" && u.DistinguishedPropertySetID != "":
		return extKey{}, errf(ErrInvalidExtendedProperty, "%s: use PropertySetId or DistinguishedPropertySetId, not both", u)
	case !hasSet:
		return extKey{}, errf(ErrInvalidExtendedProperty, "%s: no PropertyTag and no property set", u)
	}
	if u.DistinguishedPropertySetID != "" {
		g, ok := distinguishedSets[u.DistinguishedPropertySetID]
		if !ok {
			return extKey{}, errf(ErrInvalidExtendedProperty, "%s: unknown DistinguishedPropertySetId", u)
		}
		k.set = g
	} else {
		g, ok := normGUID(u.PropertySetID)
		if !ok {
			return extKey{}, errf(ErrInvalidExtendedProperty, "%s: PropertySetId is not a GUID", u)
		}
		k.set = g
	}
	switch {
	case u.PropertyName != "" && u.PropertyID != "":
		return extKey{}, errf(ErrInvalidExtendedProperty, "%s: PropertyName and PropertyId exclude each other", u)
	case u.PropertyName != "":
		k.name = u.PropertyName
	case u.PropertyID != "":
		v, ok := parseNum(u.PropertyID, 32)
		if !ok {
			return extKey{}, errf(ErrInvalidExtendedProperty, "%s: PropertyId is not a number", u)
		}
		k.id, k.hasID = uint32(v), true
	default:
		return extKey{}, errf(ErrInvalidExtendedProperty, "%s: a property set needs PropertyName or PropertyId", u)
	}
	return k, nil
}

// canonical returns the URI in the form the server echoes: tags as
// lower-case hex, GUIDs lower-case, ids decimal.
func (u ExtendedFieldURI) canonical() ExtendedFieldURI {
	k, err := u.key()
	if err != nil {
		return u
	}
	out := u
	if u.PropertyTag != "" {
		out.PropertyTag = fmt.Sprintf("0x%x", k.tag)
		return out
	}
	if u.PropertySetID != "" {
		out.PropertySetID = k.set
	}
	if k.hasID {
		out.PropertyID = strconv.FormatUint(uint64(k.id), 10)
	}
	return out
}

// canonValue checks and canonicalises one value of an element type.
func canonValue(t PropType, v string) (string, error) {
	bad := func() (string, error) {
		return "", errf(ErrInvalidExtendedPropValue, "%q is not a %s", short(v), t)
	}
	s := strings.TrimSpace(v)
	switch t {
	case PTString:
		return v, nil
	case PTBoolean:
		switch strings.ToLower(s) {
		case "true", "1":
			return "true", nil
		case "false", "0":
			return "false", nil
		}
		return bad()
	case PTShort, PTInteger, PTLong, PTCurrency:
		bits := map[PropType]int{PTShort: 16, PTInteger: 32, PTLong: 64, PTCurrency: 64}[t]
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			// Exchange also accepts an unsigned form of 32-bit values.
			u, uerr := strconv.ParseUint(s, 10, bits)
			if uerr != nil {
				return bad()
			}
			n = int64(u)
		}
		return strconv.FormatInt(n, 10), nil
	case PTFloat, PTDouble, PTApplicationTime:
		bits := 64
		if t == PTFloat {
			bits = 32
		}
		f, err := strconv.ParseFloat(s, bits)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return bad()
		}
		return strconv.FormatFloat(f, 'g', -1, bits), nil
	case PTSystemTime:
		tm, err := parseDateTime(s)
		if err != nil {
			return bad()
		}
		return tm.UTC().Format(time.RFC3339Nano), nil
	case PTCLSID:
		g, ok := normGUID(s)
		if !ok {
			return bad()
		}
		return g, nil
	case PTBinary:
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return bad()
		}
		return base64.StdEncoding.EncodeToString(b), nil
	}
	return bad()
}

// parseDateTime parses xs:dateTime (a missing zone is UTC).
func parseDateTime(s string) (time.Time, error) {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not an xs:dateTime")
}

// normalize validates a property and returns it canonical.
func (p ExtendedProperty) normalize() (ExtendedProperty, error) {
	if _, err := p.URI.key(); err != nil {
		return ExtendedProperty{}, err
	}
	if !p.URI.Type.IsArray() && len(p.Values) != 1 {
		return ExtendedProperty{}, errf(ErrInvalidExtendedPropValue, "%s takes one Value, got %d", p.URI, len(p.Values))
	}
	if p.URI.Type.IsArray() && len(p.Values) == 0 {
		return ExtendedProperty{}, errf(ErrInvalidExtendedPropValue, "%s takes one or more Values", p.URI)
	}
	out := ExtendedProperty{URI: p.URI.canonical(), Values: make([]string, len(p.Values))}
	for i, v := range p.Values {
		c, err := canonValue(p.URI.Type.Elem(), v)
		if err != nil {
			e := err.(*Error)
			e.Detail = p.URI.String() + ": " + e.Detail
			return ExtendedProperty{}, e
		}
		out.Values[i] = c
	}
	return out, nil
}

func normalizeExtList(in []ExtendedProperty) ([]ExtendedProperty, error) {
	var out []ExtendedProperty
	for _, p := range in {
		np, err := p.normalize()
		if err != nil {
			return nil, err
		}
		k, _ := np.URI.key()
		if isComputedItemTag(k) || isComputedFolderTag(k) {
			return nil, errf(ErrInvalidPropertySet, "%s is computed by the server", p.URI)
		}
		out = setExt(out, np)
	}
	return out, nil
}

func cloneExt(in []ExtendedProperty) []ExtendedProperty {
	if len(in) == 0 {
		return nil
	}
	out := make([]ExtendedProperty, len(in))
	for i, p := range in {
		out[i] = ExtendedProperty{URI: p.URI, Values: append([]string(nil), p.Values...)}
	}
	return out
}

// findExtIn finds a property by key.
func findExtIn(list []ExtendedProperty, k extKey) (ExtendedProperty, bool) {
	for _, p := range list {
		if pk, err := p.URI.key(); err == nil && pk == k {
			return p, true
		}
	}
	return ExtendedProperty{}, false
}

func setExt(list []ExtendedProperty, p ExtendedProperty) []ExtendedProperty {
	k, _ := p.URI.key()
	for i, q := range list {
		if qk, _ := q.URI.key(); qk == k {
			list[i] = p
			return list
		}
	}
	return append(list, p)
}

func deleteExt(list []ExtendedProperty, k extKey) []ExtendedProperty {
	for i, q := range list {
		if qk, _ := q.URI.key(); qk == k {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

// Computed MAPI properties. They are read-only; a request for one of
// these tags with its type gets the value the server computes.
const (
	TagImportance          = 0x0017 // Integer: 0 low, 1 normal, 2 high
	TagMessageClass        = 0x001A // String
	TagSensitivity         = 0x0036 // Integer: 0 normal .. 3 confidential
	TagSubject             = 0x0037 // String
	TagClientSubmitTime    = 0x0039 // SystemTime
	TagTransportHeaders    = 0x007D // String
	TagMessageDeliveryTime = 0x0E06 // SystemTime
	TagMessageFlags        = 0x0E07 // Integer: 1 read, 8 unsent, 0x10 has attachments
	TagMessageSize         = 0x0E08 // Integer (items and folders)
	TagParentEntryID       = 0x0E09 // Binary
	TagHasAttach           = 0x0E1B // Boolean
	TagEntryID             = 0x0FFF // Binary
	TagInternetMessageID   = 0x1035 // String
	TagDisplayName         = 0x3001 // String (folders)
	TagCreationTime        = 0x3007 // SystemTime
	TagLastModification    = 0x3008 // SystemTime
	TagFolderType          = 0x3601 // Integer: 0 root, 1 generic
	TagContentCount        = 0x3602 // Integer
	TagContentUnread       = 0x3603 // Integer
	TagSubfolders          = 0x360A // Boolean
	TagContainerClass      = 0x3613 // String
	TagFolderChildCount    = 0x6638 // Integer
)

var computedItemTags = map[uint16]PropType{
	TagImportance: PTInteger, TagMessageClass: PTString, TagSensitivity: PTInteger, TagSubject: PTString,
	TagClientSubmitTime: PTSystemTime, TagTransportHeaders: PTString, TagMessageDeliveryTime: PTSystemTime,
	TagMessageFlags: PTInteger, TagMessageSize: PTInteger, TagParentEntryID: PTBinary, TagHasAttach: PTBoolean,
	TagEntryID: PTBinary, TagInternetMessageID: PTString, TagCreationTime: PTSystemTime, TagLastModification: PTSystemTime,
}

var computedFolderTags = map[uint16]PropType{
	TagDisplayName: PTString, TagContainerClass: PTString, TagContentCount: PTInteger, TagContentUnread: PTInteger,
	TagSubfolders: PTBoolean, TagFolderType: PTInteger, TagFolderChildCount: PTInteger, TagMessageSize: PTInteger,
	TagEntryID: PTBinary, TagParentEntryID: PTBinary, TagCreationTime: PTSystemTime, TagLastModification: PTSystemTime,
}

func isComputedItemTag(k extKey) bool {
	_, ok := computedItemTags[k.tag]
	return k.tag != 0 && ok
}

func isComputedFolderTag(k extKey) bool {
	_, ok := computedFolderTags[k.tag]
	return k.tag != 0 && ok
}

func entryID(id string) string {
	b, _ := base64.StdEncoding.DecodeString(id)
	return base64.StdEncoding.EncodeToString(b)
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// computedItemValue returns a computed property of a stored item.
func (m *Mailbox) computedItemValue(it *item, k extKey) ([]string, bool) {
	if k.tag == 0 {
		return nil, false
	}
	t, ok := computedItemTags[k.tag]
	if !ok || t != k.typ {
		return nil, false
	}
	d := &it.data
	switch k.tag {
	case TagImportance:
		return []string{strconv.Itoa(map[string]int{"Low": 0, "Normal": 1, "High": 2}[d.Importance])}, true
	case TagMessageClass:
		return []string{d.ItemClass}, true
	case TagSensitivity:
		return []string{strconv.Itoa(map[string]int{"Normal": 0, "Personal": 1, "Private": 2, "Confidential": 3}[d.Sensitivity])}, true
	case TagSubject:
		return []string{d.Subject}, true
	case TagClientSubmitTime:
		if d.Sent.IsZero() {
			return nil, false
		}
		return []string{ts(d.Sent)}, true
	case TagMessageDeliveryTime:
		if d.Received.IsZero() {
			return nil, false
		}
		return []string{ts(d.Received)}, true
	case TagTransportHeaders:
		if len(d.Headers) == 0 {
			return nil, false
		}
		var b strings.Builder
		for _, h := range d.Headers {
			b.WriteString(h.Name + ": " + h.Value + "\r\n")
		}
		return []string{b.String()}, true
	case TagMessageFlags:
		f := 0
		if d.IsRead {
			f |= 1
		}
		if d.IsDraft {
			f |= 8
		}
		if len(it.atts) > 0 {
			f |= 0x10
		}
		return []string{strconv.Itoa(f)}, true
	case TagMessageSize:
		return []string{strconv.Itoa(it.size)}, true
	case TagParentEntryID:
		return []string{entryID(m.id(KindFolderID, it.folder.num))}, true
	case TagHasAttach:
		return []string{strconv.FormatBool(len(it.atts) > 0)}, true
	case TagEntryID:
		return []string{entryID(m.id(KindItemID, it.num))}, true
	case TagInternetMessageID:
		if d.InternetMessageID == "" {
			return nil, false
		}
		return []string{d.InternetMessageID}, true
	case TagCreationTime:
		return []string{ts(d.Created)}, true
	case TagLastModification:
		return []string{ts(d.Modified)}, true
	}
	return nil, false
}

// computedFolderValue returns a computed property of a folder.
func (m *Mailbox) computedFolderValue(f *folder, k extKey) ([]string, bool) {
	t, ok := computedFolderTags[k.tag]
	if k.tag == 0 || !ok || t != k.typ {
		return nil, false
	}
	switch k.tag {
	case TagDisplayName:
		return []string{f.name}, true
	case TagContainerClass:
		if f.class == "" {
			return nil, false
		}
		return []string{f.class}, true
	case TagContentCount:
		return []string{strconv.Itoa(len(f.items))}, true
	case TagContentUnread:
		return []string{strconv.Itoa(f.unread)}, true
	case TagSubfolders, TagFolderChildCount:
		n := 0
		for _, c := range f.children {
			if !c.softDeleted {
				n++
			}
		}
		if k.tag == TagSubfolders {
			return []string{strconv.FormatBool(n > 0)}, true
		}
		return []string{strconv.Itoa(n)}, true
	case TagFolderType:
		if f.parent == nil {
			return []string{"0"}, true
		}
		return []string{"1"}, true
	case TagMessageSize:
		return []string{strconv.FormatInt(f.size, 10)}, true
	case TagEntryID:
		return []string{entryID(m.id(KindFolderID, f.num))}, true
	case TagParentEntryID:
		if f.parent == nil {
			return nil, false
		}
		return []string{entryID(m.id(KindFolderID, f.parent.num))}, true
	case TagCreationTime:
		return []string{ts(f.created)}, true
	case TagLastModification:
		return []string{ts(f.modified)}, true
	}
	return nil, false
}

// keywordsKey is PublicStrings "Keywords", the named property
// item:Categories is stored in: reading or writing it is reading or
// writing the categories.
var keywordsKey = extKey{set: distinguishedSets["PublicStrings"], name: "Keywords", typ: PTStringArray}

// itemExt returns a property of a stored item: computed, or stored.
func (m *Mailbox) itemExt(it *item, k extKey) ([]string, bool) {
	if v, ok := m.computedItemValue(it, k); ok {
		return v, true
	}
	return storedExt(&it.data, it.ekeys, k)
}

// storedExt is the stored value of extended property k of d: its
// categories for the Keywords property, else its extended property of
// that key. ekeys are the keys of d.Extended when known (an item keeps
// them), nil to compute them.
func storedExt(d *Item, ekeys []extKey, k extKey) ([]string, bool) {
	if k == keywordsKey {
		return d.Categories, len(d.Categories) > 0
	}
	known := len(ekeys) == len(d.Extended)
	for i := range d.Extended {
		if known {
			if ekeys[i] == k {
				return d.Extended[i].Values, true
			}
		} else if pk, err := d.Extended[i].URI.key(); err == nil && pk == k {
			return d.Extended[i].Values, true
		}
	}
	return nil, false
}

// ItemExtendedProperties returns the requested extended properties of an
// item, computed or stored, in request order; one the item lacks is left
// out (as Exchange leaves out the element).
func (m *Mailbox) ItemExtendedProperties(id string, uris []ExtendedFieldURI) ([]ExtendedProperty, error) {
	keys := make([]extKey, len(uris))
	for i, u := range uris {
		k, err := u.key()
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	if info, err := m.decode(id, KindOccurrenceID); err == nil {
		return m.occurrenceExtendedProperties(id, info.Num, uris, keys)
	}
	m.rlock()
	defer m.mu.RUnlock()
	it, err := m.itemLocked(id)
	if err != nil {
		return nil, err
	}
	var out []ExtendedProperty
	for i, k := range keys {
		if v, ok := m.itemExt(it, k); ok {
			out = append(out, ExtendedProperty{URI: uris[i].canonical(), Values: append([]string(nil), v...)})
		}
	}
	return out, nil
}

// FolderExtendedProperties is ItemExtendedProperties for a folder.
func (m *Mailbox) FolderExtendedProperties(ref string, uris []ExtendedFieldURI) ([]ExtendedProperty, error) {
	keys := make([]extKey, len(uris))
	for i, u := range uris {
		k, err := u.key()
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	m.rlock()
	defer m.mu.RUnlock()
	f, err := m.folderLocked(ref)
	if err != nil {
		return nil, err
	}
	var out []ExtendedProperty
	for i, k := range keys {
		if v, ok := m.computedFolderValue(f, k); ok {
			out = append(out, ExtendedProperty{URI: uris[i].canonical(), Values: v})
		} else if p, ok := findExtIn(f.ext, k); ok {
			out = append(out, ExtendedProperty{URI: uris[i].canonical(), Values: append([]string(nil), p.Values...)})
		}
	}
	return out, nil
}

// occurrenceExtendedProperties is ItemExtendedProperties for an occurrence
// or exception of the series whose master is item num: the properties the
// occurrence holds (the exception's own, else the master's), the computed
// ones from the master.
func (m *Mailbox) occurrenceExtendedProperties(id string, num uint64, uris []ExtendedFieldURI, keys []extKey) ([]ExtendedProperty, error) {
	o, err := m.GetOccurrence(id)
	if err != nil {
		return nil, err
	}
	m.rlock()
	defer m.mu.RUnlock()
	master := m.items[num]
	if master == nil {
		return nil, errf(ErrItemNotFound, "occurrence %q", short(id))
	}
	var out []ExtendedProperty
	for i, k := range keys {
		v, ok := m.computedItemValue(master, k)
		if !ok {
			v, ok = storedExt(&o.Item, nil, k)
		}
		if ok {
			out = append(out, ExtendedProperty{URI: uris[i].canonical(), Values: append([]string(nil), v...)})
		}
	}
	return out, nil
}
