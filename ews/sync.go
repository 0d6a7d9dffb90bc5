package ews

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// Repeating a sync call with the same SyncState returns the same changes:
// the state is the client's bookmark, so both are safe to retry.
var (
	opSyncFolderItems     = &operation{name: "SyncFolderItems", idempotent: true}
	opSyncFolderHierarchy = &operation{name: "SyncFolderHierarchy", idempotent: true}
)

// MaxSyncChanges is the most changes one SyncFolderItems call may ask for
// (t:MaxSyncChangesReturnedType is 1..512); it is also the default.
const MaxSyncChanges = 512

// ChangeType is the kind of one change in a SyncFolderItems or
// SyncFolderHierarchy response: the element name inside m:Changes.
type ChangeType string

// The change types. SyncFolderHierarchy reports only Create, Update and
// Delete.
const (
	// ChangeCreate: the item or folder is new in the synced folder (on the
	// first sync, every item is a Create; a move into the folder is a Create
	// with the new id).
	ChangeCreate ChangeType = "Create"
	// ChangeUpdate: the item or folder changed (properties, flags,
	// attachments; for folders also a rename or a move to another parent).
	ChangeUpdate ChangeType = "Update"
	// ChangeDelete: the item or folder is gone from the synced folder
	// (deleted, or moved out); only its id is reported.
	ChangeDelete ChangeType = "Delete"
	// ChangeReadFlag: only the read state of an item changed (IsRead).
	ChangeReadFlag ChangeType = "ReadFlagChange"
)

// SyncScope says which items SyncFolderItems reports (m:SyncScope).
type SyncScope string

// The sync scopes. The zero SyncScope sends no m:SyncScope, which means
// SyncNormalItems.
const (
	SyncNormalItems SyncScope = "NormalItems"
	// SyncNormalAndAssociatedItems adds folder-associated items (FAI), such
	// as user configurations and view definitions.
	SyncNormalAndAssociatedItems SyncScope = "NormalAndAssociatedItems"
)

// ItemSyncChange is one entry of a SyncFolderItems response.
type ItemSyncChange struct {
	// Type is Create, Update, Delete or ReadFlagChange.
	Type ChangeType
	// ItemID is the item's id (with ChangeKey when the server sent one).
	ItemID ItemID
	// Item is the item with the properties of the request's shape, for
	// Create and Update (Item.Kind says Message, CalendarItem, Contact,
	// Task, ...); zero for Delete and ReadFlagChange.
	Item Item
	// IsRead is the new read state of a ReadFlagChange.
	IsRead bool
}

// FolderSyncChange is one entry of a SyncFolderHierarchy response.
type FolderSyncChange struct {
	// Type is Create, Update or Delete.
	Type ChangeType
	// FolderID is the folder's id.
	FolderID FolderID
	// Folder is the folder with the properties of the request's shape, for
	// Create and Update; zero for Delete.
	Folder Folder
}

// SyncFolderItemsRequest is the input of [Client.SyncFolderItems] and
// [Client.SyncItems].
type SyncFolderItemsRequest struct {
	// FolderID is the folder to synchronize (not a search folder).
	FolderID FolderID
	// SyncState is the state a previous call returned for this folder, or
	// empty for the first sync, which reports every item as a Create. Pass
	// it back exactly as received: it is opaque and can be several KB.
	SyncState string
	// Shape is the base shape of the items of Create and Update changes;
	// the zero value means ShapeIDOnly, which with a few
	// AdditionalProperties is what a sync engine wants (each property costs
	// the server a read; bodies and attachments are never returned, use
	// GetItem for those).
	Shape                BaseShape
	AdditionalProperties []FieldURI
	ExtendedProperties   []ExtendedFieldURI
	// Ignore lists items whose changes the server leaves out of this call,
	// typically those the caller itself just wrote.
	Ignore []ItemID
	// MaxChanges is how many changes one call returns at most, 1 to
	// MaxSyncChanges; zero means MaxSyncChanges.
	MaxChanges int
	// Scope is the zero value (normal items) or a SyncScope.
	Scope SyncScope
}

// SyncFolderItemsResponse is the result of [Client.SyncFolderItems].
type SyncFolderItemsResponse struct {
	ServerVersion *ServerVersionInfo
	ResponseMessage
	// SyncState is the state to persist once Changes are applied, and to
	// send with the next call.
	SyncState string
	// IncludesLastItemInRange is true when no more changes are waiting: the
	// folder is in sync as of SyncState.
	IncludesLastItemInRange bool
	// Changes are the changes since the request's SyncState, newest first
	// on Exchange 2010 SP2 and later.
	Changes []ItemSyncChange
}

