package ews

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/beevik/etree"
)

var (
	opUpdateItem = &operation{name: "UpdateItem", idempotent: true, timeZone: true}
	// opUpdateItemAppend is UpdateItem with an AppendToItemField, which
	// repeating would append twice.
	opUpdateItemAppend = &operation{name: "UpdateItem", idempotent: false, timeZone: true}
	opMoveItem         = &operation{name: "MoveItem", idempotent: true}
	opCopyItem         = &operation{name: "CopyItem", idempotent: false}
)

// ConflictResolution says what UpdateItem does when the item changed since
// the ChangeKey the request carries.
type ConflictResolution string

// The conflict resolutions.
const (
	// NeverOverwrite fails a stale update with ErrorIrresolvableConflict.
	NeverOverwrite ConflictResolution = "NeverOverwrite"
	// AutoResolve lets the server merge per property (the default here,
	// as in Exchange's documentation).
	AutoResolve ConflictResolution = "AutoResolve"
	// AlwaysOverwrite applies the update whatever changed since.
	AlwaysOverwrite ConflictResolution = "AlwaysOverwrite"
)

// ItemUpdate is one change of an item: set, append to or delete the
// property Path names. For Set and Append the value is taken from Item, which
// must carry that property (only that one is sent, even when it is the zero
// value, so an update can clear a flag or a number). Build them with
// [SetItemField], [AppendToItemField], [DeleteItemField] and
// [SetExtendedProperty].
type ItemUpdate struct {
	Action UpdateAction
	Path   Path
	Item   Item
}

// SetItemField returns the update that sets path to its value in it.
func SetItemField(path Path, it Item) ItemUpdate {
	return ItemUpdate{Action: ActionSet, Path: path, Item: it}
}

// AppendToItemField returns the update that appends the value of path in
// it. Exchange appends only to recipient and attendee lists and to the body.
func AppendToItemField(path Path, it Item) ItemUpdate {
	return ItemUpdate{Action: ActionAppend, Path: path, Item: it}
}

// DeleteItemField returns the update that removes the property path.
func DeleteItemField(path Path) ItemUpdate { return ItemUpdate{Action: ActionDelete, Path: path} }

// SetExtendedProperty returns the update that sets the extended property p.
func SetExtendedProperty(p ExtendedProperty) ItemUpdate {
	return ItemUpdate{Action: ActionSet, Path: p.Field, Item: Item{ExtendedProperties: []ExtendedProperty{p}}}
}

// appendable are the paths Exchange appends to; other appends fail with
// ErrorInvalidPropertyAppend.
var appendable = []FieldURI{FieldItemBody, FieldMessageToRecipients, FieldMessageCcRecipients, FieldMessageBccRecipients,
	"message:ReplyTo", FieldCalendarRequiredAttendees, FieldCalendarOptionalAttendees, FieldCalendarResources}

// ItemChange is the list of updates to one item, applied in order.
type ItemChange struct {
	// ItemID is the item; its ChangeKey is what ConflictResolution is
	// judged against.
	ItemID ItemID
	// Kind is the item's element (KindContact, ...), used for updates whose
	// Item names no kind; empty means the generic KindItem. Exchange expects
	// the item's own element for the properties of its kind.
	Kind    string
	Updates []ItemUpdate
}

// UpdateItemRequest is the input of [Client.UpdateItem].
type UpdateItemRequest struct {
	Changes []ItemChange
	// ConflictResolution defaults to AutoResolve.
	ConflictResolution ConflictResolution
	// MessageDisposition applies to messages and defaults to SaveOnly.
	MessageDisposition MessageDisposition
	// SendMeetingInvitationsOrCancellations applies to calendar items and
	// defaults to "SendToNone"; the others are "SendOnlyToAll",
	// "SendOnlyToChanged", "SendToAllAndSaveCopy", "SendToChangedAndSaveCopy".
	SendMeetingInvitationsOrCancellations string
	// SavedItemFolderID is where a sent draft is saved (SendAndSaveCopy).
	SavedItemFolderID *FolderID
}

// UpdateItemResponse is the result of [Client.UpdateItem].
type UpdateItemResponse struct {
	ServerVersion *ServerVersionInfo
	// Results has one entry per change, in request order.
	Results []UpdateItemResult
}

