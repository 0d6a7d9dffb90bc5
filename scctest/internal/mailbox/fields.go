package mailbox

import (
	"strconv"
	"strings"
	"time"
)

// Path names a property: a FieldURI ("item:Subject"), an IndexedFieldURI
// (Field "contacts:EmailAddress" with Index "EmailAddress1") or an
// ExtendedFieldURI (Ext).
type Path struct {
	Field string
	Index string
	Ext   *ExtendedFieldURI
}

// Field returns the path of a FieldURI.
func Field(uri string) Path { return Path{Field: uri} }

// Indexed returns the path of an IndexedFieldURI.
func Indexed(uri, index string) Path { return Path{Field: uri, Index: index} }

// Extended returns the path of an ExtendedFieldURI.
func Extended(u ExtendedFieldURI) Path { return Path{Ext: &u} }

// String names the path as EWS does.
func (p Path) String() string {
	switch {
	case p.Ext != nil:
		return p.Ext.String()
	case p.Index != "":
		return p.Field + "[" + p.Index + "]"
	}
	return p.Field
}

// key identifies a path for conflict tracking.
func (p Path) key() string {
	if p.Ext != nil {
		k, _ := p.Ext.key()
		return "ext:" + k.set + "|" + k.name + "|" + strconv.FormatUint(uint64(k.id), 10) + "|" + strconv.Itoa(int(k.tag)) + "|" + string(k.typ)
	}
	return p.Field + "|" + p.Index
}

// vkind is the type of a property value.
type vkind uint8

const (
	vString vkind = iota + 1
	vStrings
	vBool
	vInt
	vFloat
	vTime
)

func (k vkind) String() string {
	names := [...]string{"", "string", "string list", "boolean", "integer", "number", "dateTime"}
	if int(k) < len(names) {
		return names[k]
	}
	return "unknown"
}

// value is a property value for comparison and sorting.
type value struct {
	k  vkind
	s  string
	ss []string
	el vkind // element kind of ss (extended array types)
	n  int64
	f  float64
	b  bool
	t  time.Time
}

// kind masks.
const (
	mMessage  = 1 << Message
	mCalendar = 1 << CalendarItem
	mContact  = 1 << Contact
	mTask     = 1 << Task
	mAll      = mMessage | mCalendar | mContact | mTask
)

// itemField describes one item FieldURI: its type, how to read it and
// whether it can be searched, sorted, set, appended or deleted.
type itemField struct {
	uri        string
	kinds      uint8
	vk         vkind
	get        func(m *Mailbox, it *item, idx string) (value, bool)
	searchable bool
	sortable   bool
	flag       bool // Exists is refused (IsRead, IsDraft, ...)
	indexes    []string
	set        func(dst, src *Item, idx string) error
	app        func(dst, src *Item) error
	del        func(dst *Item, idx string) error
}

func strv(s string) (value, bool) { return value{k: vString, s: s}, true }

func strField(uri string, kinds uint8, acc func(*Item) *string) *itemField {
	return &itemField{uri: uri, kinds: kinds, vk: vString, searchable: true, sortable: true,
		get: func(_ *Mailbox, it *item, _ string) (value, bool) {
			p := acc(&it.data)
			if *p == "" {
				return value{}, false
			}
			return strv(*p)
		},
		set: func(dst, src *Item, _ string) error { *acc(dst) = *acc(src); return nil },
		del: func(dst *Item, _ string) error { *acc(dst) = ""; return nil },
	}
}

func enumField(uri string, kinds uint8, acc func(*Item) *string, allowed []string) *itemField {
	f := strField(uri, kinds, acc)
	f.set = func(dst, src *Item, _ string) error {
		v := *acc(src)
		if !oneOf(v, allowed) {
			return errf(ErrInvalidValueForProperty, "%s %q (one of %s)", uri, v, strings.Join(allowed, ", "))
		}
		*acc(dst) = v
		return nil
	}
	f.del = nil
	return f
}

func timeField(uri string, kinds uint8, acc func(*Item) *time.Time, settable bool) *itemField {
	f := &itemField{uri: uri, kinds: kinds, vk: vTime, searchable: true, sortable: true,
		get: func(_ *Mailbox, it *item, _ string) (value, bool) {
			t := *acc(&it.data)
			return value{k: vTime, t: t}, !t.IsZero()
		}}
	if settable {
		f.set = func(dst, src *Item, _ string) error { *acc(dst) = *acc(src); return nil }
		f.del = func(dst *Item, _ string) error { *acc(dst) = time.Time{}; return nil }
	}
	return f
}

