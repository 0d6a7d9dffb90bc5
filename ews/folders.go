package ews

import (
	"context"
	"strings"

	"github.com/beevik/etree"
)

// Folder is a mailbox folder as returned by GetFolder and FindFolder. Which
// fields are filled depends on the shape requested: ShapeIDOnly fills only
// FolderID (and Kind).
type Folder struct {
	// Kind is the element name: "Folder", "CalendarFolder",
	// "ContactsFolder", "SearchFolder" or "TasksFolder".
	Kind             string
	FolderID         FolderID
	ParentFolderID   FolderID
	FolderClass      string
	DisplayName      string
	TotalCount       int
	ChildFolderCount int
	UnreadCount      int
	// ExtendedProperties holds the extended properties the shape asked for
	// (GetFolderRequest.ExtendedProperties); in CreateFolder and
	// UpdateFolder, the ones to set.
	ExtendedProperties []ExtendedProperty
}

// ExtendedProperty returns the folder's value of the property u names,
// comparing normalised forms (see [ExtendedFieldURI.Normalize]).
func (f *Folder) ExtendedProperty(u ExtendedFieldURI) (ExtendedProperty, bool) {
	return findExtended(f.ExtendedProperties, u)
}

func parseFolder(e *etree.Element) Folder {
	f := Folder{Kind: e.Tag}
	for _, c := range e.ChildElements() {
		if c.NamespaceURI() != NamespaceTypes {
			continue
		}
		switch c.Tag {
		case "FolderId":
			f.FolderID = parseFolderID(c)
		case "ParentFolderId":
			f.ParentFolderID = parseFolderID(c)
		case "FolderClass":
			f.FolderClass = strings.TrimSpace(c.Text())
		case "DisplayName":
			f.DisplayName = strings.TrimSpace(c.Text())
		case "TotalCount":
			f.TotalCount = parseInt(c.Text())
		case "ChildFolderCount":
			f.ChildFolderCount = parseInt(c.Text())
		case "UnreadCount":
			f.UnreadCount = parseInt(c.Text())
		case "ExtendedProperty":
			f.ExtendedProperties = append(f.ExtendedProperties, parseExtendedProperty(c))
		}
	}
	return f
}

// parseFolders returns the folder elements (any t:*Folder) of a t:Folders
// or m:Folders element.
func parseFolders(list *etree.Element) []Folder {
	if list == nil {
		return nil
	}
	var out []Folder
	for _, f := range list.ChildElements() {
		if f.NamespaceURI() == NamespaceTypes {
			out = append(out, parseFolder(f))
		}
	}
	return out
}

// GetFolderRequest is the input of [Client.GetFolder].
type GetFolderRequest struct {
	// FolderIDs are the folders to get, at least one.
	FolderIDs []FolderID
	// Shape is the base shape; the zero value means ShapeIDOnly.
	Shape BaseShape
	// AdditionalProperties adds properties to the shape.
	AdditionalProperties []FieldURI
	// ExtendedProperties adds extended properties to the shape; they are
	// never part of a base shape.
	ExtendedProperties []ExtendedFieldURI
}

// GetFolderResponse is the result of [Client.GetFolder].
type GetFolderResponse struct {
	// ServerVersion is the server's ServerVersionInfo header, nil when the
	// response had none.
	ServerVersion *ServerVersionInfo
	// Results has one entry per requested folder, in request order.
	Results []FolderResult
}

// FolderResult is the outcome for one requested folder.
type FolderResult struct {
	ResponseMessage
	// Folder is the folder; zero when Err is set.
	Folder Folder
	// Err is a *ResponseError when the server reported an error for this
	// folder (Class == ClassError), nil otherwise.
	Err error
}

func (r *FolderResult) setMessage(m ResponseMessage, err error) { r.ResponseMessage, r.Err = m, err }

// GetFolder runs the EWS GetFolder operation: one request for several
// folders, one result per folder in request order. The returned error is
// about the request as a whole (fault, HTTP, transport, invalid request);
// per-folder errors are in the results.
func (c *Client) GetFolder(ctx context.Context, req *GetFolderRequest, opts ...CallOption) (*GetFolderResponse, error) {
	if req == nil {
		return nil, invalidf("GetFolder: request is nil")
	}
	op := opGetFolder
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:GetFolder")
		if err := writeShapeExt(op.name, e, "FolderShape", req.Shape, req.AdditionalProperties, req.ExtendedProperties); err != nil {
			return err
		}
		return writeFolderIDs(op.name, "FolderIds", e, req.FolderIDs)
	})
	if err != nil {
		return nil, err
	}
	return parseGetFolder(soap, len(req.FolderIDs))
}

