package ews

import (
	"context"
	"errors"
	"strconv"

	"github.com/beevik/etree"
)

// The folder elements ([Folder].Kind). Each implies a folder class; only
// FolderKindFolder may carry its own FolderClass (a custom class such as
// IPF.Contact.CRM is a FolderKindFolder with that class).
const (
	FolderKindFolder         = "Folder"         // mail (IPF.Note) or any FolderClass
	FolderKindCalendarFolder = "CalendarFolder" // IPF.Appointment
	FolderKindContactsFolder = "ContactsFolder" // IPF.Contact
	FolderKindTasksFolder    = "TasksFolder"    // IPF.Task
	FolderKindSearchFolder   = "SearchFolder"   // read only here
)

var (
	opCreateFolder = &operation{name: "CreateFolder", idempotent: false, timeZone: true}
	opUpdateFolder = &operation{name: "UpdateFolder", idempotent: true, timeZone: true}
	opMoveFolder   = &operation{name: "MoveFolder", idempotent: true}
	opCopyFolder   = &operation{name: "CopyFolder", idempotent: false}
	opDeleteFolder = &operation{name: "DeleteFolder", idempotent: true}
)

// folderElement returns the element name of kind, defaulting to Folder.
func folderElement(op, field, kind string) (string, error) {
	switch kind {
	case "":
		return FolderKindFolder, nil
	case FolderKindFolder, FolderKindCalendarFolder, FolderKindContactsFolder, FolderKindTasksFolder:
		return kind, nil
	}
	return "", invalidf("%s: %s.Kind %q is none of Folder, CalendarFolder, ContactsFolder, TasksFolder", op, field, clip(kind))
}

// write appends the folder element with the properties a client sets:
// FolderClass (only for FolderKindFolder), DisplayName and
// ExtendedProperties. With only set, just the property only names is
// written (the value of a SetFolderField), zero or not.
func (f *Folder) write(op, field string, parent *etree.Element, only Path) error {
	tag, err := folderElement(op, field, f.Kind)
	if err != nil {
		return err
	}
	if f.FolderClass != "" && tag != FolderKindFolder && only == nil {
		// Exchange answers ErrorNoFolderClassOverride.
		return invalidf("%s: %s is a %s, which implies its folder class; FolderClass %q needs Kind Folder", op, field, tag, clip(f.FolderClass))
	}
	for _, v := range [...]struct{ name, v string }{{"FolderClass", f.FolderClass}, {"DisplayName", f.DisplayName}} {
		if err := checkText(op, field+"."+v.name, v.v); err != nil {
			return err
		}
	}
	w := propWriter{only: only}
	e := parent.CreateElement("t:" + tag)
	if w.field(FieldFolderClass, f.FolderClass != "") {
		e.CreateElement("t:FolderClass").SetText(f.FolderClass)
	}
	if w.field(FieldFolderDisplayName, f.DisplayName != "") {
		e.CreateElement("t:DisplayName").SetText(f.DisplayName)
	}
	if err := w.extended(op, e, f.ExtendedProperties); err != nil {
		return err
	}
	return w.done(op, field)
}

// CreateFolderRequest is the input of [Client.CreateFolder].
type CreateFolderRequest struct {
	// ParentFolderID is where the folders are created, e.g.
	// DistinguishedFolder(FolderMsgFolderRoot) or any folder's id.
	ParentFolderID FolderID
	// Folders are the folders to create, at least one: Kind (default
	// FolderKindFolder), DisplayName, FolderClass (Kind Folder only) and
	// ExtendedProperties are sent; other fields are ignored.
	Folders []Folder
}

// FolderResponse is the result of CreateFolder, UpdateFolder, MoveFolder and
// CopyFolder.
type FolderResponse struct {
	ServerVersion *ServerVersionInfo
	// Results has one entry per folder of the request, in request order;
	// Folder holds the FolderId (with its new ChangeKey) and Kind.
	Results []FolderResult
}

