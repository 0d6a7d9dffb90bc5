package ews

import (
	"context"
	"strings"

	"github.com/beevik/etree"
)

// SearchScope says where ResolveNames looks.
type SearchScope string

// The ResolveNames search scopes.
const (
	ScopeActiveDirectory         SearchScope = "ActiveDirectory"
	ScopeActiveDirectoryContacts SearchScope = "ActiveDirectoryContacts"
	ScopeContacts                SearchScope = "Contacts"
	ScopeContactsActiveDirectory SearchScope = "ContactsActiveDirectory"
)

// ResolveNamesRequest is the input of [Client.ResolveNames].
type ResolveNamesRequest struct {
	// UnresolvedEntry is the name or address to resolve.
	UnresolvedEntry string
	// ReturnFullContactData asks for the directory contact data too.
	ReturnFullContactData bool
	// SearchScope defaults (on the server) to ActiveDirectoryContacts.
	SearchScope SearchScope
	// ParentFolderIDs limits a contacts search to these folders.
	ParentFolderIDs []FolderID
}

// ResolveNamesResponse is the result of [Client.ResolveNames]. No match is
// an error (ErrorNameResolutionNoResults); several matches come back with
// Class ClassWarning and code ErrorNameResolutionMultipleResults.
type ResolveNamesResponse struct {
	ServerVersion *ServerVersionInfo
	ResponseMessage
	Resolutions []Resolution
	// IncludesLastItemInRange is false when the server cut the list short.
	IncludesLastItemInRange bool
	// Err is a *ResponseError when Class == ClassError.
	Err error
}

// Resolution is one match of ResolveNames.
type Resolution struct {
	Mailbox Mailbox
	// Contact is set when the match has contact data (always with
	// ReturnFullContactData for directory matches): the t:Contact fields
	// the server sent.
	Contact *Contact
}

// ResolveNames runs the EWS ResolveNames operation. With impersonation it is
// a cheap check that a user resolves in the directory.
func (c *Client) ResolveNames(ctx context.Context, req *ResolveNamesRequest, opts ...CallOption) (*ResolveNamesResponse, error) {
	if req == nil {
		return nil, invalidf("ResolveNames: request is nil")
	}
	op := opResolveNames
	if strings.TrimSpace(req.UnresolvedEntry) == "" {
		return nil, invalidf("ResolveNames: the entry to resolve is empty")
	}
	switch req.SearchScope {
	case "", ScopeActiveDirectory, ScopeActiveDirectoryContacts, ScopeContacts, ScopeContactsActiveDirectory:
	default:
		return nil, invalidf("ResolveNames: search scope %q is not a ResolveNamesSearchScopeType", clip(string(req.SearchScope)))
	}
	if err := checkText(op.name, "UnresolvedEntry", req.UnresolvedEntry); err != nil {
		return nil, err
	}
	soap, err := c.call(ctx, op, opts, func(b *etree.Element) error {
		e := b.CreateElement("m:ResolveNames")
		e.CreateAttr("ReturnFullContactData", map[bool]string{false: "false", true: "true"}[req.ReturnFullContactData])
		if req.SearchScope != "" {
			e.CreateAttr("SearchScope", string(req.SearchScope))
		}
		if len(req.ParentFolderIDs) > 0 {
			if err := writeFolderIDs(op.name, "ParentFolderIds", e, req.ParentFolderIDs); err != nil {
				return err
			}
		}
		e.CreateElement("m:UnresolvedEntry").SetText(req.UnresolvedEntry)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return parseResolveNames(soap)
}

func parseResolveNames(soap *soapResponse) (*ResolveNamesResponse, error) {
	op := opResolveNames
	msgs, err := soap.messages(op, 1)
	if err != nil {
		return nil, err
	}
	e := msgs[0]
	resp := &ResolveNamesResponse{ServerVersion: soap.serverVersion, ResponseMessage: parseResponseMessage(e, soap.red)}
	resp.Err = resp.ResponseMessage.err(op.name, 0)
	if set := childNS(e, NamespaceMessages, "ResolutionSet"); set != nil {
		resp.IncludesLastItemInRange = parseBool(set.SelectAttrValue("IncludesLastItemInRange", "true"))
		for _, r := range childrenNS(set, NamespaceTypes, "Resolution") {
			res := Resolution{Mailbox: parseMailbox(childNS(r, NamespaceTypes, "Mailbox"))}
			if ct := childNS(r, NamespaceTypes, "Contact"); ct != nil {
				contact := &Contact{}
				for _, f := range ct.ChildElements() {
					if f.NamespaceURI() == NamespaceTypes {
						contact.parseField(f)
					}
				}
				res.Contact = contact
			}
			resp.Resolutions = append(resp.Resolutions, res)
		}
	}
	return resp, nil
}
