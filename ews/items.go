package ews

import (
	"context"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// BodyType is the format of an item body.
type BodyType string

// The body types.
const (
	BodyText BodyType = "Text"
	BodyHTML BodyType = "HTML"
	// BodyBest asks for the body in the format it is stored in (shapes
	// only).
	BodyBest BodyType = "Best"
)

// Body is the body of an item (t:Body).
type Body struct {
	Type    BodyType
	Content string
}

// Item is a mailbox item of any kind, as FindItem and GetItem return it and
// as CreateItem and UpdateItem take it. Which fields a response fills depends
// on the shape requested; Kind says which element the item is, and Contact,
// Task and Calendar hold the fields of those kinds.
//
// In CreateItem the writable fields that are set are sent (the zero value of
// a field means "not set"; UpdateItem can set a property to its zero value);
// read-only fields (ItemID, ParentFolderID, Size, DateTime*, HasAttachments,
// InternetMessageHeaders, LastModifiedTime, TextBody, Attachments) are
// ignored there.
type Item struct {
	// Kind is the element name: KindMessage, KindCalendarItem,
	// KindContact, KindTask, or another such as "MeetingRequest" or "Item".
	// In CreateItem an empty Kind is taken from the kind field set
	// (Contact, Task, Calendar), or else KindMessage.
	Kind           string
	ItemID         ItemID
	ParentFolderID FolderID
	// MimeContent is the item as MIME (RFC 5322), decoded from base64: in
	// CreateItem, the message to create from it; in GetItem, the rendering
	// GetItemRequest.IncludeMimeContent asks for.
	MimeContent      []byte
	ItemClass        string
	Subject          string
	Sensitivity      Sensitivity
	Body             Body
	DateTimeReceived time.Time
	Size             int
	Categories       []string
	Importance       Importance
	// InternetMessageHeaders are the message's Internet headers, in order.
	InternetMessageHeaders []InternetMessageHeader
	DateTimeSent           time.Time
	DateTimeCreated        time.Time
	HasAttachments         bool
	// ExtendedProperties holds the extended properties the shape asked
	// for; in CreateItem, the ones to set.
	ExtendedProperties []ExtendedProperty
	LastModifiedTime   time.Time
	// TextBody is the body as plain text (item:TextBody, Exchange 2013+).
	TextBody string
	// Attachments lists the attachments (headers only, no content) when
	// the shape includes item:Attachments.
	Attachments []Attachment

	// IsRead, From, ToRecipients, CcRecipients, BccRecipients and
	// InternetMessageID are set for messages.
	IsRead            bool
	From              Mailbox
	ToRecipients      []Mailbox
	CcRecipients      []Mailbox
	BccRecipients     []Mailbox
	InternetMessageID string

	// Contact holds the fields of a contact; a parsed item of Kind
	// KindContact always has one (and likewise Task and Calendar).
	Contact *Contact
	// Task holds the fields of a task (Kind KindTask).
	Task *Task
	// Calendar holds the fields of a calendar item (Kind
	// KindCalendarItem).
	Calendar *CalendarItem
}

// The item kinds this package reads and writes ([Item].Kind).
const (
	KindMessage      = "Message"
	KindCalendarItem = "CalendarItem"
	KindContact      = "Contact"
	KindTask         = "Task"
	// KindItem is the generic element; UpdateItem uses it for properties
	// of every item when the kind is unknown.
	KindItem = "Item"
)

// ExtendedProperty returns the item's value of the property u names,
// comparing normalised forms (see [ExtendedFieldURI.Normalize]).
func (it *Item) ExtendedProperty(u ExtendedFieldURI) (ExtendedProperty, bool) {
	return findExtended(it.ExtendedProperties, u)
}

// InternetMessageHeader is one Internet header of a message.
type InternetMessageHeader struct {
	Name  string
	Value string
}

func parseItem(e *etree.Element) Item {
	it := Item{Kind: e.Tag}
	switch it.Kind {
	case KindContact:
		it.Contact = &Contact{}
	case KindTask:
		it.Task = &Task{}
	case KindCalendarItem:
		it.Calendar = &CalendarItem{}
	}
	for _, c := range e.ChildElements() {
		if c.NamespaceURI() != NamespaceTypes {
			continue
		}
		switch c.Tag {
		case "ItemId":
			it.ItemID = parseItemID(c)
		case "ParentFolderId":
			it.ParentFolderID = parseFolderID(c)
		case "MimeContent":
			it.MimeContent = parseBase64(c.Text())
		case "ItemClass":
			it.ItemClass = strings.TrimSpace(c.Text())
		case "Subject":
			it.Subject = strings.TrimSpace(c.Text())
		case "Sensitivity":
			it.Sensitivity = Sensitivity(strings.TrimSpace(c.Text()))
		case "Body":
			it.Body = Body{Type: BodyType(c.SelectAttrValue("BodyType", "")), Content: c.Text()}
		case "Attachments":
			it.Attachments = parseAttachments(c)
		case "DateTimeReceived":
			it.DateTimeReceived = parseTime(c.Text())
		case "Size":
			it.Size = parseInt(c.Text())
		case "Categories":
			it.Categories = parseStrings(c)
		case "Importance":
			it.Importance = Importance(strings.TrimSpace(c.Text()))
		case "InternetMessageHeaders":
			for _, h := range c.ChildElements() {
				if h.Tag == "InternetMessageHeader" {
					it.InternetMessageHeaders = append(it.InternetMessageHeaders, InternetMessageHeader{Name: h.SelectAttrValue("HeaderName", ""), Value: strings.TrimSpace(h.Text())})
				}
			}
		case "DateTimeSent":
			it.DateTimeSent = parseTime(c.Text())
		case "DateTimeCreated":
			it.DateTimeCreated = parseTime(c.Text())
		case "HasAttachments":
			it.HasAttachments = parseBool(c.Text())
		case "ExtendedProperty":
			it.ExtendedProperties = append(it.ExtendedProperties, parseExtendedProperty(c))
		case "LastModifiedTime":
			it.LastModifiedTime = parseTime(c.Text())
		case "TextBody":
			it.TextBody = c.Text()
		case "IsRead":
			it.IsRead = parseBool(c.Text())
		case "From":
			it.From = parseMailbox(childNS(c, NamespaceTypes, "Mailbox"))
		case "ToRecipients":
			it.ToRecipients = parseMailboxes(c)
		case "CcRecipients":
			it.CcRecipients = parseMailboxes(c)
		case "BccRecipients":
			it.BccRecipients = parseMailboxes(c)
		case "InternetMessageId":
			it.InternetMessageID = strings.TrimSpace(c.Text())
		default:
			switch {
			case it.Contact != nil:
				it.Contact.parseField(c)
			case it.Task != nil:
				it.Task.parseField(c)
			case it.Calendar != nil:
				it.Calendar.parseField(c)
			}
		}
	}
	return it
}

// parseItems returns the items (any t:* element) of a t:Items or m:Items
// element.
func parseItems(list *etree.Element) []Item {
	if list == nil {
		return nil
	}
	var out []Item
	for _, e := range list.ChildElements() {
		if e.NamespaceURI() == NamespaceTypes {
			out = append(out, parseItem(e))
		}
	}
	return out
}

// ItemTraversal is the kind of a FindItem search.
type ItemTraversal string

// The FindItem traversals.
const (
	// ItemShallow lists the folder's normal items (the default).
	ItemShallow ItemTraversal = "Shallow"
	// ItemSoftDeleted lists soft-deleted items.
	ItemSoftDeleted ItemTraversal = "SoftDeleted"
	// ItemAssociated lists the folder's associated (hidden) items.
	ItemAssociated ItemTraversal = "Associated"
)

// FindItemRequest is the input of [Client.FindItem].
type FindItemRequest struct {
	// ParentFolderIDs are the folders to search.
	ParentFolderIDs []FolderID
	// Traversal defaults to ItemShallow.
	Traversal ItemTraversal
	// Shape is the base shape; the zero value means ShapeIDOnly.
	Shape                BaseShape
	AdditionalProperties []FieldURI
	// IndexedProperties adds dictionary entries to the shape, e.g. a
	// contact's EmailAddress1.
	IndexedProperties []IndexedFieldURI
	// ExtendedProperties adds extended properties to the shape.
	ExtendedProperties []ExtendedFieldURI
	// Page, when set, requests one page (t:IndexedPageItemView). Without
	// it the server decides how many items to return.
	Page *PageView
	// CalendarView, instead of Page, expands recurring series of a
	// calendar folder into the occurrences within a time window. Exchange
	// does not combine it with Restriction or SortOrder.
	CalendarView *CalendarView
	// Restriction, when set, returns only the items that match it.
	Restriction Restriction
	// SortOrder sorts the items, first key first.
	SortOrder []FieldOrder
}

// CalendarView asks FindItem for the calendar items, single ones and
// occurrences of series, that overlap [Start, End) (t:CalendarView).
// Exchange refuses windows longer than two years
// (ErrorCalendarViewRangeTooBig) and folders that are not calendars
// (ErrorCalendarFolderIsInvalidForCalendarView). There is no offset: when a
// page is not the last (IncludesLastItemInRange false), ask again from the
// start of the last item returned and drop the items already seen.
type CalendarView struct {
	Start time.Time
	End   time.Time
	// MaxEntries limits the items returned, 0 (no limit) to MaxPageSize.
	MaxEntries int
}

func (v *CalendarView) write(op string, parent *etree.Element) error {
	if v.Start.IsZero() || v.End.IsZero() {
		return invalidf("%s: CalendarView needs Start and End", op)
	}
	if v.End.Before(v.Start) {
		return invalidf("%s: CalendarView End %s is before Start %s", op, formatTime(v.End), formatTime(v.Start))
	}
	if v.MaxEntries < 0 || v.MaxEntries > MaxPageSize {
		return invalidf("%s: CalendarView MaxEntries %d is outside 0..%d", op, v.MaxEntries, MaxPageSize)
	}
	e := parent.CreateElement("m:CalendarView")
	if v.MaxEntries > 0 {
		e.CreateAttr("MaxEntriesReturned", strconv.Itoa(v.MaxEntries))
	}
	e.CreateAttr("StartDate", formatTime(v.Start))
	e.CreateAttr("EndDate", formatTime(v.End))
	return nil
}

// FindItemResponse is the result of [Client.FindItem].
type FindItemResponse struct {
	ServerVersion *ServerVersionInfo
	// Results has one entry per parent folder, in request order.
	Results []FindItemResult
}

// FindItemResult is the outcome for one parent folder.
type FindItemResult struct {
	ResponseMessage
	Page  PageInfo
	Items []Item
	// Err is a *ResponseError when Class == ClassError.
	Err error
}

func (r *FindItemResult) setMessage(m ResponseMessage, err error) { r.ResponseMessage, r.Err = m, err }

// FindItem runs the EWS FindItem operation: the items of each parent
// folder, one page at a time when Page is set. See [Client.Items] to walk
// all pages.
func (c *Client) FindItem(ctx context.Context, req *FindItemRequest, opts ...CallOption) (*FindItemResponse, error) {
	if req == nil {
		return nil, invalidf("FindItem: request is nil")
	}
	op := opFindItem
	traversal := req.Traversal
	if traversal == "" {
		traversal = ItemShallow
	}
	switch traversal {
	case ItemShallow, ItemSoftDeleted, ItemAssociated:
	default:
		return nil, invalidf("FindItem: traversal %q is none of Shallow, SoftDeleted, Associated", clip(string(traversal)))
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:FindItem")
		e.CreateAttr("Traversal", string(traversal))
		if err := writeItemShape(op.name, e, req.Shape, false, "", req.AdditionalProperties, req.IndexedProperties, req.ExtendedProperties); err != nil {
			return err
		}
		if req.Page != nil && req.CalendarView != nil {
			return invalidf("FindItem: set Page or CalendarView, not both")
		}
		if req.Page != nil {
			if err := req.Page.write(op.name, e, "IndexedPageItemView"); err != nil {
				return err
			}
		}
		if req.CalendarView != nil {
			if req.Restriction != nil || len(req.SortOrder) > 0 {
				return invalidf("FindItem: Exchange does not combine a CalendarView with a Restriction or SortOrder; filter and sort the occurrences yourself")
			}
			if err := req.CalendarView.write(op.name, e); err != nil {
				return err
			}
		}
		if req.Restriction != nil {
			if err := writeRestriction(op.name, e, req.Restriction); err != nil {
				return err
			}
		}
		if len(req.SortOrder) > 0 {
			if err := writeSortOrder(op.name, e, req.SortOrder); err != nil {
				return err
			}
		}
		return writeFolderIDs(op.name, "ParentFolderIds", e, req.ParentFolderIDs)
	})
	if err != nil {
		return nil, err
	}
	return parseFindItem(soap, len(req.ParentFolderIDs))
}

