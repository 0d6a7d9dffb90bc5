package mailbox

import (
	"strings"
	"time"
)

// ItemKind is the EWS element of an item.
type ItemKind uint8

// Item kinds.
const (
	Message      ItemKind = iota // t:Message, IPM.Note
	CalendarItem                 // t:CalendarItem, IPM.Appointment
	Contact                      // t:Contact, IPM.Contact
	Task                         // t:Task, IPM.Task
)

// String returns the EWS element name without prefix.
func (k ItemKind) String() string {
	switch k {
	case CalendarItem:
		return "CalendarItem"
	case Contact:
		return "Contact"
	case Task:
		return "Task"
	}
	return "Message"
}

// DefaultClass is the ItemClass of a new item of this kind.
func (k ItemKind) DefaultClass() string {
	switch k {
	case CalendarItem:
		return "IPM.Appointment"
	case Contact:
		return "IPM.Contact"
	case Task:
		return "IPM.Task"
	}
	return "IPM.Note"
}

// BodyType is the format of a body.
type BodyType string

// Body types.
const (
	BodyText BodyType = "Text"
	BodyHTML BodyType = "HTML"
)

// Body is an item body.
type Body struct {
	Type    BodyType
	Content string
}

// Address is a mailbox address (t:Mailbox).
type Address struct {
	Name, Email string
}

// Header is an Internet message header.
type Header struct {
	Name, Value string
}

// RawProperty is a property the model keeps verbatim: a schema-valid
// element it does not model, keyed by its element name (for example
// "t:ReminderMinutesBeforeStart"), with the element's XML. It is returned
// as it was stored.
type RawProperty struct {
	Name string
	XML  string
}

// Item is an item: what a client creates, and the snapshot the model
// returns. Typed fields are the property bag the model understands;
// Extended holds extended properties; Raw holds anything else verbatim.
// Calendar, Contact and Task are set for items of those kinds.
type Item struct {
	// Set by the model on snapshots; ignored on create.
	ID, ChangeKey, ParentFolderID string
	Size                          int
	HasAttachments                bool
	Attachments                   []AttachmentInfo
	// Created and Modified are set by the model; a Created given on create
	// is kept (seeding old mail directly; the SOAP layer never passes one,
	// DateTimeCreated is read-only) and is then also Modified.
	Created, Modified time.Time

	Kind         ItemKind
	ItemClass    string // "" means the kind's default
	Subject      string
	Body         Body
	Categories   []string
	Importance   string // Low, Normal (default), High
	Sensitivity  string // Normal (default), Personal, Private, Confidential
	IsRead       bool
	IsDraft      bool
	IsAssociated bool

	From, Sender      *Address
	To, Cc, Bcc       []Address
	ReplyTo           []Address
	InternetMessageID string
	Headers           []Header
	MIME              []byte // as stored; RenderMIME makes one when empty
	Sent, Received    time.Time

	Calendar *CalendarFields
	Contact  *ContactFields
	Task     *TaskFields

	Extended []ExtendedProperty
	Raw      []RawProperty
}

// CalendarFields are the properties of a calendar item.
type CalendarFields struct {
	Start, End     time.Time
	IsAllDayEvent  bool
	Location       string
	Organizer      *Address
	Required       []Address
	Optional       []Address
	Resources      []Address
	LegacyFreeBusy string // Free, Tentative, Busy (default), OOF, WorkingElsewhere, NoData
	UID            string
	Recurrence     *Recurrence
	// DeletedOccurrences are the original starts of deleted occurrences.
	DeletedOccurrences []time.Time
	// ModifiedOccurrences are exceptions, by original start.
	ModifiedOccurrences []OccurrenceException
}