func boolField(uri string, kinds uint8, acc func(*Item) *bool, settable, flag bool) *itemField {
	f := &itemField{uri: uri, kinds: kinds, vk: vBool, searchable: true, sortable: true, flag: flag,
		get: func(_ *Mailbox, it *item, _ string) (value, bool) { return value{k: vBool, b: *acc(&it.data)}, true }}
	if settable {
		f.set = func(dst, src *Item, _ string) error { *acc(dst) = *acc(src); return nil }
	}
	return f
}

func addrListField(uri string, kinds uint8, acc func(*Item) *[]Address) *itemField {
	return &itemField{uri: uri, kinds: kinds, vk: vStrings,
		get: func(_ *Mailbox, it *item, _ string) (value, bool) {
			l := *acc(&it.data)
			v := value{k: vStrings, el: vString}
			for _, a := range l {
				v.ss = append(v.ss, a.Email)
			}
			return v, len(l) > 0
		},
		set: func(dst, src *Item, _ string) error { *acc(dst) = append([]Address(nil), *acc(src)...); return nil },
		app: func(dst, src *Item) error { *acc(dst) = append(*acc(dst), *acc(src)...); return nil },
		del: func(dst *Item, _ string) error { *acc(dst) = nil; return nil },
	}
}

func addrField(uri string, acc func(*Item) **Address, settable bool) *itemField {
	f := &itemField{uri: uri, kinds: mMessage, vk: vString, searchable: true, sortable: true,
		get: func(_ *Mailbox, it *item, _ string) (value, bool) {
			a := *acc(&it.data)
			if a == nil {
				return value{}, false
			}
			return strv(a.Email)
		}}
	if settable {
		f.set = func(dst, src *Item, _ string) error {
			if a := *acc(src); a != nil {
				c := *a
				*acc(dst) = &c
			} else {
				*acc(dst) = nil
			}
			return nil
		}
		f.del = func(dst *Item, _ string) error { *acc(dst) = nil; return nil }
	}
	return f
}

func cal(it *Item) *CalendarFields {
	if it.Calendar == nil {
		it.Calendar = &CalendarFields{}
	}
	return it.Calendar
}

func con(it *Item) *ContactFields {
	if it.Contact == nil {
		it.Contact = &ContactFields{}
	}
	return it.Contact
}

func tsk(it *Item) *TaskFields {
	if it.Task == nil {
		it.Task = &TaskFields{}
	}
	return it.Task
}

// keyedField is an indexed string dictionary of a contact.
func keyedField(uri string, keys []string, acc func(*Item) *[]KeyedString) *itemField {
	find := func(l []KeyedString, k string) int {
		for i, e := range l {
			if e.Key == k {
				return i
			}
		}
		return -1
	}
	return &itemField{uri: uri, kinds: mContact, vk: vString, searchable: true, sortable: true, indexes: keys,
		get: func(_ *Mailbox, it *item, idx string) (value, bool) {
			l := *acc(&it.data)
			if i := find(l, idx); i >= 0 {
				return strv(l[i].Value)
			}
			return value{}, false
		},
		set: func(dst, src *Item, idx string) error {
			sl := *acc(src)
			i := find(sl, idx)
			if i < 0 {
				return errf(ErrInvalidRequest, "%s[%s]: the item element has no entry with Key %q", uri, idx, idx)
			}
			dl := acc(dst)
			if j := find(*dl, idx); j >= 0 {
				(*dl)[j] = sl[i]
			} else {
				*dl = append(*dl, sl[i])
			}
			return nil
		},
		del: func(dst *Item, idx string) error {
			dl := acc(dst)
			if j := find(*dl, idx); j >= 0 {
				*dl = append((*dl)[:j:j], (*dl)[j+1:]...)
			}
			return nil
		},
	}
}