func parseFindItem(soap *soapResponse, want int) (*FindItemResponse, error) {
	results, err := parseResults(soap, opFindItem, want, func(r *FindItemResult, e *etree.Element) {
		if root := childNS(e, NamespaceMessages, "RootFolder"); root != nil {
			r.Page = parsePageInfo(root)
			r.Items = parseItems(childNS(root, NamespaceTypes, "Items"))
		}
	})
	if err != nil {
		return nil, err
	}
	return &FindItemResponse{ServerVersion: soap.serverVersion, Results: results}, nil
}

// DefaultPageSize is the page size [Client.Items] uses when the request
// has no Page.
const DefaultPageSize = 250

// Items walks every item of one folder page by page (FindItem with
// IndexedPageItemView), yielding each item, or a single error that ends
// the walk. req must name exactly one parent folder; req.Page, when set,
// gives the page size and the starting offset. Stop early by breaking out
// of the loop:
//
//	for it, err := range c.Items(ctx, &ews.FindItemRequest{ParentFolderIDs: ...}) {
//		if err != nil { return err }
//		...
//	}
func (c *Client) Items(ctx context.Context, req *FindItemRequest, opts ...CallOption) iter.Seq2[Item, error] {
	return func(yield func(Item, error) bool) {
		if req == nil || len(req.ParentFolderIDs) != 1 {
			yield(Item{}, invalidf("FindItem: Items needs a request with exactly one parent folder"))
			return
		}
		if req.CalendarView != nil {
			yield(Item{}, invalidf("FindItem: Items pages by offset, which a CalendarView has not; call FindItem"))
			return
		}
		page := PageView{MaxEntries: DefaultPageSize}
		if req.Page != nil {
			page = *req.Page
		}
		r := *req
		for {
			r.Page = &page
			resp, err := c.FindItem(ctx, &r, opts...)
			if err != nil {
				yield(Item{}, err)
				return
			}
			res := resp.Results[0]
			if res.Err != nil {
				yield(Item{}, res.Err)
				return
			}
			for _, it := range res.Items {
				if !yield(it, nil) {
					return
				}
			}
			next := max(res.Page.IndexedPagingOffset, page.Offset+len(res.Items))
			if res.Page.IncludesLastItemInRange || len(res.Items) == 0 || next <= page.Offset {
				return
			}
			page.Offset = next
		}
	}
}