// UpdateItemResult is the outcome for one item.
type UpdateItemResult struct {
	ResponseMessage
	// ItemID is the item's id with its new ChangeKey; store it, the old
	// key is stale now. Empty when the server returned no item (a draft
	// sent with SendAndSaveCopy).
	ItemID ItemID
	Kind   string
	// ConflictCount is the number of conflicting properties the server
	// reported (m:ConflictResults), 0 on a clean update.
	ConflictCount int
	// Err is a *ResponseError when Class == ClassError; see [IsConflict].
	Err error
}

func (r *UpdateItemResult) setMessage(m ResponseMessage, err error) {
	r.ResponseMessage, r.Err = m, err
}

// IsConflict reports whether err says the item changed since the ChangeKey
// the request carried, or that a ChangeKey was needed: get the item again
// (its current ChangeKey and the properties you merge) and retry a bounded
// number of times.
func IsConflict(err error) bool {
	var re *ResponseError
	if !errors.As(err, &re) {
		return false
	}
	switch re.Code {
	case ErrorIrresolvableConflict, ErrorStaleObject, ErrorChangeKeyRequired, ErrorChangeKeyRequiredForWriteOperations:
		return true
	}
	return false
}

// UpdateItem runs the EWS UpdateItem operation: the changes of each item,
// applied in order, one result per item in request order. It sends
// ConflictResolution, MessageDisposition and
// SendMeetingInvitationsOrCancellations on every request (the server ignores
// the ones that do not apply). An update with AppendToItemField is not
// repeated after an ambiguous failure.
func (c *Client) UpdateItem(ctx context.Context, req *UpdateItemRequest, opts ...CallOption) (*UpdateItemResponse, error) {
	if req == nil {
		return nil, invalidf("UpdateItem: request is nil")
	}
	if len(req.Changes) == 0 {
		return nil, invalidf("UpdateItem: no changes given")
	}
	cr := req.ConflictResolution
	if cr == "" {
		cr = AutoResolve
	}
	switch cr {
	case NeverOverwrite, AutoResolve, AlwaysOverwrite:
	default:
		return nil, invalidf("UpdateItem: ConflictResolution %q is none of NeverOverwrite, AutoResolve, AlwaysOverwrite", clip(string(cr)))
	}
	disp := req.MessageDisposition
	if disp == "" {
		disp = SaveOnly
	}
	switch disp {
	case SaveOnly, SendOnly, SendAndSaveCopy:
	default:
		return nil, invalidf("UpdateItem: message disposition %q is none of SaveOnly, SendOnly, SendAndSaveCopy", clip(string(disp)))
	}
	inv := req.SendMeetingInvitationsOrCancellations
	if inv == "" {
		inv = "SendToNone"
	}
	switch inv {
	case "SendToNone", "SendOnlyToAll", "SendOnlyToChanged", "SendToAllAndSaveCopy", "SendToChangedAndSaveCopy":
	default:
		return nil, invalidf("UpdateItem: SendMeetingInvitationsOrCancellations %q is none of SendToNone, SendOnlyToAll, SendOnlyToChanged, SendToAllAndSaveCopy, SendToChangedAndSaveCopy", clip(inv))
	}
	op := opUpdateItem
	for i := range req.Changes {
		for _, u := range req.Changes[i].Updates {
			if u.Action == ActionAppend {
				op = opUpdateItemAppend
			}
		}
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:UpdateItem")
		e.CreateAttr("ConflictResolution", string(cr))
		e.CreateAttr("MessageDisposition", string(disp))
		e.CreateAttr("SendMeetingInvitationsOrCancellations", inv)
		if req.SavedItemFolderID != nil {
			if err := req.SavedItemFolderID.write(op.name, "SavedItemFolderId", e.CreateElement("m:SavedItemFolderId")); err != nil {
				return err
			}
		}
		list := e.CreateElement("m:ItemChanges")
		for i := range req.Changes {
			if err := req.Changes[i].write(op.name, "Changes["+strconv.Itoa(i)+"]", list); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return parseUpdateItem(soap, op, len(req.Changes))
}

func (ch *ItemChange) write(op, field string, parent *etree.Element) error {
	ic := parent.CreateElement("t:ItemChange")
	if err := ch.ItemID.write(op, field+".ItemID", ic); err != nil {
		return err
	}
	if len(ch.Updates) == 0 {
		return invalidf("%s: %s has no updates", op, field)
	}
	def := ch.Kind
	if def == "" {
		def = KindItem
	}
	ups := ic.CreateElement("t:Updates")
	for j := range ch.Updates {
		u := &ch.Updates[j]
		uf := field + ".Updates[" + strconv.Itoa(j) + "]"
		if u.Action == ActionAppend {
			f, ok := u.Path.(FieldURI)
			if !ok || !slices.Contains(appendable, f) {
				return invalidf("%s: %s appends to %v; Exchange appends only to the body and to recipient and attendee lists", op, uf, u.Path)
			}
		}
		ue, err := startUpdate(op, uf, ups, u.Action, "Item", u.Path)
		if err != nil {
			return err
		}
		if u.Action != ActionDelete {
			if err := u.Item.write(op, uf+".Item", ue, u.Path, def); err != nil {
				return err
			}
		}
	}
	return nil
}

func parseUpdateItem(soap *soapResponse, op *operation, want int) (*UpdateItemResponse, error) {
	results, err := parseResults(soap, op, want, func(r *UpdateItemResult, e *etree.Element) {
		if items := parseItems(childNS(e, NamespaceMessages, "Items")); len(items) > 0 {
			r.ItemID, r.Kind = items[0].ItemID, items[0].Kind
		}
		if cr := childNS(e, NamespaceMessages, "ConflictResults"); cr != nil {
			r.ConflictCount = parseInt(childText(cr, NamespaceTypes, "Count"))
		}
	})
	if err != nil {
		return nil, err
	}
	return &UpdateItemResponse{ServerVersion: soap.serverVersion, Results: results}, nil
}

// MoveItemRequest is the input of [Client.MoveItem] and [Client.CopyItem].
type MoveItemRequest struct {
	// ToFolderID is the destination of all the items.
	ToFolderID FolderID
	ItemIDs    []ItemID
}

// MoveItemResponse is the result of [Client.MoveItem] and
// [Client.CopyItem].
type MoveItemResponse struct {
	ServerVersion *ServerVersionInfo
	// Results has one entry per item, in request order.
	Results []MoveItemResult
}

// MoveItemResult is the outcome for one item.
type MoveItemResult struct {
	ResponseMessage
	// ItemID is the id of the item in the destination: a moved item gets a
	// new id (the old one is dead), a copy is a new item. Empty when the
	// server returns none (moves across mailboxes).
	ItemID ItemID
	Kind   string
	// Err is a *ResponseError when Class == ClassError.
	Err error
}

func (r *MoveItemResult) setMessage(m ResponseMessage, err error) { r.ResponseMessage, r.Err = m, err }

// MoveItem runs the EWS MoveItem operation; each result carries the item's
// new id. Extended properties travel with the item, so an external id
// stored in one finds the item again after a move.
func (c *Client) MoveItem(ctx context.Context, req *MoveItemRequest, opts ...CallOption) (*MoveItemResponse, error) {
	return c.moveCopyItem(ctx, opMoveItem, req, opts)
}

// CopyItem runs the EWS CopyItem operation; each result carries the id of
// the copy. The copy has the same extended properties, so a copied item
// carries the same external id as its original. It is not repeated after an
// ambiguous failure.
func (c *Client) CopyItem(ctx context.Context, req *MoveItemRequest, opts ...CallOption) (*MoveItemResponse, error) {
	return c.moveCopyItem(ctx, opCopyItem, req, opts)
}

func (c *Client) moveCopyItem(ctx context.Context, op *operation, req *MoveItemRequest, opts []CallOption) (*MoveItemResponse, error) {
	if req == nil {
		return nil, invalidf("%s: request is nil", op.name)
	}
	// m:ReturnNewItemIds exists from Exchange 2010 SP1 on; older versions
	// return the new ids anyway.
	newIDs := slices.Index(ExchangeVersions(), c.cfg.version) >= slices.Index(ExchangeVersions(), Exchange2010_SP1)
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:" + op.name)
		if err := req.ToFolderID.write(op.name, "ToFolderId", e.CreateElement("m:ToFolderId")); err != nil {
			return err
		}
		if err := writeItemIDs(op.name, e, req.ItemIDs); err != nil {
			return err
		}
		if newIDs {
			e.CreateElement("m:ReturnNewItemIds").SetText("true")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	results, err := parseResults(soap, op, len(req.ItemIDs), func(r *MoveItemResult, e *etree.Element) {
		if items := parseItems(childNS(e, NamespaceMessages, "Items")); len(items) > 0 {
			r.ItemID, r.Kind = items[0].ItemID, items[0].Kind
		}
	})
	if err != nil {
		return nil, err
	}
	return &MoveItemResponse{ServerVersion: soap.serverVersion, Results: results}, nil
}