// SyncFolderItems runs the EWS SyncFolderItems operation once: the changes
// to the items of one folder since req.SyncState. A folder error comes back
// as the *ResponseError the returned error wraps; in particular
// errors.Is(err, ErrorInvalidSyncStateData) means the state is corrupt,
// foreign or truncated: drop it and sync the folder again from scratch, and
// ErrorSyncFolderNotFound means the folder is gone. [Client.SyncItems] runs
// the call in a loop until the folder is in sync.
func (c *Client) SyncFolderItems(ctx context.Context, req *SyncFolderItemsRequest, opts ...CallOption) (*SyncFolderItemsResponse, error) {
	if req == nil {
		return nil, invalidf("SyncFolderItems: request is nil")
	}
	op := opSyncFolderItems
	maxChanges := req.MaxChanges
	if maxChanges == 0 {
		maxChanges = MaxSyncChanges
	}
	if maxChanges < 1 || maxChanges > MaxSyncChanges {
		return nil, invalidf("SyncFolderItems: MaxChanges %d is outside 1..%d", req.MaxChanges, MaxSyncChanges)
	}
	switch req.Scope {
	case "", SyncNormalItems, SyncNormalAndAssociatedItems:
	default:
		return nil, invalidf("SyncFolderItems: Scope %q is none of NormalItems, NormalAndAssociatedItems", clip(string(req.Scope)))
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:SyncFolderItems")
		if err := writeShapeExt(op.name, e, "ItemShape", req.Shape, req.AdditionalProperties, req.ExtendedProperties); err != nil {
			return err
		}
		if err := req.FolderID.write(op.name, "SyncFolderId", e.CreateElement("m:SyncFolderId")); err != nil {
			return err
		}
		if err := writeSyncState(op.name, e, req.SyncState); err != nil {
			return err
		}
		if len(req.Ignore) > 0 {
			list := e.CreateElement("m:Ignore")
			for i, id := range req.Ignore {
				if err := id.write(op.name, "Ignore["+strconv.Itoa(i)+"]", list); err != nil {
					return err
				}
			}
		}
		e.CreateElement("m:MaxChangesReturned").SetText(strconv.Itoa(maxChanges))
		if req.Scope != "" {
			e.CreateElement("m:SyncScope").SetText(string(req.Scope))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return parseSyncFolderItems(soap)
}

func writeSyncState(op string, parent *etree.Element, state string) error {
	if state == "" {
		return nil
	}
	if strings.TrimSpace(state) != state {
		return invalidf("%s: SyncState has leading or trailing white space; pass it back exactly as the server sent it", op)
	}
	if err := checkText(op, "SyncState", state); err != nil {
		return err
	}
	parent.CreateElement("m:SyncState").SetText(state)
	return nil
}

// singleMessage returns the one response message of a sync operation, or the
// error it reports.
func singleMessage(soap *soapResponse, op *operation) (*etree.Element, ResponseMessage, error) {
	msgs, err := soap.messages(op, 1)
	if err != nil {
		return nil, ResponseMessage{}, err
	}
	m := parseResponseMessage(msgs[0], soap.red)
	if err := m.err(op.name, 0); err != nil {
		return nil, m, err
	}
	return msgs[0], m, nil
}

func parseSyncFolderItems(soap *soapResponse) (*SyncFolderItemsResponse, error) {
	e, m, err := singleMessage(soap, opSyncFolderItems)
	if err != nil {
		return nil, err
	}
	r := &SyncFolderItemsResponse{ServerVersion: soap.serverVersion, ResponseMessage: m}
	r.SyncState = childText(e, NamespaceMessages, "SyncState")
	r.IncludesLastItemInRange = parseBool(childText(e, NamespaceMessages, "IncludesLastItemInRange"))
	if changes := childNS(e, NamespaceMessages, "Changes"); changes != nil {
		for _, ch := range changes.ChildElements() {
			if ch.NamespaceURI() != NamespaceTypes {
				continue
			}
			c, err := parseItemChange(ch)
			if err != nil {
				return nil, &HTTPError{Operation: opSyncFolderItems.name, StatusCode: 200, Reason: err.Error()}
			}
			r.Changes = append(r.Changes, c)
		}
	}
	if r.SyncState == "" {
		return nil, &HTTPError{Operation: opSyncFolderItems.name, StatusCode: 200, Reason: "the response has no SyncState"}
	}
	return r, nil
}

func parseItemChange(ch *etree.Element) (ItemSyncChange, error) {
	c := ItemSyncChange{Type: ChangeType(ch.Tag)}
	switch c.Type {
	case ChangeCreate, ChangeUpdate:
		var item *etree.Element
		for _, k := range ch.ChildElements() {
			if k.NamespaceURI() == NamespaceTypes {
				item = k
				break
			}
		}
		if item == nil {
			return c, fmt.Errorf("a %s change holds no item", c.Type)
		}
		c.Item = parseItem(item)
		c.ItemID = c.Item.ItemID
	case ChangeDelete, ChangeReadFlag:
		c.ItemID = parseItemID(childNS(ch, NamespaceTypes, "ItemId"))
		if c.Type == ChangeReadFlag {
			c.IsRead = parseBool(childText(ch, NamespaceTypes, "IsRead"))
		}
	default:
		return c, fmt.Errorf("unknown change %q in m:Changes", clip(ch.Tag))
	}
	if c.ItemID.ID == "" {
		return c, fmt.Errorf("a %s change has no ItemId", c.Type)
	}
	return c, nil
}

// SyncFolderHierarchyRequest is the input of [Client.SyncFolderHierarchy]
// and [Client.SyncFolders].
type SyncFolderHierarchyRequest struct {
	// FolderID is the root of the synced tree, e.g.
	// DistinguishedFolder(FolderMsgFolderRoot) for the folders a user sees;
	// nil means the whole mailbox (under root, system folders included).
	// Always send the same root with a given SyncState: an omitted root and
	// an explicit "root" count as different.
	FolderID *FolderID
	// SyncState is the state a previous call returned for this root, or
	// empty for the first sync.
	SyncState string
	// Shape is the base shape of the folders of Create and Update changes;
	// the zero value means ShapeIDOnly. Ask for folder:ParentFolderId,
	// folder:DisplayName and folder:FolderClass to follow renames and moves.
	Shape                BaseShape
	AdditionalProperties []FieldURI
	ExtendedProperties   []ExtendedFieldURI
}

// SyncFolderHierarchyResponse is the result of [Client.SyncFolderHierarchy].
type SyncFolderHierarchyResponse struct {
	ServerVersion *ServerVersionInfo
	ResponseMessage
	// SyncState is the state to persist once Changes are applied.
	SyncState string
	// IncludesLastFolderInRange is true when no more changes are waiting.
	IncludesLastFolderInRange bool
	Changes                   []FolderSyncChange
}

// SyncFolderHierarchy runs the EWS SyncFolderHierarchy operation once: the
// folders created, changed (renamed, moved) and deleted under req.FolderID
// since req.SyncState. Errors are returned as in [Client.SyncFolderItems].
// [Client.SyncFolders] loops until the tree is in sync.
func (c *Client) SyncFolderHierarchy(ctx context.Context, req *SyncFolderHierarchyRequest, opts ...CallOption) (*SyncFolderHierarchyResponse, error) {
	if req == nil {
		return nil, invalidf("SyncFolderHierarchy: request is nil")
	}
	op := opSyncFolderHierarchy
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:SyncFolderHierarchy")
		if err := writeShapeExt(op.name, e, "FolderShape", req.Shape, req.AdditionalProperties, req.ExtendedProperties); err != nil {
			return err
		}
		if req.FolderID != nil {
			if err := req.FolderID.write(op.name, "SyncFolderId", e.CreateElement("m:SyncFolderId")); err != nil {
				return err
			}
		}
		return writeSyncState(op.name, e, req.SyncState)
	})
	if err != nil {
		return nil, err
	}
	return parseSyncFolderHierarchy(soap)
}