func emailField() *itemField {
	find := func(l []KeyedAddress, k string) int {
		for i, e := range l {
			if e.Key == k {
				return i
			}
		}
		return -1
	}
	acc := func(it *Item) *[]KeyedAddress { return &con(it).EmailAddresses }
	return &itemField{uri: "contacts:EmailAddress", kinds: mContact, vk: vString, searchable: true, sortable: true, indexes: emailKeys,
		get: func(_ *Mailbox, it *item, idx string) (value, bool) {
			l := *acc(&it.data)
			if i := find(l, idx); i >= 0 {
				return strv(l[i].Email)
			}
			return value{}, false
		},
		set: func(dst, src *Item, idx string) error {
			sl := *acc(src)
			i := find(sl, idx)
			if i < 0 {
				return errf(ErrInvalidRequest, "contacts:EmailAddress[%s]: the item element has no entry with Key %q", idx, idx)
			}
			dl := acc(dst)
			if j := find(*dl, idx); j >= 0 {
				(*dl)[j] = sl[i]
			} else {
				*dl = append(*dl, sl[i])
			}
			return nil
		},
		del: func(dst *Item, idx string) error {
			dl := acc(dst)
			if j := find(*dl, idx); j >= 0 {
				*dl = append((*dl)[:j:j], (*dl)[j+1:]...)
			}
			return nil
		},
	}
}

// physField is one part of a physical address (indexed by Home, Business,
// Other).
func physField(part string, acc func(*PhysicalAddress) *string) *itemField {
	uri := "contacts:PhysicalAddress:" + part
	find := func(l []PhysicalAddress, k string) int {
		for i, e := range l {
			if e.Key == k {
				return i
			}
		}
		return -1
	}
	return &itemField{uri: uri, kinds: mContact, vk: vString, searchable: true, sortable: true, indexes: addressKeys,
		get: func(_ *Mailbox, it *item, idx string) (value, bool) {
			l := con(&it.data).PhysicalAddresses
			if i := find(l, idx); i >= 0 && *acc(&l[i]) != "" {
				return strv(*acc(&l[i]))
			}
			return value{}, false
		},
		set: func(dst, src *Item, idx string) error {
			sl := con(src).PhysicalAddresses
			i := find(sl, idx)
			if i < 0 {
				return errf(ErrInvalidRequest, "%s[%s]: the item element has no entry with Key %q", uri, idx, idx)
			}
			dl := &con(dst).PhysicalAddresses
			j := find(*dl, idx)
			if j < 0 {
				*dl = append(*dl, PhysicalAddress{Key: idx})
				j = len(*dl) - 1
			}
			*acc(&(*dl)[j]) = *acc(&sl[i])
			return nil
		},
		del: func(dst *Item, idx string) error {
			dl := con(dst).PhysicalAddresses
			if j := find(dl, idx); j >= 0 {
				*acc(&dl[j]) = ""
				a := dl[j]
				if a.Street == "" && a.City == "" && a.State == "" && a.CountryOrRegion == "" && a.PostalCode == "" {
					con(dst).PhysicalAddresses = append(dl[:j:j], dl[j+1:]...)
				}
			}
			return nil
		},
	}
}

func readOnly(f *itemField) *itemField {
	f.set, f.del, f.app = nil, nil, nil
	return f
}

func notSearchable(f *itemField) *itemField {
	f.searchable, f.sortable = false, false
	return f
}