// OccurrenceException changes one occurrence of a series.
type OccurrenceException struct {
	OriginalStart time.Time
	Start, End    time.Time
	Subject       string // "" keeps the master's
	Location      string // "" keeps the master's
	// Updates are the UpdateItem changes made to the occurrence, in
	// order: the exception is the master's current properties with these
	// applied, so what the exception overrides stays and the rest follows
	// the master (as an exception's override flags work in Exchange).
	// Start, End, Subject and Location above are their result.
	Updates []Update
}

// ContactFields are the properties of a contact.
type ContactFields struct {
	FileAs, DisplayName             string
	GivenName, MiddleName, Surname  string
	Nickname, CompanyName, JobTitle string
	Department, OfficeLocation      string
	EmailAddresses                  []KeyedAddress // keys EmailAddress1..3
	PhoneNumbers                    []KeyedString  // keys as PhoneNumberKeyType
	PhysicalAddresses               []PhysicalAddress
	ImAddresses                     []KeyedString // keys ImAddress1..3
	Birthday                        time.Time
	PostalAddressIndex              string
}

// KeyedAddress is an entry of EmailAddresses.
type KeyedAddress struct {
	Key, Email, Name string
}

// KeyedString is an entry of PhoneNumbers or ImAddresses.
type KeyedString struct {
	Key, Value string
}

// PhysicalAddress is an entry of PhysicalAddresses (Home, Business, Other).
type PhysicalAddress struct {
	Key                                              string
	Street, City, State, CountryOrRegion, PostalCode string
}

// TaskFields are the properties of a task.
type TaskFields struct {
	Status                           string // NotStarted (default), InProgress, Completed, WaitingOnOthers, Deferred
	StartDate, DueDate, CompleteDate time.Time
	PercentComplete                  float64
}

// IsComplete is computed: Status Completed.
func (t *TaskFields) IsComplete() bool { return t != nil && t.Status == "Completed" }

// Key sets of the contact dictionaries (types.xsd).
var (
	emailKeys    = []string{"EmailAddress1", "EmailAddress2", "EmailAddress3"}
	imKeys       = []string{"ImAddress1", "ImAddress2", "ImAddress3"}
	addressKeys  = []string{"Home", "Business", "Other"}
	phoneKeys    = []string{"AssistantPhone", "BusinessFax", "BusinessPhone", "BusinessPhone2", "Callback", "CarPhone", "CompanyMainPhone", "HomeFax", "HomePhone", "HomePhone2", "Isdn", "MobilePhone", "OtherFax", "OtherTelephone", "Pager", "PrimaryPhone", "RadioPhone", "Telex", "TtyTddPhone", "BusinessMobile", "IPPhone", "Mms", "Msn"}
	taskStatuses = []string{"NotStarted", "InProgress", "Completed", "WaitingOnOthers", "Deferred"}
)

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

// item is a stored item. Only the fields a snapshot cannot compute are
// kept besides the Item value.
type item struct {
	num    uint64
	folder *folder
	ver    uint32
	data   Item // ID, ChangeKey, ParentFolderID, Size, attachments info zero
	size   int
	atts   []*attachment
	// ekeys caches the keys of data.Extended, index for index, so
	// restrictions on extended properties do not parse URIs per item.
	ekeys []extKey
	// fieldVer records the version at which a field was last set by an
	// update, for AutoResolve conflict detection.
	fieldVer []fieldVer
}

type fieldVer struct {
	path string
	ver  uint32
}