func parseSyncFolderHierarchy(soap *soapResponse) (*SyncFolderHierarchyResponse, error) {
	e, m, err := singleMessage(soap, opSyncFolderHierarchy)
	if err != nil {
		return nil, err
	}
	r := &SyncFolderHierarchyResponse{ServerVersion: soap.serverVersion, ResponseMessage: m}
	r.SyncState = childText(e, NamespaceMessages, "SyncState")
	r.IncludesLastFolderInRange = parseBool(childText(e, NamespaceMessages, "IncludesLastFolderInRange"))
	if changes := childNS(e, NamespaceMessages, "Changes"); changes != nil {
		for _, ch := range changes.ChildElements() {
			if ch.NamespaceURI() != NamespaceTypes {
				continue
			}
			c, err := parseFolderChange(ch)
			if err != nil {
				return nil, &HTTPError{Operation: opSyncFolderHierarchy.name, StatusCode: 200, Reason: err.Error()}
			}
			r.Changes = append(r.Changes, c)
		}
	}
	if r.SyncState == "" {
		return nil, &HTTPError{Operation: opSyncFolderHierarchy.name, StatusCode: 200, Reason: "the response has no SyncState"}
	}
	return r, nil
}

func parseFolderChange(ch *etree.Element) (FolderSyncChange, error) {
	c := FolderSyncChange{Type: ChangeType(ch.Tag)}
	switch c.Type {
	case ChangeCreate, ChangeUpdate:
		var f *etree.Element
		for _, k := range ch.ChildElements() {
			if k.NamespaceURI() == NamespaceTypes {
				f = k
				break
			}
		}
		if f == nil {
			return c, fmt.Errorf("a %s change holds no folder", c.Type)
		}
		c.Folder = parseFolder(f)
		c.FolderID = c.Folder.FolderID
	case ChangeDelete:
		c.FolderID = parseFolderID(childNS(ch, NamespaceTypes, "FolderId"))
	default:
		return c, fmt.Errorf("unknown change %q in m:Changes", clip(ch.Tag))
	}
	if c.FolderID.ID == "" {
		return c, fmt.Errorf("a %s change has no FolderId", c.Type)
	}
	return c, nil
}