// FindAllItems returns every item of one folder, paging with [Client.Items].
// Mind the size of the folder: use Items to stop early.
func (c *Client) FindAllItems(ctx context.Context, req *FindItemRequest, opts ...CallOption) ([]Item, error) {
	var out []Item
	for it, err := range c.Items(ctx, req, opts...) {
		if err != nil {
			return out, err
		}
		out = append(out, it)
	}
	return out, nil
}

// GetItemRequest is the input of [Client.GetItem].
type GetItemRequest struct {
	// ItemIDs are the items to get, at least one.
	ItemIDs []ItemID
	// Shape is the base shape; the zero value means ShapeIDOnly.
	Shape                BaseShape
	AdditionalProperties []FieldURI
	// IndexedProperties adds dictionary entries to the shape, e.g.
	// IndexedFieldURI{FieldURI: FieldContactPhoneNumber, FieldIndex: "MobilePhone"}.
	IndexedProperties []IndexedFieldURI
	// ExtendedProperties adds extended properties to the shape; no base
	// shape includes them.
	ExtendedProperties []ExtendedFieldURI
	// IncludeMimeContent asks for the item rendered as MIME
	// (Item.MimeContent).
	IncludeMimeContent bool
	// BodyType is the format Item.Body comes in: BodyBest (the stored
	// format, the default), BodyText or BodyHTML; the server converts.
	BodyType BodyType
}

