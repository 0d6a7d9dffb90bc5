package ews

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Sensitivity is the sensitivity of an item (t:Sensitivity).
type Sensitivity string

// The sensitivities.
const (
	SensitivityNormal       Sensitivity = "Normal"
	SensitivityPersonal     Sensitivity = "Personal"
	SensitivityPrivate      Sensitivity = "Private"
	SensitivityConfidential Sensitivity = "Confidential"
)

// Importance is the importance of an item (t:Importance).
type Importance string

// The importances.
const (
	ImportanceLow    Importance = "Low"
	ImportanceNormal Importance = "Normal"
	ImportanceHigh   Importance = "High"
)

// Properties of every item, of messages, and of the response shapes.
const (
	FieldItemMimeContent            FieldURI = "item:MimeContent"
	FieldItemSensitivity            FieldURI = "item:Sensitivity"
	FieldItemBody                   FieldURI = "item:Body"
	FieldItemAttachments            FieldURI = "item:Attachments"
	FieldItemCategories             FieldURI = "item:Categories"
	FieldItemImportance             FieldURI = "item:Importance"
	FieldItemInternetMessageHeaders FieldURI = "item:InternetMessageHeaders"
	FieldItemDateTimeSent           FieldURI = "item:DateTimeSent"
	FieldItemHasAttachments         FieldURI = "item:HasAttachments"
	FieldItemLastModifiedTime       FieldURI = "item:LastModifiedTime"
	FieldItemTextBody               FieldURI = "item:TextBody"
	FieldItemID                     FieldURI = "item:ItemId"
	FieldMessageToRecipients        FieldURI = "message:ToRecipients"
	FieldMessageCcRecipients        FieldURI = "message:CcRecipients"
	FieldMessageBccRecipients       FieldURI = "message:BccRecipients"
	FieldMessageInternetMessageID   FieldURI = "message:InternetMessageId"
)

// itemWriter writes the properties of one item element; the first error
// sticks.
type itemWriter struct {
	propWriter
	op, where string
	err       error
}

func (w *itemWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// text writes <t:tag>v</t:tag> when the property uri is to be written.
func (w *itemWriter) text(e *etree.Element, uri FieldURI, tag, v string) {
	if w.err != nil || !w.field(uri, v != "") {
		return
	}
	if err := checkText(w.op, w.where+"."+tag, v); err != nil {
		w.fail(err)
		return
	}
	e.CreateElement("t:" + tag).SetText(v)
}

// enum writes a value that must be one of allowed.
func (w *itemWriter) enum(e *etree.Element, uri FieldURI, tag, v string, allowed ...string) {
	if w.err != nil || !w.field(uri, v != "") {
		return
	}
	for _, a := range allowed {
		if v == a {
			e.CreateElement("t:" + tag).SetText(v)
			return
		}
	}
	w.fail(invalidf("%s: %s.%s %q is none of %s", w.op, w.where, tag, clip(v), strings.Join(allowed, ", ")))
}

// dateTime writes an xs:dateTime in UTC.
func (w *itemWriter) dateTime(e *etree.Element, uri FieldURI, tag string, t time.Time) {
	if w.err != nil || !w.field(uri, !t.IsZero()) {
		return
	}
	e.CreateElement("t:" + tag).SetText(formatTime(t))
}

// flag writes a boolean; CreateItem sends it only when true.
func (w *itemWriter) flag(e *etree.Element, uri FieldURI, tag string, v bool) {
	if w.err != nil || !w.field(uri, v) {
		return
	}
	e.CreateElement("t:" + tag).SetText(formatBool(v))
}

func formatBool(v bool) string {
	if v {
		return "true"
	}
	return "false"
}

// formatTime renders an xs:dateTime in UTC, with fractional seconds only
// when t has them.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// formatDate renders the calendar date of t (in t's location) as an
// xs:date.
func formatDate(t time.Time) string { return t.Format(time.DateOnly) }

// parseDate reads an xs:date, with or without a zone suffix.
func parseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	if len(s) < 10 {
		return time.Time{}
	}
	t, _ := time.Parse(time.DateOnly, s[:10])
	return t
}

func parseBase64(s string) []byte {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		// Line breaks inside the base64 are legal in xs:base64Binary.
		b, _ = base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, s))
	}
	return b
}

// parseStrings returns the t:String children (ArrayOfStringsType).
func parseStrings(e *etree.Element) []string {
	var out []string
	for _, c := range e.ChildElements() {
		if c.Tag == "String" {
			out = append(out, c.Text())
		}
	}
	return out
}

func parseMailboxes(e *etree.Element) []Mailbox {
	var out []Mailbox
	for _, c := range e.ChildElements() {
		if c.Tag == "Mailbox" {
			out = append(out, parseMailbox(c))
		}
	}
	return out
}

// writeMailbox appends t:Mailbox (EmailAddressType: Name, EmailAddress,
// RoutingType, MailboxType).
func writeMailbox(op, field string, parent *etree.Element, m Mailbox) error {
	if m.Name == "" && m.EmailAddress == "" {
		return invalidf("%s: %s has neither Name nor EmailAddress", op, field)
	}
	if m.EmailAddress != "" && (m.RoutingType == "" || strings.EqualFold(m.RoutingType, "SMTP")) {
		if reason := checkAddress(m.EmailAddress, "an SMTP address"); reason != "" {
			return invalidf("%s: %s address %q %s", op, field, clip(m.EmailAddress), reason)
		}
	}
	if err := checkText(op, field, m.Name+m.EmailAddress+m.RoutingType); err != nil {
		return err
	}
	e := parent.CreateElement("t:Mailbox")
	if m.Name != "" {
		e.CreateElement("t:Name").SetText(m.Name)
	}
	if m.EmailAddress != "" {
		e.CreateElement("t:EmailAddress").SetText(m.EmailAddress)
	}
	if m.RoutingType != "" {
		e.CreateElement("t:RoutingType").SetText(m.RoutingType)
	}
	switch m.MailboxType {
	case "":
	case "Unknown", "OneOff", "Mailbox", "PublicDL", "PrivateDL", "Contact", "PublicFolder", "GroupMailbox", "ImplicitContact", "User":
		e.CreateElement("t:MailboxType").SetText(m.MailboxType)
	default:
		return invalidf("%s: %s MailboxType %q is not a mailbox type of the schema", op, field, clip(m.MailboxType))
	}
	return nil
}