// itemFields is the table of item FieldURIs the model knows.
var itemFields = func() map[string]*itemField {
	fs := []*itemField{
		strField("item:Subject", mAll, func(it *Item) *string { return &it.Subject }),
		readOnly(strField("item:ItemClass", mAll, func(it *Item) *string { return &it.ItemClass })),
		enumField("item:Importance", mAll, func(it *Item) *string { return &it.Importance }, []string{"Low", "Normal", "High"}),
		enumField("item:Sensitivity", mAll, func(it *Item) *string { return &it.Sensitivity }, []string{"Normal", "Personal", "Private", "Confidential"}),
		{uri: "item:Body", kinds: mAll, vk: vString, searchable: true,
			get: func(_ *Mailbox, it *item, _ string) (value, bool) {
				return strv(it.data.Body.Content)
			},
			set: func(dst, src *Item, _ string) error { dst.Body = src.Body; return nil },
			app: func(dst, src *Item) error {
				if src.Body.Type != "" && dst.Body.Type != "" && src.Body.Type != dst.Body.Type {
					return errf(ErrInvalidPropertyAppend, "item:Body: the stored body is %s, the appended one %s", dst.Body.Type, src.Body.Type)
				}
				dst.Body.Content += src.Body.Content
				return nil
			},
			del: func(dst *Item, _ string) error { dst.Body.Content = ""; return nil }},
		{uri: "item:Categories", kinds: mAll, vk: vStrings, searchable: true,
			get: func(_ *Mailbox, it *item, _ string) (value, bool) {
				return value{k: vStrings, el: vString, ss: it.data.Categories}, len(it.data.Categories) > 0
			},
			set: func(dst, src *Item, _ string) error {
				dst.Categories = append([]string(nil), src.Categories...)
				return nil
			},
			del: func(dst *Item, _ string) error { dst.Categories = nil; return nil }},
		timeField("item:DateTimeReceived", mAll, func(it *Item) *time.Time { return &it.Received }, false),
		timeField("item:DateTimeSent", mAll, func(it *Item) *time.Time { return &it.Sent }, false),
		timeField("item:DateTimeCreated", mAll, func(it *Item) *time.Time { return &it.Created }, false),
		timeField("item:LastModifiedTime", mAll, func(it *Item) *time.Time { return &it.Modified }, false),
		{uri: "item:Size", kinds: mAll, vk: vInt, searchable: true, sortable: true,
			get: func(_ *Mailbox, it *item, _ string) (value, bool) { return value{k: vInt, n: int64(it.size)}, true }},
		{uri: "item:HasAttachments", kinds: mAll, vk: vBool, searchable: true, sortable: true, flag: true,
			get: func(_ *Mailbox, it *item, _ string) (value, bool) { return value{k: vBool, b: len(it.atts) > 0}, true }},
		boolField("item:IsAssociated", mAll, func(it *Item) *bool { return &it.IsAssociated }, false, true),
		notSearchable(&itemField{uri: "item:ItemId", kinds: mAll, vk: vString}),
		notSearchable(&itemField{uri: "item:ParentFolderId", kinds: mAll, vk: vString}),
		notSearchable(&itemField{uri: "item:Attachments", kinds: mAll, vk: vStrings}),
		notSearchable(&itemField{uri: "item:InternetMessageHeaders", kinds: mAll, vk: vStrings}),
		notSearchable(&itemField{uri: "item:MimeContent", kinds: mAll, vk: vString,
			set: func(dst, src *Item, _ string) error {
				dst.MIME = append([]byte(nil), src.MIME...)
				return fillFromMIME(dst)
			}}),
		boolField("message:IsRead", mMessage, func(it *Item) *bool { return &it.IsRead }, true, true),
		boolField("message:IsDraft", mMessage, func(it *Item) *bool { return &it.IsDraft }, false, true),
		addrField("message:From", func(it *Item) **Address { return &it.From }, true),
		addrField("message:Sender", func(it *Item) **Address { return &it.Sender }, true),
		notSearchable(addrListField("message:ToRecipients", mMessage, func(it *Item) *[]Address { return &it.To })),
		notSearchable(addrListField("message:CcRecipients", mMessage, func(it *Item) *[]Address { return &it.Cc })),
		notSearchable(addrListField("message:BccRecipients", mMessage, func(it *Item) *[]Address { return &it.Bcc })),
		notSearchable(addrListField("message:ReplyTo", mMessage, func(it *Item) *[]Address { return &it.ReplyTo })),
		readOnly(strField("message:InternetMessageId", mMessage, func(it *Item) *string { return &it.InternetMessageID })),

		timeField("calendar:Start", mCalendar, func(it *Item) *time.Time { return &cal(it).Start }, true),
		timeField("calendar:End", mCalendar, func(it *Item) *time.Time { return &cal(it).End }, true),
		strField("calendar:Location", mCalendar, func(it *Item) *string { return &cal(it).Location }),
		boolField("calendar:IsAllDayEvent", mCalendar, func(it *Item) *bool { return &cal(it).IsAllDayEvent }, true, false),
		enumField("calendar:LegacyFreeBusyStatus", mCalendar, func(it *Item) *string { return &cal(it).LegacyFreeBusy }, []string{"Free", "Tentative", "Busy", "OOF", "WorkingElsewhere", "NoData"}),
		notSearchable(strField("calendar:UID", mCalendar, func(it *Item) *string { return &cal(it).UID })),
		notSearchable(addrListField("calendar:RequiredAttendees", mCalendar, func(it *Item) *[]Address { return &cal(it).Required })),
		notSearchable(addrListField("calendar:OptionalAttendees", mCalendar, func(it *Item) *[]Address { return &cal(it).Optional })),
		notSearchable(addrListField("calendar:Resources", mCalendar, func(it *Item) *[]Address { return &cal(it).Resources })),
		{uri: "calendar:Organizer", kinds: mCalendar, vk: vString, searchable: true, sortable: true,
			get: func(_ *Mailbox, it *item, _ string) (value, bool) {
				if o := cal(&it.data).Organizer; o != nil {
					return strv(o.Email)
				}
				return value{}, false
			}},
		{uri: "calendar:Recurrence", kinds: mCalendar, vk: vString,
			set: func(dst, src *Item, _ string) error {
				if r := cal(src).Recurrence; r != nil {
					c := *r
					c.Pattern.DaysOfWeek = append([]string(nil), r.Pattern.DaysOfWeek...)
					cal(dst).Recurrence = &c
				} else {
					cal(dst).Recurrence = nil
				}
				return nil
			},
			del: func(dst *Item, _ string) error { cal(dst).Recurrence = nil; return nil }},
		{uri: "calendar:IsRecurring", kinds: mCalendar, vk: vBool, searchable: true, sortable: true,
			get: func(_ *Mailbox, it *item, _ string) (value, bool) {
				// stored items are singles and masters, which Exchange
				// reports with IsRecurring false (occurrences are not
				// items a restriction sees)
				return value{k: vBool, b: false}, true
			}},
		{uri: "calendar:CalendarItemType", kinds: mCalendar, vk: vString, searchable: true, sortable: true,
			get: func(_ *Mailbox, it *item, _ string) (value, bool) {
				if cal(&it.data).Recurrence != nil {
					return strv("RecurringMaster")
				}
				return strv("Single")
			}},

		strField("contacts:FileAs", mContact, func(it *Item) *string { return &con(it).FileAs }),
		strField("contacts:DisplayName", mContact, func(it *Item) *string { return &con(it).DisplayName }),
		strField("contacts:GivenName", mContact, func(it *Item) *string { return &con(it).GivenName }),
		strField("contacts:MiddleName", mContact, func(it *Item) *string { return &con(it).MiddleName }),
		strField("contacts:Surname", mContact, func(it *Item) *string { return &con(it).Surname }),
		strField("contacts:Nickname", mContact, func(it *Item) *string { return &con(it).Nickname }),
		strField("contacts:CompanyName", mContact, func(it *Item) *string { return &con(it).CompanyName }),
		strField("contacts:JobTitle", mContact, func(it *Item) *string { return &con(it).JobTitle }),
		strField("contacts:Department", mContact, func(it *Item) *string { return &con(it).Department }),
		strField("contacts:OfficeLocation", mContact, func(it *Item) *string { return &con(it).OfficeLocation }),
		enumField("contacts:PostalAddressIndex", mContact, func(it *Item) *string { return &con(it).PostalAddressIndex }, []string{"None", "Home", "Business", "Other"}),
		timeField("contacts:Birthday", mContact, func(it *Item) *time.Time { return &con(it).Birthday }, true),
		emailField(),
		keyedField("contacts:PhoneNumber", phoneKeys, func(it *Item) *[]KeyedString { return &con(it).PhoneNumbers }),
		keyedField("contacts:ImAddress", imKeys, func(it *Item) *[]KeyedString { return &con(it).ImAddresses }),
		physField("Street", func(a *PhysicalAddress) *string { return &a.Street }),
		physField("City", func(a *PhysicalAddress) *string { return &a.City }),
		physField("State", func(a *PhysicalAddress) *string { return &a.State }),
		physField("CountryOrRegion", func(a *PhysicalAddress) *string { return &a.CountryOrRegion }),
		physField("PostalCode", func(a *PhysicalAddress) *string { return &a.PostalCode }),

		taskStatusField(),
		timeField("task:StartDate", mTask, func(it *Item) *time.Time { return &tsk(it).StartDate }, true),
		timeField("task:DueDate", mTask, func(it *Item) *time.Time { return &tsk(it).DueDate }, true),
		timeField("task:CompleteDate", mTask, func(it *Item) *time.Time { return &tsk(it).CompleteDate }, true),
		{uri: "task:PercentComplete", kinds: mTask, vk: vFloat, searchable: true, sortable: true,
			get: func(_ *Mailbox, it *item, _ string) (value, bool) {
				return value{k: vFloat, f: tsk(&it.data).PercentComplete}, true
			},
			set: func(dst, src *Item, _ string) error {
				// the last of Status, PercentComplete and CompleteDate wins
				t := tsk(dst)
				t.PercentComplete = tsk(src).PercentComplete
				if t.PercentComplete < 100 && t.Status == "Completed" {
					t.Status, t.CompleteDate = "InProgress", time.Time{}
				}
				return nil
			}},
		{uri: "task:IsComplete", kinds: mTask, vk: vBool, searchable: true, sortable: true,
			get: func(_ *Mailbox, it *item, _ string) (value, bool) {
				return value{k: vBool, b: tsk(&it.data).IsComplete()}, true
			}},
	}
	out := make(map[string]*itemField, len(fs))
	for _, f := range fs {
		out[f.uri] = f
	}
	return out
}()