// writeItemShape appends m:ItemShape with the elements of
// ItemResponseShapeType in schema order.
func writeItemShape(op string, parent *etree.Element, base BaseShape, mime bool, bodyType BodyType, props []FieldURI, indexed []IndexedFieldURI, ext []ExtendedFieldURI) error {
	s, err := startShape(op, parent, "ItemShape", base)
	if err != nil {
		return err
	}
	if mime {
		s.CreateElement("t:IncludeMimeContent").SetText("true")
	}
	switch bodyType {
	case "":
	case BodyBest, BodyText, BodyHTML:
		s.CreateElement("t:BodyType").SetText(string(bodyType))
	default:
		return invalidf("%s: body type %q is none of Best, Text, HTML", op, clip(string(bodyType)))
	}
	if len(indexed) == 0 {
		return writeAdditional(op, s, props, ext)
	}
	if err := writeAdditional(op, s, props, nil); err != nil {
		return err
	}
	ap := childNS(s, NamespaceTypes, "AdditionalProperties")
	if ap == nil {
		ap = s.CreateElement("t:AdditionalProperties")
	}
	for _, p := range indexed {
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

// GetItemResponse is the result of [Client.GetItem].
type GetItemResponse struct {
	ServerVersion *ServerVersionInfo
	// Results has one entry per requested item, in request order.
	Results []ItemResult
}

// ItemResult is the outcome for one item.
type ItemResult struct {
	ResponseMessage
	// Item is the item; zero when Err is set.
	Item Item
	// Err is a *ResponseError when Class == ClassError.
	Err error
}

func (r *ItemResult) setMessage(m ResponseMessage, err error) { r.ResponseMessage, r.Err = m, err }

// GetItem runs the EWS GetItem operation.
func (c *Client) GetItem(ctx context.Context, req *GetItemRequest, opts ...CallOption) (*GetItemResponse, error) {
	if req == nil {
		return nil, invalidf("GetItem: request is nil")
	}
	op := opGetItem
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:GetItem")
		if err := writeItemShape(op.name, e, req.Shape, req.IncludeMimeContent, req.BodyType, req.AdditionalProperties, req.IndexedProperties, req.ExtendedProperties); err != nil {
			return err
		}
		return writeItemIDs(op.name, e, req.ItemIDs)
	})
	if err != nil {
		return nil, err
	}
	return parseGetItem(soap, len(req.ItemIDs))
}