// SyncPage is one page of an incremental sync: the changes of one call and
// the state to persist after applying them.
type SyncPage[C ItemSyncChange | FolderSyncChange] struct {
	// Changes are the page's changes, possibly none.
	Changes []C
	// SyncState is the state to store, durably, once Changes are applied;
	// a sync resumed from it continues after this page. It is never empty.
	SyncState string
	// Last is true on the page that brings the folder (or tree) in sync
	// (IncludesLastItemInRange / IncludesLastFolderInRange); the iteration
	// ends after it.
	Last bool
}

// SyncItems synchronizes one folder page by page, calling SyncFolderItems
// with each page's state until the folder is in sync. Each page carries its
// changes and the state to persist after handling them, so that a crash or
// a break out of the loop loses nothing: resume with the last state you
// stored (req.SyncState). Every call sends req's shape, Ignore list, scope
// and MaxChanges. An error ends the iteration; errors.Is(err,
// ErrorInvalidSyncStateData) means the stored state is no longer usable:
// discard it and sync from an empty state.
//
//	for page, err := range c.SyncItems(ctx, &ews.SyncFolderItemsRequest{FolderID: id, SyncState: stored}) {
//		if err != nil { return err }
//		apply(page.Changes)
//		store(page.SyncState)
//	}
func (c *Client) SyncItems(ctx context.Context, req *SyncFolderItemsRequest, opts ...CallOption) iter.Seq2[SyncPage[ItemSyncChange], error] {
	return func(yield func(SyncPage[ItemSyncChange], error) bool) {
		if req == nil {
			yield(SyncPage[ItemSyncChange]{}, invalidf("SyncFolderItems: request is nil"))
			return
		}
		r := *req
		for {
			resp, err := c.SyncFolderItems(ctx, &r, opts...)
			if err != nil {
				yield(SyncPage[ItemSyncChange]{}, err)
				return
			}
			page := SyncPage[ItemSyncChange]{Changes: resp.Changes, SyncState: resp.SyncState, Last: resp.IncludesLastItemInRange}
			if err := stuck(opSyncFolderItems, r.SyncState, page.SyncState, len(page.Changes), page.Last); err != nil {
				yield(SyncPage[ItemSyncChange]{}, err)
				return
			}
			if !yield(page, nil) || page.Last {
				return
			}
			r.SyncState = page.SyncState
		}
	}
}

// SyncFolders synchronizes a folder tree page by page with
// SyncFolderHierarchy, like [Client.SyncItems] does for items.
func (c *Client) SyncFolders(ctx context.Context, req *SyncFolderHierarchyRequest, opts ...CallOption) iter.Seq2[SyncPage[FolderSyncChange], error] {
	return func(yield func(SyncPage[FolderSyncChange], error) bool) {
		if req == nil {
			yield(SyncPage[FolderSyncChange]{}, invalidf("SyncFolderHierarchy: request is nil"))
			return
		}
		r := *req
		for {
			resp, err := c.SyncFolderHierarchy(ctx, &r, opts...)
			if err != nil {
				yield(SyncPage[FolderSyncChange]{}, err)
				return
			}
			page := SyncPage[FolderSyncChange]{Changes: resp.Changes, SyncState: resp.SyncState, Last: resp.IncludesLastFolderInRange}
			if err := stuck(opSyncFolderHierarchy, r.SyncState, page.SyncState, len(page.Changes), page.Last); err != nil {
				yield(SyncPage[FolderSyncChange]{}, err)
				return
			}
			if !yield(page, nil) || page.Last {
				return
			}
			r.SyncState = page.SyncState
		}
	}
}

// stuck returns an error when a server says more changes are waiting but
// returns none and the same state: asking again would loop forever.
func stuck(op *operation, sent, got string, changes int, last bool) error {
	if last || changes > 0 || got != sent {
		return nil
	}
	return &HTTPError{Operation: op.name, StatusCode: 200,
		Reason: "the server says more changes are waiting but returned none and the same SyncState; stopping instead of asking again forever"}
}