// computeSize is the item's Size: a fixed overhead plus the bytes of what
// it stores (the model's estimate; Exchange's includes MAPI overhead).
func computeSize(it *Item, atts []*attachment) int {
	n := 256 + len(it.Subject) + len(it.Body.Content) + len(it.MIME) + len(it.InternetMessageID)
	for _, s := range it.Categories {
		n += len(s) + 8
	}
	for _, l := range [][]Address{it.To, it.Cc, it.Bcc, it.ReplyTo} {
		for _, a := range l {
			n += len(a.Name) + len(a.Email) + 16
		}
	}
	for _, h := range it.Headers {
		n += len(h.Name) + len(h.Value) + 4
	}
	for _, e := range it.Extended {
		n += 16 + len(e.URI.PropertyName)
		for _, v := range e.Values {
			n += len(v)
		}
	}
	for _, r := range it.Raw {
		n += len(r.Name) + len(r.XML)
	}
	if c := it.Contact; c != nil {
		n += len(c.FileAs) + len(c.DisplayName) + len(c.GivenName) + len(c.Surname) + len(c.CompanyName) + len(c.JobTitle)
		n += 32 * (len(c.EmailAddresses) + len(c.PhoneNumbers) + len(c.PhysicalAddresses))
	}
	if c := it.Calendar; c != nil {
		n += 64 + len(c.Location) + 32*(len(c.Required)+len(c.Optional))
	}
	for _, a := range atts {
		n += a.size()
	}
	return n
}

// normalizeItem validates a new item's typed fields and fills defaults.
func (m *Mailbox) normalizeItem(it *Item) error {
	if it.ItemClass == "" {
		it.ItemClass = it.Kind.DefaultClass()
	} else if !classFits(it.Kind, it.ItemClass) {
		return errf(ErrObjectTypeChanged, "ItemClass %q does not fit a %s", it.ItemClass, it.Kind)
	}
	if it.Importance == "" {
		it.Importance = "Normal"
	} else if !oneOf(it.Importance, []string{"Low", "Normal", "High"}) {
		return errf(ErrInvalidValueForProperty, "item:Importance %q", it.Importance)
	}
	if it.Sensitivity == "" {
		it.Sensitivity = "Normal"
	} else if !oneOf(it.Sensitivity, []string{"Normal", "Personal", "Private", "Confidential"}) {
		return errf(ErrInvalidValueForProperty, "item:Sensitivity %q", it.Sensitivity)
	}
	if it.Body.Type == "" {
		it.Body.Type = BodyText
	} else if it.Body.Type != BodyText && it.Body.Type != BodyHTML {
		return errf(ErrInvalidValueForProperty, "item:Body BodyType %q", it.Body.Type)
	}
	switch it.Kind {
	case Message:
	case CalendarItem:
		if it.Calendar == nil {
			it.Calendar = &CalendarFields{}
		}
		if err := validCalendar(it.Calendar); err != nil {
			return err
		}
	case Contact:
		if it.Contact == nil {
			it.Contact = &ContactFields{}
		}
		if err := validContact(it.Contact); err != nil {
			return err
		}
	case Task:
		if it.Task == nil {
			it.Task = &TaskFields{}
		}
		if err := normalizeTask(it.Task, m.now()); err != nil {
			return err
		}
	default:
		return errf(ErrInvalidRequest, "unknown item kind %d", it.Kind)
	}
	if it.Kind != CalendarItem {
		it.Calendar = nil
	}
	if it.Kind != Contact {
		it.Contact = nil
	}
	if it.Kind != Task {
		it.Task = nil
	}
	ext, err := normalizeExtList(it.Extended)
	if err != nil {
		return err
	}
	if p, ok := findExtIn(ext, keywordsKey); ok {
		// PublicStrings Keywords is item:Categories.
		it.Categories = append([]string(nil), p.Values...)
		ext = deleteExt(ext, keywordsKey)
	}
	it.Extended = ext
	return nil
}

func classFits(k ItemKind, class string) bool {
	c := strings.ToLower(class)
	d := strings.ToLower(k.DefaultClass())
	if c == d || strings.HasPrefix(c, d+".") {
		return true
	}
	switch k {
	case Message:
		// Other IPM.* classes (reports, IPM.Post, meeting messages) are
		// messages as far as the model cares, except the typed ones.
		return strings.HasPrefix(c, "ipm.") && !strings.HasPrefix(c, "ipm.appointment") &&
			!strings.HasPrefix(c, "ipm.contact") && !strings.HasPrefix(c, "ipm.task")
	case Contact:
		return c == "ipm.distlist"
	}
	return false
}