func parseGetItem(soap *soapResponse, want int) (*GetItemResponse, error) {
	results, err := parseResults(soap, opGetItem, want, func(r *ItemResult, e *etree.Element) {
		if items := parseItems(childNS(e, NamespaceMessages, "Items")); len(items) > 0 {
			r.Item = items[0]
		}
	})
	if err != nil {
		return nil, err
	}
	return &GetItemResponse{ServerVersion: soap.serverVersion, Results: results}, nil
}

// Item gets one item with the Default shape. The error is the request's
// error or the item's *ResponseError.
func (c *Client) Item(ctx context.Context, id ItemID, opts ...CallOption) (*Item, error) {
	resp, err := c.GetItem(ctx, &GetItemRequest{ItemIDs: []ItemID{id}, Shape: ShapeDefault}, opts...)
	if err != nil {
		return nil, err
	}
	r := resp.Results[0]
	if r.Err != nil {
		return nil, r.Err
	}
	return &r.Item, nil
}

// MessageDisposition says what CreateItem does with a message.
type MessageDisposition string

// The message dispositions.
const (
	// SaveOnly saves the message (in SavedItemFolderID, or Drafts).
	SaveOnly MessageDisposition = "SaveOnly"
	// SendOnly sends the message without keeping a copy.
	SendOnly MessageDisposition = "SendOnly"
	// SendAndSaveCopy sends the message and keeps a copy (in
	// SavedItemFolderID, or Sent Items).
	SendAndSaveCopy MessageDisposition = "SendAndSaveCopy"
)

// Message is an e-mail message to create.
type Message struct {
	// ItemClass defaults to IPM.Note on the server.
	ItemClass    string
	Subject      string
	Body         Body
	Categories   []string
	ToRecipients []string
	CcRecipients []string
}