// extValue turns stored values of a property type into a value.
func extValue(t PropType, vals []string) value {
	if t.IsArray() {
		return value{k: vStrings, ss: vals, el: elemKind(t.Elem())}
	}
	return scalarValue(t, vals[0])
}

func elemKind(t PropType) vkind {
	switch t {
	case PTBoolean:
		return vBool
	case PTShort, PTInteger, PTLong, PTCurrency:
		return vInt
	case PTFloat, PTDouble, PTApplicationTime:
		return vFloat
	case PTSystemTime:
		return vTime
	}
	return vString
}

func scalarValue(t PropType, s string) value {
	switch elemKind(t) {
	case vBool:
		return value{k: vBool, b: s == "true"}
	case vInt:
		n, _ := strconv.ParseInt(s, 10, 64)
		return value{k: vInt, n: n}
	case vFloat:
		f, _ := strconv.ParseFloat(s, 64)
		return value{k: vFloat, f: f}
	case vTime:
		tm, _ := time.Parse(time.RFC3339Nano, s)
		return value{k: vTime, t: tm}
	}
	return value{k: vString, s: s}
}

// folderField describes a folder FieldURI for restrictions and sorting.
type folderField struct {
	uri string
	vk  vkind
	get func(m *Mailbox, f *folder) (value, bool)
}