func validCalendar(c *CalendarFields) error {
	if c.End.Before(c.Start) {
		return errf(ErrCalendarEndBeforeStart, "calendar:End %s is before calendar:Start %s", c.End.Format(time.RFC3339), c.Start.Format(time.RFC3339))
	}
	if c.End.Sub(c.Start) > 5*366*24*time.Hour {
		return errf(ErrCalendarDurationTooLong, "the item lasts longer than five years")
	}
	if c.LegacyFreeBusy == "" {
		c.LegacyFreeBusy = "Busy"
	} else if !oneOf(c.LegacyFreeBusy, []string{"Free", "Tentative", "Busy", "OOF", "WorkingElsewhere", "NoData"}) {
		return errf(ErrInvalidValueForProperty, "calendar:LegacyFreeBusyStatus %q", c.LegacyFreeBusy)
	}
	if c.Recurrence != nil {
		if err := c.Recurrence.validate(c.Start); err != nil {
			return err
		}
	}
	return nil
}

func validContact(c *ContactFields) error {
	seen := map[string]bool{}
	for _, e := range c.EmailAddresses {
		if !oneOf(e.Key, emailKeys) || seen["e"+e.Key] {
			return errf(ErrInvalidValueForProperty, "contacts:EmailAddress key %q (EmailAddress1..3, once each)", e.Key)
		}
		seen["e"+e.Key] = true
	}
	for _, p := range c.PhoneNumbers {
		if !oneOf(p.Key, phoneKeys) || seen["p"+p.Key] {
			return errf(ErrInvalidValueForProperty, "contacts:PhoneNumber key %q", p.Key)
		}
		seen["p"+p.Key] = true
	}
	for _, p := range c.ImAddresses {
		if !oneOf(p.Key, imKeys) || seen["i"+p.Key] {
			return errf(ErrInvalidValueForProperty, "contacts:ImAddress key %q", p.Key)
		}
		seen["i"+p.Key] = true
	}
	for _, a := range c.PhysicalAddresses {
		if !oneOf(a.Key, addressKeys) || seen["a"+a.Key] {
			return errf(ErrInvalidValueForProperty, "contacts:PhysicalAddress key %q (Home, Business, Other)", a.Key)
		}
		seen["a"+a.Key] = true
	}
	if c.PostalAddressIndex != "" && c.PostalAddressIndex != "None" && !oneOf(c.PostalAddressIndex, addressKeys) {
		return errf(ErrInvalidValueForProperty, "contacts:PostalAddressIndex %q", c.PostalAddressIndex)
	}
	return nil
}

// normalizeTask applies the documented equivalences: Status Completed,
// PercentComplete 100 and a CompleteDate all mean complete.
func normalizeTask(t *TaskFields, now time.Time) error {
	if t.Status == "" {
		t.Status = "NotStarted"
	}
	if !oneOf(t.Status, taskStatuses) {
		return errf(ErrInvalidValueForProperty, "task:Status %q", t.Status)
	}
	if t.PercentComplete < 0 || t.PercentComplete > 100 || t.PercentComplete != t.PercentComplete {
		return errf(ErrInvalidValueForProperty, "task:PercentComplete %v is outside 0..100", t.PercentComplete)
	}
	switch {
	case t.Status == "Completed" || t.PercentComplete == 100 || !t.CompleteDate.IsZero():
		t.Status, t.PercentComplete = "Completed", 100
		if t.CompleteDate.IsZero() {
			t.CompleteDate = now
		}
	case t.Status == "NotStarted" && t.PercentComplete > 0:
		t.Status = "InProgress"
	}
	t.StartDate, t.DueDate = dateOnly(t.StartDate), dateOnly(t.DueDate)
	return nil
}