func (m *Message) write(op, field string, parent *etree.Element) error {
	for _, f := range [...]struct{ name, v string }{{"ItemClass", m.ItemClass}, {"Subject", m.Subject}, {"Body", m.Body.Content}} {
		if err := checkText(op, field+"."+f.name, f.v); err != nil {
			return err
		}
	}
	e := parent.CreateElement("t:Message")
	if m.ItemClass != "" {
		e.CreateElement("t:ItemClass").SetText(m.ItemClass)
	}
	if m.Subject != "" {
		e.CreateElement("t:Subject").SetText(m.Subject)
	}
	if m.Body.Content != "" || m.Body.Type != "" {
		bt := m.Body.Type
		if bt == "" {
			bt = BodyText
		}
		if bt != BodyText && bt != BodyHTML {
			return invalidf("%s: %s.Body.Type %q is neither Text nor HTML", op, field, clip(string(bt)))
		}
		b := e.CreateElement("t:Body")
		b.CreateAttr("BodyType", string(bt))
		b.SetText(m.Body.Content)
	}
	if len(m.Categories) > 0 {
		cats := e.CreateElement("t:Categories")
		for _, c := range m.Categories {
			if err := checkText(op, field+".Categories", c); err != nil {
				return err
			}
			cats.CreateElement("t:String").SetText(c)
		}
	}
	for _, list := range []struct {
		tag   string
		addrs []string
	}{{"t:ToRecipients", m.ToRecipients}, {"t:CcRecipients", m.CcRecipients}} {
		if len(list.addrs) == 0 {
			continue
		}
		l := e.CreateElement(list.tag)
		for _, a := range list.addrs {
			if reason := checkAddress(a, "an SMTP address"); reason != "" {
				return invalidf("%s: %s recipient %q %s", op, field, clip(a), reason)
			}
			l.CreateElement("t:Mailbox").CreateElement("t:EmailAddress").SetText(a)
		}
	}
	return nil
}

// CreateItemRequest is the input of [Client.CreateItem].
type CreateItemRequest struct {
	// SavedItemFolderID is where the messages are saved; nil means the
	// server's default (Drafts for SaveOnly, Sent Items for
	// SendAndSaveCopy).
	SavedItemFolderID *FolderID
	// MessageDisposition defaults to SaveOnly.
	MessageDisposition MessageDisposition
	// Messages are the messages to create. Set Messages or Items.
	Messages []Message
	// Items are the items of any kind to create (see [Item]); results
	// come in the same order.
	Items []Item
	// SendMeetingInvitations says whether calendar items with attendees
	// send invitations: "SendToNone" (the default when Items holds a
	// calendar item), "SendOnlyToAll" or "SendToAllAndSaveCopy".
	SendMeetingInvitations string
}

// CreateItemResponse is the result of [Client.CreateItem].
type CreateItemResponse struct {
	ServerVersion *ServerVersionInfo
	// Results has one entry per message, in request order.
	Results []CreateItemResult
}

// CreateItemResult is the outcome for one created item.
type CreateItemResult struct {
	ResponseMessage
	// ItemID is the id of the new item (empty for SendOnly, or when Err is
	// set).
	ItemID ItemID
	// Kind is the element the server answered with, e.g. "Contact".
	Kind string
	// Err is a *ResponseError when Class == ClassError.
	Err error
}

func (r *CreateItemResult) setMessage(m ResponseMessage, err error) {
	r.ResponseMessage, r.Err = m, err
}

