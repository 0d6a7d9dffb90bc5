package ews

import (
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// FolderID names a folder: either by its EWS id (ID with an optional
// ChangeKey, t:FolderId) or by its well-known name (Distinguished,
// t:DistinguishedFolderId, optionally in another Mailbox). Exactly one of ID
// and Distinguished is set. With impersonation, a distinguished folder
// already refers to the impersonated mailbox; Mailbox is for delegate access.
type FolderID struct {
	ID            string
	ChangeKey     string
	Distinguished DistinguishedFolderName
	// Mailbox is the SMTP address of the mailbox of a distinguished folder
	// (t:Mailbox/t:EmailAddress); empty for the caller's (or impersonated)
	// mailbox.
	Mailbox string
}

// DistinguishedFolder returns the FolderID of a well-known folder, e.g.
// DistinguishedFolder(FolderInbox).
func DistinguishedFolder(name DistinguishedFolderName) FolderID {
	return FolderID{Distinguished: name}
}

// String returns the distinguished name (with "@mailbox" when set) or the
// id.
func (f FolderID) String() string {
	if f.Distinguished != "" {
		if f.Mailbox != "" {
			return string(f.Distinguished) + "@" + f.Mailbox
		}
		return string(f.Distinguished)
	}
	return f.ID
}

// write checks f and appends its t:FolderId or t:DistinguishedFolderId to
// parent.
func (f FolderID) write(op, field string, parent *etree.Element) error {
	switch {
	case f.ID != "" && f.Distinguished != "":
		return invalidf("%s: %s sets both ID and Distinguished; set one", op, field)
	case f.Distinguished != "":
		for _, r := range f.Distinguished {
			if r < 'a' || r > 'z' {
				return invalidf("%s: %s: distinguished folder name %q is malformed; use a constant such as ews.FolderInbox", op, field, clip(string(f.Distinguished)))
			}
		}
		e := parent.CreateElement("t:DistinguishedFolderId")
		e.CreateAttr("Id", string(f.Distinguished))
		if f.ChangeKey != "" {
			if err := checkText(op, field+" change key", f.ChangeKey); err != nil {
				return err
			}
			e.CreateAttr("ChangeKey", f.ChangeKey)
		}
		if f.Mailbox != "" {
			if reason := checkAddress(f.Mailbox, "an SMTP address"); reason != "" {
				return invalidf("%s: %s: mailbox %q %s", op, field, clip(f.Mailbox), reason)
			}
			e.CreateElement("t:Mailbox").CreateElement("t:EmailAddress").SetText(f.Mailbox)
		}
	case f.ID != "":
		if f.Mailbox != "" {
			return invalidf("%s: %s: Mailbox applies only to a distinguished folder", op, field)
		}
		if err := checkText(op, field+" id", f.ID+f.ChangeKey); err != nil {
			return err
		}
		e := parent.CreateElement("t:FolderId")
		e.CreateAttr("Id", f.ID)
		if f.ChangeKey != "" {
			e.CreateAttr("ChangeKey", f.ChangeKey)
		}
	default:
		return invalidf("%s: %s is empty; set ID or Distinguished (e.g. ews.DistinguishedFolder(ews.FolderInbox))", op, field)
	}
	return nil
}

func writeFolderIDs(op, field string, parent *etree.Element, ids []FolderID) error {
	if len(ids) == 0 {
		return invalidf("%s: no %s given", op, field)
	}
	list := parent.CreateElement("m:" + field)
	for i, id := range ids {
		if err := id.write(op, field+"["+strconv.Itoa(i)+"]", list); err != nil {
			return err
		}
	}
	return nil
}

func parseFolderID(e *etree.Element) FolderID {
	if e == nil {
		return FolderID{}
	}
	return FolderID{ID: e.SelectAttrValue("Id", ""), ChangeKey: e.SelectAttrValue("ChangeKey", "")}
}

// ItemID is the EWS id of an item (t:ItemId). ChangeKey is optional in
// requests; with it, the server refuses to act on a changed item.
//
// An ItemID can also address one instance of a recurring series, made by
// [OccurrenceID.ItemID] (t:OccurrenceItemId), or the recurring master of
// an occurrence, made by [RecurringMasterOf] (t:RecurringMasterItemId).
// GetItem, UpdateItem and DeleteItem accept those forms.
type ItemID struct {
	ID        string
	ChangeKey string
	// InstanceIndex > 0 makes the id a t:OccurrenceItemId: ID is the
	// recurring master and InstanceIndex the 1-based instance. Set by
	// [OccurrenceID.ItemID].
	InstanceIndex int
	// MasterOf makes the id a t:RecurringMasterItemId: the recurring
	// master of the occurrence ID. Set by [RecurringMasterOf].
	MasterOf bool
}

// OccurrenceID addresses instance Index (1-based, in the order of the
// series' pattern, deleted occurrences counted) of the recurring master
// Master: t:OccurrenceItemId. Master.ChangeKey is sent when set.
type OccurrenceID struct {
	Master ItemID
	Index  int
}

// ItemID returns the id to use in GetItem, UpdateItem or DeleteItem.
func (o OccurrenceID) ItemID() ItemID {
	return ItemID{ID: o.Master.ID, ChangeKey: o.Master.ChangeKey, InstanceIndex: o.Index}
}

// RecurringMasterOf returns the id that addresses the recurring master of
// an occurrence or exception (t:RecurringMasterItemId): occurrence is the
// instance's id, as CalendarView or GetItem returned it.
func RecurringMasterOf(occurrence ItemID) ItemID {
	return ItemID{ID: occurrence.ID, ChangeKey: occurrence.ChangeKey, MasterOf: true}
}

// Occurrence reports whether the id is an [OccurrenceID], and which.
func (i ItemID) Occurrence() (OccurrenceID, bool) {
	if i.InstanceIndex <= 0 || i.MasterOf {
		return OccurrenceID{}, false
	}
	return OccurrenceID{Master: ItemID{ID: i.ID, ChangeKey: i.ChangeKey}, Index: i.InstanceIndex}, true
}

// String returns the id.
func (i ItemID) String() string { return i.ID }

func (i ItemID) write(op, field string, parent *etree.Element) error {
	if i.ID == "" {
		return invalidf("%s: %s has an empty ID", op, field)
	}
	if err := checkText(op, field, i.ID+i.ChangeKey); err != nil {
		return err
	}
	if i.InstanceIndex < 0 || (i.InstanceIndex > 0 && i.MasterOf) {
		return invalidf("%s: %s has InstanceIndex %d and MasterOf %v; instances count from 1 and an id is one of the two", op, field, i.InstanceIndex, i.MasterOf)
	}
	var e *etree.Element
	switch {
	case i.InstanceIndex > 0:
		e = parent.CreateElement("t:OccurrenceItemId")
		e.CreateAttr("RecurringMasterId", i.ID)
	case i.MasterOf:
		e = parent.CreateElement("t:RecurringMasterItemId")
		e.CreateAttr("OccurrenceId", i.ID)
	default:
		e = parent.CreateElement("t:ItemId")
		e.CreateAttr("Id", i.ID)
	}
	if i.ChangeKey != "" {
		e.CreateAttr("ChangeKey", i.ChangeKey)
	}
	if i.InstanceIndex > 0 {
		e.CreateAttr("InstanceIndex", strconv.Itoa(i.InstanceIndex))
	}
	return nil
}

func writeItemIDs(op string, parent *etree.Element, ids []ItemID) error {
	if len(ids) == 0 {
		return invalidf("%s: no ItemIds given", op)
	}
	list := parent.CreateElement("m:ItemIds")
	for i, id := range ids {
		if err := id.write(op, "ItemIds["+strconv.Itoa(i)+"]", list); err != nil {
			return err
		}
	}
	return nil
}

func parseItemID(e *etree.Element) ItemID {
	if e == nil {
		return ItemID{}
	}
	return ItemID{ID: e.SelectAttrValue("Id", ""), ChangeKey: e.SelectAttrValue("ChangeKey", "")}
}

// BaseShape is the set of properties a response includes (t:BaseShape).
type BaseShape string

// The base shapes. The zero BaseShape means ShapeIDOnly.
const (
	ShapeIDOnly        BaseShape = "IdOnly"
	ShapeDefault       BaseShape = "Default"
	ShapeAllProperties BaseShape = "AllProperties"
)

// FieldURI names a property to add to a shape (t:FieldURI/@FieldURI), e.g.
// "item:Subject" or "folder:DisplayName".
type FieldURI string

// A few properties admin tools ask for.
const (
	FieldFolderDisplayName      FieldURI = "folder:DisplayName"
	FieldFolderTotalCount       FieldURI = "folder:TotalCount"
	FieldFolderChildFolderCount FieldURI = "folder:ChildFolderCount"
	FieldFolderUnreadCount      FieldURI = "folder:UnreadCount"
	FieldFolderClass            FieldURI = "folder:FolderClass"
	FieldItemSubject            FieldURI = "item:Subject"
	FieldItemDateTimeReceived   FieldURI = "item:DateTimeReceived"
	FieldItemDateTimeCreated    FieldURI = "item:DateTimeCreated"
	FieldItemItemClass          FieldURI = "item:ItemClass"
	FieldItemSize               FieldURI = "item:Size"
	FieldItemParentFolderID     FieldURI = "item:ParentFolderId"
	FieldMessageIsRead          FieldURI = "message:IsRead"
	FieldMessageFrom            FieldURI = "message:From"
)

// writeShape appends m:<tag> with t:BaseShape and t:AdditionalProperties.
func writeShape(op string, parent *etree.Element, tag string, base BaseShape, props []FieldURI) error {
	return writeShapeExt(op, parent, tag, base, props, nil)
}

// writeShapeExt is writeShape with extended properties.
func writeShapeExt(op string, parent *etree.Element, tag string, base BaseShape, props []FieldURI, ext []ExtendedFieldURI) error {
	s, err := startShape(op, parent, tag, base)
	if err != nil {
		return err
	}
	return writeAdditional(op, s, props, ext)
}

// startShape appends m:<tag> with its t:BaseShape.
func startShape(op string, parent *etree.Element, tag string, base BaseShape) (*etree.Element, error) {
	if base == "" {
		base = ShapeIDOnly
	}
	switch base {
	case ShapeIDOnly, ShapeDefault, ShapeAllProperties:
	default:
		return nil, invalidf("%s: base shape %q is none of IdOnly, Default, AllProperties", op, clip(string(base)))
	}
	s := parent.CreateElement("m:" + tag)
	s.CreateElement("t:BaseShape").SetText(string(base))
	return s, nil
}

// Mailbox is an address of a mailbox or recipient (t:Mailbox,
// EmailAddressType).
type Mailbox struct {
	Name         string
	EmailAddress string
	RoutingType  string
	MailboxType  string
}

func parseMailbox(e *etree.Element) Mailbox {
	if e == nil {
		return Mailbox{}
	}
	return Mailbox{
		Name:         childText(e, NamespaceTypes, "Name"),
		EmailAddress: childText(e, NamespaceTypes, "EmailAddress"),
		RoutingType:  childText(e, NamespaceTypes, "RoutingType"),
		MailboxType:  childText(e, NamespaceTypes, "MailboxType"),
	}
}

func parseInt(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

func parseBool(s string) bool {
	b, _ := strconv.ParseBool(strings.TrimSpace(s))
	return b
}

// parseTime reads an xs:dateTime. A time without a zone (Exchange sends
// some, e.g. an attachment's LastModifiedTime) is taken as UTC.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t, _ = time.Parse("2006-01-02T15:04:05.999999999", s)
	}
	return t
}