// CreateFolder runs the EWS CreateFolder operation: one result per folder,
// in request order, each with the new folder's id. A second folder of the
// same name under one parent fails with ErrorFolderExists; when that happens
// after a race, look the folder up with FindFolder instead of failing. It is
// not repeated after an ambiguous failure (see [Client.CreateItem]).
func (c *Client) CreateFolder(ctx context.Context, req *CreateFolderRequest, opts ...CallOption) (*FolderResponse, error) {
	if req == nil {
		return nil, invalidf("CreateFolder: request is nil")
	}
	if len(req.Folders) == 0 {
		return nil, invalidf("CreateFolder: no folders given")
	}
	op := opCreateFolder
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:CreateFolder")
		if err := req.ParentFolderID.write(op.name, "ParentFolderId", e.CreateElement("m:ParentFolderId")); err != nil {
			return err
		}
		list := e.CreateElement("m:Folders")
		for i := range req.Folders {
			f := &req.Folders[i]
			field := "Folders[" + strconv.Itoa(i) + "]"
			if f.DisplayName == "" {
				return invalidf("CreateFolder: %s has no DisplayName", field)
			}
			if err := f.write(op.name, field, list, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return parseFolderResponse(soap, op, len(req.Folders))
}

func parseFolderResponse(soap *soapResponse, op *operation, want int) (*FolderResponse, error) {
	results, err := parseResults(soap, op, want, func(r *FolderResult, e *etree.Element) {
		if fs := parseFolders(childNS(e, NamespaceMessages, "Folders")); len(fs) > 0 {
			r.Folder = fs[0]
		}
	})
	if err != nil {
		return nil, err
	}
	return &FolderResponse{ServerVersion: soap.serverVersion, Results: results}, nil
}

// UpdateAction is what one update does with its property.
type UpdateAction string

// The update actions (t:SetItemField, t:AppendToItemField,
// t:DeleteItemField and their folder counterparts).
const (
	ActionSet    UpdateAction = "Set"
	ActionAppend UpdateAction = "AppendTo"
	ActionDelete UpdateAction = "Delete"
)

// FolderUpdate is one change of a folder: set, append to or delete the
// property Path names. For Set and Append, the value is taken from Folder,
// which must carry that property (and only that one is sent); Folder.Kind
// picks the element, as Exchange expects the folder's own element.
type FolderUpdate struct {
	Action UpdateAction
	Path   Path
	Folder Folder
}

// FolderChange is the list of updates to one folder, applied in order.
type FolderChange struct {
	// FolderID is the folder; with a ChangeKey the server refuses to
	// update a folder changed since.
	FolderID FolderID
	Updates  []FolderUpdate
}

// UpdateFolderRequest is the input of [Client.UpdateFolder].
type UpdateFolderRequest struct {
	Changes []FolderChange
}

// UpdateFolder runs the EWS UpdateFolder operation: one result per change,
// in request order, with the folder's id and new ChangeKey. See
// [Client.RenameFolder] for the common case.
func (c *Client) UpdateFolder(ctx context.Context, req *UpdateFolderRequest, opts ...CallOption) (*FolderResponse, error) {
	if req == nil {
		return nil, invalidf("UpdateFolder: request is nil")
	}
	if len(req.Changes) == 0 {
		return nil, invalidf("UpdateFolder: no changes given")
	}
	op := opUpdateFolder
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		list := b.CreateElement("m:UpdateFolder").CreateElement("m:FolderChanges")
		for i := range req.Changes {
			ch := &req.Changes[i]
			field := "Changes[" + strconv.Itoa(i) + "]"
			fc := list.CreateElement("t:FolderChange")
			if err := ch.FolderID.write(op.name, field+".FolderID", fc); err != nil {
				return err
			}
			if len(ch.Updates) == 0 {
				return invalidf("UpdateFolder: %s has no updates", field)
			}
			ups := fc.CreateElement("t:Updates")
			for j := range ch.Updates {
				u := &ch.Updates[j]
				uf := field + ".Updates[" + strconv.Itoa(j) + "]"
				ue, err := startUpdate(op.name, uf, ups, u.Action, "Folder", u.Path)
				if err != nil {
					return err
				}
				if u.Action != ActionDelete {
					if err := u.Folder.write(op.name, uf+".Folder", ue, u.Path); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return parseFolderResponse(soap, op, len(req.Changes))
}

// startUpdate appends t:<action><what>Field with its path.
func startUpdate(op, field string, parent *etree.Element, action UpdateAction, what string, path Path) (*etree.Element, error) {
	switch action {
	case ActionSet, ActionAppend, ActionDelete:
	default:
		return nil, invalidf("%s: %s.Action %q is none of Set, AppendTo, Delete", op, field, clip(string(action)))
	}
	if path == nil {
		return nil, invalidf("%s: %s has no Path", op, field)
	}
	e := parent.CreateElement("t:" + string(action) + what + "Field")
	if err := path.writePath(op, e); err != nil {
		return nil, err
	}
	return e, nil
}

// RenameFolder sets the display name of f (its FolderID and Kind, as
// GetFolder or FindFolder returned them) and returns the folder's id with
// its new ChangeKey. The error is the request's error or the folder's
// *ResponseError.
func (c *Client) RenameFolder(ctx context.Context, f Folder, name string, opts ...CallOption) (FolderID, error) {
	if name == "" {
		return FolderID{}, invalidf("UpdateFolder: the new name is empty")
	}
	resp, err := c.UpdateFolder(ctx, &UpdateFolderRequest{Changes: []FolderChange{{
		FolderID: f.FolderID,
		Updates:  []FolderUpdate{{Action: ActionSet, Path: FieldFolderDisplayName, Folder: Folder{Kind: f.Kind, DisplayName: name}}},
	}}}, opts...)
	if err != nil {
		return FolderID{}, err
	}
	r := resp.Results[0]
	if r.Err != nil {
		return FolderID{}, r.Err
	}
	return r.Folder.FolderID, nil
}

// MoveFolderRequest is the input of [Client.MoveFolder] and
// [Client.CopyFolder].
type MoveFolderRequest struct {
	// ToFolderID is the new parent of all the folders.
	ToFolderID FolderID
	FolderIDs  []FolderID
}

// MoveFolder runs the EWS MoveFolder operation: one result per folder, in
// request order. A moved folder keeps its id. Distinguished folders cannot be
// moved (ErrorMoveDistinguishedFolder).
func (c *Client) MoveFolder(ctx context.Context, req *MoveFolderRequest, opts ...CallOption) (*FolderResponse, error) {
	return c.moveCopyFolder(ctx, opMoveFolder, req, opts)
}

// CopyFolder runs the EWS CopyFolder operation: one result per folder, in
// request order, each with the id of the new copy. It is not repeated after
// an ambiguous failure.
func (c *Client) CopyFolder(ctx context.Context, req *MoveFolderRequest, opts ...CallOption) (*FolderResponse, error) {
	return c.moveCopyFolder(ctx, opCopyFolder, req, opts)
}

func (c *Client) moveCopyFolder(ctx context.Context, op *operation, req *MoveFolderRequest, opts []CallOption) (*FolderResponse, error) {
	if req == nil {
		return nil, invalidf("%s: request is nil", op.name)
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:" + op.name)
		if err := req.ToFolderID.write(op.name, "ToFolderId", e.CreateElement("m:ToFolderId")); err != nil {
			return err
		}
		return writeFolderIDs(op.name, "FolderIds", e, req.FolderIDs)
	})
	if err != nil {
		return nil, err
	}
	return parseFolderResponse(soap, op, len(req.FolderIDs))
}

// DeleteFolderRequest is the input of [Client.DeleteFolder].
type DeleteFolderRequest struct {
	FolderIDs []FolderID
	// DeleteType is required; the folder's whole subtree goes with it.
	DeleteType DeleteType
}

// StatusResponse is the result of an operation whose results carry no
// payload (DeleteFolder, DeleteUserConfiguration, ...).
type StatusResponse struct {
	ServerVersion *ServerVersionInfo
	// Results has one entry per object of the request, in request order.
	Results []StatusResult
}

// StatusResult is the outcome for one object.
type StatusResult struct {
	ResponseMessage
	// Err is a *ResponseError when Class == ClassError.
	Err error
}

func (r *StatusResult) setMessage(m ResponseMessage, err error) { r.ResponseMessage, r.Err = m, err }

func parseStatus(soap *soapResponse, op *operation, want int) (*StatusResponse, error) {
	results, err := parseResults[StatusResult](soap, op, want, nil)
	if err != nil {
		return nil, err
	}
	return &StatusResponse{ServerVersion: soap.serverVersion, Results: results}, nil
}

// DeleteFolder runs the EWS DeleteFolder operation: one result per folder,
// in request order. Exchange reports an unknown id as ErrorItemNotFound
// here (ErrorFolderNotFound elsewhere); treat both as gone.
func (c *Client) DeleteFolder(ctx context.Context, req *DeleteFolderRequest, opts ...CallOption) (*StatusResponse, error) {
	if req == nil {
		return nil, invalidf("DeleteFolder: request is nil")
	}
	op := opDeleteFolder
	switch req.DeleteType {
	case HardDelete, SoftDelete, MoveToDeletedItems:
	default:
		return nil, invalidf("DeleteFolder: delete type %q is none of HardDelete, SoftDelete, MoveToDeletedItems", clip(string(req.DeleteType)))
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:DeleteFolder")
		e.CreateAttr("DeleteType", string(req.DeleteType))
		return writeFolderIDs(op.name, "FolderIds", e, req.FolderIDs)
	})
	if err != nil {
		return nil, err
	}
	return parseStatus(soap, op, len(req.FolderIDs))
}

// EnsureFolder returns the child of parent whose display name is f's
// (compared as Exchange compares names, without regard to case), creating it
// when there is none; created says which happened. When another writer
// creates the folder between the look-up and the creation
// (ErrorFolderExists), it looks again instead of failing. The folder found
// may be of another Kind than f; check Kind or FolderClass when that
// matters. Name lookups break when a user renames the folder: tag folders
// with an extended property and find them by it to be safe.
func (c *Client) EnsureFolder(ctx context.Context, parent FolderID, f Folder, opts ...CallOption) (folder Folder, created bool, err error) {
	if f.DisplayName == "" {
		return Folder{}, false, invalidf("CreateFolder: the folder has no DisplayName")
	}
	find := func() (Folder, bool, error) {
		resp, err := c.FindFolder(ctx, &FindFolderRequest{
			ParentFolderIDs:      []FolderID{parent},
			AdditionalProperties: []FieldURI{FieldFolderDisplayName, FieldFolderClass},
			Restriction:          Equal(FieldFolderDisplayName, f.DisplayName),
			Page:                 &PageView{MaxEntries: 1},
		}, opts...)
		if err != nil {
			return Folder{}, false, err
		}
		r := resp.Results[0]
		if r.Err != nil {
			return Folder{}, false, r.Err
		}
		if len(r.Folders) == 0 {
			return Folder{}, false, nil
		}
		return r.Folders[0], true, nil
	}
	if got, ok, err := find(); err != nil || ok {
		return got, false, err
	}
	resp, err := c.CreateFolder(ctx, &CreateFolderRequest{ParentFolderID: parent, Folders: []Folder{f}}, opts...)
	if err != nil {
		return Folder{}, false, err
	}
	r := resp.Results[0]
	switch {
	case r.Err == nil:
		out := f
		out.FolderID, out.ParentFolderID = r.Folder.FolderID, parent
		if r.Folder.Kind != "" {
			out.Kind = r.Folder.Kind
		}
		return out, true, nil
	case errors.Is(r.Err, ErrorFolderExists):
		got, ok, err := find()
		if err != nil {
			return Folder{}, false, err
		}
		if ok {
			return got, false, nil
		}
	}
	return Folder{}, false, r.Err
}