// CreateItem runs the EWS CreateItem operation for messages, contacts,
// tasks and calendar items, one result per item in request order. It is not
// idempotent: when the connection breaks after the request was sent, the
// call fails with a *TransportError whose MaybeSent is true instead of
// being repeated, since the first attempt may have created the items.
// Throttling refusals (ErrorServerBusy, HTTP 503) are retried: the server
// did not act on them.
func (c *Client) CreateItem(ctx context.Context, req *CreateItemRequest, opts ...CallOption) (*CreateItemResponse, error) {
	if req == nil {
		return nil, invalidf("CreateItem: request is nil")
	}
	op := opCreateItem
	disp := req.MessageDisposition
	if disp == "" {
		disp = SaveOnly
	}
	switch disp {
	case SaveOnly, SendOnly, SendAndSaveCopy:
	default:
		return nil, invalidf("CreateItem: message disposition %q is none of SaveOnly, SendOnly, SendAndSaveCopy", clip(string(disp)))
	}
	if len(req.Messages) == 0 && len(req.Items) == 0 {
		return nil, invalidf("CreateItem: no messages given")
	}
	if len(req.Messages) > 0 && len(req.Items) > 0 {
		return nil, invalidf("CreateItem: set Messages or Items, not both")
	}
	invitations := req.SendMeetingInvitations
	switch invitations {
	case "":
		for i := range req.Items {
			if req.Items[i].kind(KindMessage) == KindCalendarItem {
				invitations = "SendToNone"
			}
		}
	case "SendToNone", "SendOnlyToAll", "SendToAllAndSaveCopy":
	default:
		return nil, invalidf("CreateItem: SendMeetingInvitations %q is none of SendToNone, SendOnlyToAll, SendToAllAndSaveCopy", clip(invitations))
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:CreateItem")
		e.CreateAttr("MessageDisposition", string(disp))
		if invitations != "" {
			e.CreateAttr("SendMeetingInvitations", invitations)
		}
		if req.SavedItemFolderID != nil {
			if err := req.SavedItemFolderID.write(op.name, "SavedItemFolderId", e.CreateElement("m:SavedItemFolderId")); err != nil {
				return err
			}
		}
		items := e.CreateElement("m:Items")
		for i := range req.Messages {
			if err := req.Messages[i].write(op.name, "Messages["+strconv.Itoa(i)+"]", items); err != nil {
				return err
			}
		}
		for i := range req.Items {
			if err := req.Items[i].write(op.name, "Items["+strconv.Itoa(i)+"]", items, nil, KindMessage); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return parseCreateItem(soap, len(req.Messages)+len(req.Items))
}

func parseCreateItem(soap *soapResponse, want int) (*CreateItemResponse, error) {
	results, err := parseResults(soap, opCreateItem, want, func(r *CreateItemResult, e *etree.Element) {
		if items := parseItems(childNS(e, NamespaceMessages, "Items")); len(items) > 0 {
			r.ItemID, r.Kind = items[0].ItemID, items[0].Kind
		}
	})
	if err != nil {
		return nil, err
	}
	return &CreateItemResponse{ServerVersion: soap.serverVersion, Results: results}, nil
}

// CreateMessage saves one message (SaveOnly) into folder, e.g.
// DistinguishedFolder(FolderDrafts), and returns its id. The error is the
// request's error or the item's *ResponseError.
func (c *Client) CreateMessage(ctx context.Context, folder FolderID, msg Message, opts ...CallOption) (ItemID, error) {
	resp, err := c.CreateItem(ctx, &CreateItemRequest{SavedItemFolderID: &folder, MessageDisposition: SaveOnly, Messages: []Message{msg}}, opts...)
	if err != nil {
		return ItemID{}, err
	}
	r := resp.Results[0]
	if r.Err != nil {
		return ItemID{}, r.Err
	}
	return r.ItemID, nil
}

// CreateItemIn saves one item of any kind into folder (messages with
// SaveOnly, calendar items without invitations) and returns its id. The
// error is the request's error or the item's *ResponseError.
func (c *Client) CreateItemIn(ctx context.Context, folder FolderID, it Item, opts ...CallOption) (ItemID, error) {
	resp, err := c.CreateItem(ctx, &CreateItemRequest{SavedItemFolderID: &folder, MessageDisposition: SaveOnly, Items: []Item{it}}, opts...)
	if err != nil {
		return ItemID{}, err
	}
	r := resp.Results[0]
	if r.Err != nil {
		return ItemID{}, r.Err
	}
	return r.ItemID, nil
}

// DeleteType says how DeleteItem disposes of items.
type DeleteType string

// The delete types.
const (
	// HardDelete removes the item permanently (to the Purges folder of
	// Recoverable Items where a hold applies).
	HardDelete DeleteType = "HardDelete"
	// SoftDelete moves the item to the Deletions folder of Recoverable
	// Items.
	SoftDelete DeleteType = "SoftDelete"
	// MoveToDeletedItems moves the item to Deleted Items.
	MoveToDeletedItems DeleteType = "MoveToDeletedItems"
)

// DeleteItemRequest is the input of [Client.DeleteItem].
type DeleteItemRequest struct {
	// ItemIDs are the items to delete, at least one.
	ItemIDs []ItemID
	// DeleteType is required.
	DeleteType DeleteType
	// SendMeetingCancellations is required by the server for calendar
	// items: "SendToNone", "SendOnlyToAll" or "SendToAllAndSaveCopy".
	SendMeetingCancellations string
	// AffectedTaskOccurrences is required for tasks: "AllOccurrences" or
	// "SpecifiedOccurrenceOnly".
	AffectedTaskOccurrences string
}

// DeleteItemResponse is the result of [Client.DeleteItem].
type DeleteItemResponse struct {
	ServerVersion *ServerVersionInfo
	// Results has one entry per item, in request order.
	Results []DeleteItemResult
}

// DeleteItemResult is the outcome for one item.
type DeleteItemResult struct {
	ResponseMessage
	// Err is a *ResponseError when Class == ClassError.
	Err error
}

func (r *DeleteItemResult) setMessage(m ResponseMessage, err error) {
	r.ResponseMessage, r.Err = m, err
}

// DeleteItem runs the EWS DeleteItem operation. It counts as idempotent for
// retries: deleting the same ids again cannot delete anything else. After
// an ambiguous failure a retried delete may therefore report
// ErrorItemNotFound for an item the first attempt already removed.
func (c *Client) DeleteItem(ctx context.Context, req *DeleteItemRequest, opts ...CallOption) (*DeleteItemResponse, error) {
	if req == nil {
		return nil, invalidf("DeleteItem: request is nil")
	}
	op := opDeleteItem
	switch req.DeleteType {
	case HardDelete, SoftDelete, MoveToDeletedItems:
	default:
		return nil, invalidf("DeleteItem: delete type %q is none of HardDelete, SoftDelete, MoveToDeletedItems", clip(string(req.DeleteType)))
	}
	switch req.SendMeetingCancellations {
	case "", "SendToNone", "SendOnlyToAll", "SendToAllAndSaveCopy":
	default:
		return nil, invalidf("DeleteItem: SendMeetingCancellations %q is none of SendToNone, SendOnlyToAll, SendToAllAndSaveCopy", clip(req.SendMeetingCancellations))
	}
	switch req.AffectedTaskOccurrences {
	case "", "AllOccurrences", "SpecifiedOccurrenceOnly":
	default:
		return nil, invalidf("DeleteItem: AffectedTaskOccurrences %q is none of AllOccurrences, SpecifiedOccurrenceOnly", clip(req.AffectedTaskOccurrences))
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:DeleteItem")
		e.CreateAttr("DeleteType", string(req.DeleteType))
		if req.SendMeetingCancellations != "" {
			e.CreateAttr("SendMeetingCancellations", req.SendMeetingCancellations)
		}
		if req.AffectedTaskOccurrences != "" {
			e.CreateAttr("AffectedTaskOccurrences", req.AffectedTaskOccurrences)
		}
		return writeItemIDs(op.name, e, req.ItemIDs)
	})
	if err != nil {
		return nil, err
	}
	return parseDeleteItem(soap, len(req.ItemIDs))
}

func parseDeleteItem(soap *soapResponse, want int) (*DeleteItemResponse, error) {
	results, err := parseResults[DeleteItemResult](soap, opDeleteItem, want, nil)
	if err != nil {
		return nil, err
	}
	return &DeleteItemResponse{ServerVersion: soap.serverVersion, Results: results}, nil
}

// DeleteItemByID deletes one item. The error is the request's error or the
// item's *ResponseError.
func (c *Client) DeleteItemByID(ctx context.Context, id ItemID, deleteType DeleteType, opts ...CallOption) error {
	resp, err := c.DeleteItem(ctx, &DeleteItemRequest{ItemIDs: []ItemID{id}, DeleteType: deleteType}, opts...)
	if err != nil {
		return err
	}
	return resp.Results[0].Err
}