func parseGetFolder(soap *soapResponse, want int) (*GetFolderResponse, error) {
	results, err := parseResults(soap, opGetFolder, want, func(r *FolderResult, e *etree.Element) {
		if fs := parseFolders(childNS(e, NamespaceMessages, "Folders")); len(fs) > 0 {
			r.Folder = fs[0]
		}
	})
	if err != nil {
		return nil, err
	}
	return &GetFolderResponse{ServerVersion: soap.serverVersion, Results: results}, nil
}

// Folder gets one folder with the Default shape (id, display name, total,
// child folder and unread counts; Exchange's Default shape does not include
// the folder class). The error is the request's error or the folder's
// *ResponseError, so one check covers both:
//
//	inbox, err := c.With(ews.Impersonate(ews.PrimarySmtpAddress(addr))).
//		Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox))
func (c *Client) Folder(ctx context.Context, id FolderID, opts ...CallOption) (*Folder, error) {
	resp, err := c.GetFolder(ctx, &GetFolderRequest{FolderIDs: []FolderID{id}, Shape: ShapeDefault}, opts...)
	if err != nil {
		return nil, err
	}
	r := resp.Results[0]
	if r.Err != nil {
		return nil, r.Err
	}
	return &r.Folder, nil
}

// FolderTraversal is the depth of a FindFolder search.
type FolderTraversal string

// The FindFolder traversals.
const (
	// FolderShallow searches the direct children (the default).
	FolderShallow FolderTraversal = "Shallow"
	// FolderDeep searches all descendants.
	FolderDeep FolderTraversal = "Deep"
	// FolderSoftDeleted searches soft-deleted children.
	FolderSoftDeleted FolderTraversal = "SoftDeleted"
)

// FindFolderRequest is the input of [Client.FindFolder].
type FindFolderRequest struct {
	// ParentFolderIDs are the folders whose subfolders are listed.
	ParentFolderIDs []FolderID
	// Traversal defaults to FolderShallow.
	Traversal FolderTraversal
	// Shape is the base shape; the zero value means ShapeIDOnly.
	Shape                BaseShape
	AdditionalProperties []FieldURI
	// ExtendedProperties adds extended properties to the shape.
	ExtendedProperties []ExtendedFieldURI
	// Page, when set, requests one page (t:IndexedPageFolderView).
	Page *PageView
	// Restriction, when set, returns only the folders that match it; it
	// may use folder properties only (FindFolder has no sort order).
	Restriction Restriction
}

// FindFolderResponse is the result of [Client.FindFolder].
type FindFolderResponse struct {
	ServerVersion *ServerVersionInfo
	// Results has one entry per parent folder, in request order.
	Results []FindFolderResult
}

// FindFolderResult is the outcome for one parent folder.
type FindFolderResult struct {
	ResponseMessage
	Page    PageInfo
	Folders []Folder
	// Err is a *ResponseError when Class == ClassError.
	Err error
}

func (r *FindFolderResult) setMessage(m ResponseMessage, err error) {
	r.ResponseMessage, r.Err = m, err
}

// FindFolder runs the EWS FindFolder operation: the subfolders of each
// parent folder.
func (c *Client) FindFolder(ctx context.Context, req *FindFolderRequest, opts ...CallOption) (*FindFolderResponse, error) {
	if req == nil {
		return nil, invalidf("FindFolder: request is nil")
	}
	op := opFindFolder
	traversal := req.Traversal
	if traversal == "" {
		traversal = FolderShallow
	}
	switch traversal {
	case FolderShallow, FolderDeep, FolderSoftDeleted:
	default:
		return nil, invalidf("FindFolder: traversal %q is none of Shallow, Deep, SoftDeleted", clip(string(traversal)))
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:FindFolder")
		e.CreateAttr("Traversal", string(traversal))
		if err := writeShapeExt(op.name, e, "FolderShape", req.Shape, req.AdditionalProperties, req.ExtendedProperties); err != nil {
			return err
		}
		if req.Page != nil {
			if err := req.Page.write(op.name, e, "IndexedPageFolderView"); err != nil {
				return err
			}
		}
		if req.Restriction != nil {
			if err := writeRestriction(op.name, e, req.Restriction); err != nil {
				return err
			}
		}
		return writeFolderIDs(op.name, "ParentFolderIds", e, req.ParentFolderIDs)
	})
	if err != nil {
		return nil, err
	}
	return parseFindFolder(soap, len(req.ParentFolderIDs))
}

func parseFindFolder(soap *soapResponse, want int) (*FindFolderResponse, error) {
	results, err := parseResults(soap, opFindFolder, want, func(r *FindFolderResult, e *etree.Element) {
		if root := childNS(e, NamespaceMessages, "RootFolder"); root != nil {
			r.Page = parsePageInfo(root)
			r.Folders = parseFolders(childNS(root, NamespaceTypes, "Folders"))
		}
	})
	if err != nil {
		return nil, err
	}
	return &FindFolderResponse{ServerVersion: soap.serverVersion, Results: results}, nil
}