// dateOnly keeps the date of a task date (Exchange stores dates, echoes
// midnight UTC).
func dateOnly(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// cloneItem deep-copies an Item.
func cloneItem(src Item) Item {
	it := src
	it.Categories = append([]string(nil), src.Categories...)
	it.To = append([]Address(nil), src.To...)
	it.Cc = append([]Address(nil), src.Cc...)
	it.Bcc = append([]Address(nil), src.Bcc...)
	it.ReplyTo = append([]Address(nil), src.ReplyTo...)
	it.Headers = append([]Header(nil), src.Headers...)
	it.MIME = append([]byte(nil), src.MIME...)
	it.Attachments = append([]AttachmentInfo(nil), src.Attachments...)
	if src.From != nil {
		a := *src.From
		it.From = &a
	}
	if src.Sender != nil {
		a := *src.Sender
		it.Sender = &a
	}
	if src.Calendar != nil {
		c := *src.Calendar
		c.Required = append([]Address(nil), c.Required...)
		c.Optional = append([]Address(nil), c.Optional...)
		c.Resources = append([]Address(nil), c.Resources...)
		c.DeletedOccurrences = append([]time.Time(nil), c.DeletedOccurrences...)
		c.ModifiedOccurrences = append([]OccurrenceException(nil), c.ModifiedOccurrences...)
		if c.Organizer != nil {
			o := *c.Organizer
			c.Organizer = &o
		}
		if c.Recurrence != nil {
			r := *c.Recurrence
			r.Pattern.DaysOfWeek = append([]string(nil), r.Pattern.DaysOfWeek...)
			c.Recurrence = &r
		}
		it.Calendar = &c
	}
	if src.Contact != nil {
		c := *src.Contact
		c.EmailAddresses = append([]KeyedAddress(nil), c.EmailAddresses...)
		c.PhoneNumbers = append([]KeyedString(nil), c.PhoneNumbers...)
		c.PhysicalAddresses = append([]PhysicalAddress(nil), c.PhysicalAddresses...)
		c.ImAddresses = append([]KeyedString(nil), c.ImAddresses...)
		it.Contact = &c
	}
	if src.Task != nil {
		t := *src.Task
		it.Task = &t
	}
	it.Extended = cloneExt(src.Extended)
	it.Raw = cloneRaw(src.Raw)
	return it
}

func cloneRaw(r []RawProperty) []RawProperty {
	if len(r) == 0 {
		return nil
	}
	return append([]RawProperty(nil), r...)
}

// snapshot returns the public view of a stored item.
func (m *Mailbox) snapshot(it *item) Item {
	out := cloneItem(it.data)
	out.ID = m.id(KindItemID, it.num)
	out.ChangeKey = encodeChangeKey(KindItemID, it.ver)
	out.ParentFolderID = m.id(KindFolderID, it.folder.num)
	out.Size = it.size
	out.HasAttachments = len(it.atts) > 0
	out.Attachments = m.attachmentInfos(it)
	return out
}

// CreateItem stores an item in a folder and returns its snapshot. Calendar
// items only go into calendar folders ([ErrCannotCreateCalendar]).
func (m *Mailbox) CreateItem(folderRef string, it Item) (Item, error) {
	return m.createItem(folderRef, it, false)
}

// Deliver stores a message as delivered mail: like CreateItem, and the
// change log also records NewMail.
func (m *Mailbox) Deliver(folderRef string, it Item) (Item, error) {
	return m.createItem(folderRef, it, true)
}

func (m *Mailbox) createItem(folderRef string, src Item, newMail bool) (Item, error) {
	it := cloneItem(src)
	it.ID, it.ChangeKey, it.ParentFolderID, it.Size, it.HasAttachments, it.Attachments = "", "", "", 0, false, nil
	if len(it.MIME) > 0 {
		if err := fillFromMIME(&it); err != nil {
			return Item{}, err
		}
	}
	if err := m.normalizeItem(&it); err != nil {
		return Item{}, err
	}
	m.lock()
	defer m.mu.Unlock()
	f, err := m.folderLocked(folderRef)
	if err != nil {
		return Item{}, err
	}
	if it.Kind == CalendarItem && f.kind != CalendarFolder {
		return Item{}, errf(ErrCannotCreateCalendar, "folder %q is a %s", f.name, f.kind)
	}
	now := m.now()
	if it.Created.IsZero() {
		it.Created = now
	}
	it.Modified = it.Created
	if it.Kind == Message {
		if it.Received.IsZero() {
			it.Received = now
		}
		if it.Sent.IsZero() && !it.IsDraft {
			it.Sent = now
		}
	}
	if it.Kind == CalendarItem && it.Calendar.UID == "" {
		it.Calendar.UID = m.id(KindItemID, m.next+1)
	}
	si := &item{num: m.newNum(), ver: 1, data: it}
	si.size = computeSize(&si.data, nil)
	if si.size > m.store.opts.MaxItemSize {
		return Item{}, errf(ErrMessageSizeExceeded, "the item has %d bytes, the limit is %d", si.size, m.store.opts.MaxItemSize)
	}
	if err := m.checkQuota(int64(si.size)); err != nil {
		return Item{}, err
	}
	m.placeItemLocked(si, f)
	m.logItemLocked(entry{typ: ChangeCreated, num: si.num, parent: f.num}, si)
	if newMail {
		m.logLocked(entry{typ: ChangeNewMail, num: si.num, parent: f.num})
	}
	return m.snapshot(si), nil
}

func (m *Mailbox) checkQuota(add int64) error {
	if q := m.store.opts.QuotaBytes; q > 0 && m.bytes+add > q {
		return errf(ErrQuotaExceeded, "the mailbox holds %d bytes, the quota is %d", m.bytes, q)
	}
	return nil
}

// placeItemLocked puts it into f and keeps the counts.
func (m *Mailbox) placeItemLocked(it *item, f *folder) {
	it.rekey()
	it.folder = f
	f.items[it.num] = it
	m.indexAdd(it)
	if !it.data.IsRead {
		f.unread++
	}
	f.size += int64(it.size)
	m.bytes += int64(it.size)
	m.items[it.num] = it
}

// removeItemLocked takes it out of its folder and the mailbox.
func (m *Mailbox) removeItemLocked(it *item) {
	f := it.folder
	m.indexRemove(it)
	delete(f.items, it.num)
	if !it.data.IsRead {
		f.unread--
	}
	f.size -= int64(it.size)
	m.bytes -= int64(it.size)
	delete(m.items, it.num)
	for _, a := range it.atts {
		delete(m.attach, a.num)
	}
}

// itemLocked resolves an item id.
func (m *Mailbox) itemLocked(id string) (*item, error) {
	info, err := m.decode(id, KindItemID)
	if err != nil {
		return nil, err
	}
	it := m.items[info.Num]
	if it == nil {
		return nil, errf(ErrItemNotFound, "item %q", short(id))
	}
	return it, nil
}

// GetItem returns an item by id.
func (m *Mailbox) GetItem(id string) (Item, error) {
	m.rlock()
	defer m.mu.RUnlock()
	it, err := m.itemLocked(id)
	if err != nil {
		return Item{}, err
	}
	return m.snapshot(it), nil
}

// Items returns every item of a folder, oldest first.
func (m *Mailbox) Items(folderRef string) ([]Item, error) {
	m.rlock()
	defer m.mu.RUnlock()
	f, err := m.folderLocked(folderRef)
	if err != nil {
		return nil, err
	}
	its := sortedItems(f)
	out := make([]Item, len(its))
	for i, it := range its {
		out[i] = m.snapshot(it)
	}
	return out, nil
}

// rekey refreshes the cached extended property keys.
func (it *item) rekey() {
	it.ekeys = it.ekeys[:0]
	for _, p := range it.data.Extended {
		k, _ := p.URI.key()
		it.ekeys = append(it.ekeys, k)
	}
}