// mailboxes writes a recipient list property.
func (w *itemWriter) mailboxes(e *etree.Element, uri FieldURI, tag string, list []Mailbox, wrap string) {
	if w.err != nil || !w.field(uri, len(list) > 0) {
		return
	}
	l := e.CreateElement("t:" + tag)
	for _, m := range list {
		p := l
		if wrap != "" {
			p = l.CreateElement("t:" + wrap)
		}
		if err := writeMailbox(w.op, w.where+"."+tag, p, m); err != nil {
			w.fail(err)
			return
		}
	}
}

// kind returns the element name of an item: Kind, else the kind field set,
// else def.
func (it *Item) kind(def string) string {
	switch {
	case it.Kind != "":
		return it.Kind
	case it.Contact != nil:
		return KindContact
	case it.Task != nil:
		return KindTask
	case it.Calendar != nil:
		return KindCalendarItem
	}
	return def
}

// write appends the item element. Without only it carries every writable
// property that is set (CreateItem); with only, just that property
// (SetItemField, AppendToItemField).
func (it *Item) write(op, where string, parent *etree.Element, only Path, def string) error {
	kind := it.kind(def)
	switch kind {
	case KindMessage, KindContact, KindTask, KindCalendarItem, KindItem:
	default:
		return invalidf("%s: %s.Kind %q is none of Message, CalendarItem, Contact, Task, Item", op, where, clip(kind))
	}
	if (it.Contact != nil && kind != KindContact) || (it.Task != nil && kind != KindTask) || (it.Calendar != nil && kind != KindCalendarItem) {
		return invalidf("%s: %s is a %s but sets the fields of another kind", op, where, kind)
	}
	w := &itemWriter{propWriter: propWriter{only: only}, op: op, where: where}
	e := parent.CreateElement("t:" + kind)
	// ItemType, in schema order.
	if w.field(FieldItemMimeContent, len(it.MimeContent) > 0) {
		m := e.CreateElement("t:MimeContent")
		m.CreateAttr("CharacterSet", "UTF-8")
		m.SetText(base64.StdEncoding.EncodeToString(it.MimeContent))
	}
	w.text(e, FieldItemItemClass, "ItemClass", it.ItemClass)
	w.text(e, FieldItemSubject, "Subject", it.Subject)
	w.enum(e, FieldItemSensitivity, "Sensitivity", string(it.Sensitivity), "Normal", "Personal", "Private", "Confidential")
	if w.err == nil && w.field(FieldItemBody, it.Body.Content != "" || it.Body.Type != "") {
		bt := it.Body.Type
		if bt == "" {
			bt = BodyText
		}
		if bt != BodyText && bt != BodyHTML {
			w.fail(invalidf("%s: %s.Body.Type %q is neither Text nor HTML", op, where, clip(string(bt))))
		} else if err := checkText(op, where+".Body", it.Body.Content); err != nil {
			w.fail(err)
		} else {
			b := e.CreateElement("t:Body")
			b.CreateAttr("BodyType", string(bt))
			b.SetText(it.Body.Content)
		}
	}
	if w.err == nil && w.field(FieldItemCategories, len(it.Categories) > 0) {
		cats := e.CreateElement("t:Categories")
		for _, c := range it.Categories {
			if c == "" {
				w.fail(invalidf("%s: %s.Categories has an empty name", op, where))
				break
			}
			if err := checkText(op, where+".Categories", c); err != nil {
				w.fail(err)
				break
			}
			cats.CreateElement("t:String").SetText(c)
		}
	}
	w.enum(e, FieldItemImportance, "Importance", string(it.Importance), "Low", "Normal", "High")
	if w.err == nil {
		w.fail(w.extended(op, e, it.ExtendedProperties))
	}
	switch kind {
	case KindMessage:
		w.mailboxes(e, FieldMessageToRecipients, "ToRecipients", it.ToRecipients, "")
		w.mailboxes(e, FieldMessageCcRecipients, "CcRecipients", it.CcRecipients, "")
		w.mailboxes(e, FieldMessageBccRecipients, "BccRecipients", it.BccRecipients, "")
		if w.err == nil && w.field(FieldMessageFrom, it.From != (Mailbox{})) {
			if err := writeMailbox(op, where+".From", e.CreateElement("t:From"), it.From); err != nil {
				w.fail(err)
			}
		}
		w.text(e, FieldMessageInternetMessageID, "InternetMessageId", it.InternetMessageID)
		// IsRead is a flag the server defaults; CreateItem sends it when
		// true, UpdateItem either way.
		w.flag(e, FieldMessageIsRead, "IsRead", it.IsRead)
	case KindContact:
		if it.Contact != nil {
			it.Contact.write(w, e)
		}
	case KindTask:
		if it.Task != nil {
			it.Task.write(w, e)
		}
	case KindCalendarItem:
		if it.Calendar != nil {
			it.Calendar.write(w, e)
		}
	}
	if w.err != nil {
		return w.err
	}
	return w.done(op, where)
}