var folderFields = map[string]*folderField{
	"folder:DisplayName": {uri: "folder:DisplayName", vk: vString, get: func(_ *Mailbox, f *folder) (value, bool) { return strv(f.name) }},
	"folder:FolderClass": {uri: "folder:FolderClass", vk: vString, get: func(_ *Mailbox, f *folder) (value, bool) {
		if f.class == "" {
			return value{}, false
		}
		return strv(f.class)
	}},
	"folder:TotalCount":  {uri: "folder:TotalCount", vk: vInt, get: func(_ *Mailbox, f *folder) (value, bool) { return value{k: vInt, n: int64(len(f.items))}, true }},
	"folder:UnreadCount": {uri: "folder:UnreadCount", vk: vInt, get: func(_ *Mailbox, f *folder) (value, bool) { return value{k: vInt, n: int64(f.unread)}, true }},
	"folder:ChildFolderCount": {uri: "folder:ChildFolderCount", vk: vInt, get: func(_ *Mailbox, f *folder) (value, bool) {
		n := 0
		for _, c := range f.children {
			if !c.softDeleted {
				n++
			}
		}
		return value{k: vInt, n: int64(n)}, true
	}},
}

// taskStatusField is task:Status: setting anything but Completed undoes a
// completion (the last of Status, PercentComplete, CompleteDate wins).
func taskStatusField() *itemField {
	f := enumField("task:Status", mTask, func(it *Item) *string { return &tsk(it).Status }, taskStatuses)
	set := f.set
	f.set = func(dst, src *Item, idx string) error {
		if err := set(dst, src, idx); err != nil {
			return err
		}
		if t := tsk(dst); t.Status != "Completed" {
			t.CompleteDate = time.Time{}
			if t.PercentComplete == 100 {
				t.PercentComplete = 0
			}
		}
		return nil
	}
	return f
}
