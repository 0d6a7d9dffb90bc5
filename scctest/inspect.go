package scctest

import (
	"errors"
	"fmt"

	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// Folder is a folder of a mailbox as [Server.Folders] shows it, read from
// the mailbox model without the wire.
type Folder struct {
	ID, ChangeKey string
	// ParentID is the id of the folder holding it.
	ParentID string
	// Distinguished is its DistinguishedFolderId ("inbox"), "" for the
	// others.
	Distinguished string
	DisplayName   string
	// FolderClass is "" for a folder without one.
	FolderClass string
	// ExtendedProperties are the extended properties stored on the folder
	// (those set through EWS; computed MAPI properties are not listed).
	ExtendedProperties []ExtendedProperty
}

// ExtendedProperty is a stored extended property: its address as the
// client gave it (normalised: GUIDs in lower case) and its value, or values
// for an array type, in canonical text form.
type ExtendedProperty struct {
	PropertyTag                string
	PropertySetID              string
	DistinguishedPropertySetID string
	PropertyName               string
	PropertyID                 string
	PropertyType               string
	Values                     []string
}

// UserConfiguration is a user configuration object as
// [Server.UserConfiguration] shows it.
type UserConfiguration struct {
	Name       string
	ID         string
	XMLData    []byte
	BinaryData []byte
	Dictionary []DictionaryEntry
}

// DictionaryEntry is one entry of a user configuration's dictionary, its
// values in text form.
type DictionaryEntry struct {
	KeyType, Key, ValueType string
	Values                  []string
}

// Folders lists the child folders of a folder of a mailbox (named by any of
// its addresses), in creation order, as FindFolder's Shallow traversal
// does: soft-deleted folders are left out. folder is a
// DistinguishedFolderId such as "msgfolderroot" or a folder id.
func (s *Server) Folders(mailboxAddr, folderName string) ([]Folder, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mb := s.dir.lookupAddr(mailboxAddr)
	if mb == nil {
		return nil, fmt.Errorf("%w: Folders: mailbox %q", ErrNotFound, mailboxAddr)
	}
	fs, err := s.box(mb).FindFolders(folderName, mbx.Shallow)
	if err != nil {
		return nil, seedErr("Folders", folderName, err)
	}
	out := make([]Folder, 0, len(fs))
	for _, f := range fs {
		out = append(out, directFolder(f))
	}
	return out, nil
}

func directFolder(f mbx.Folder) Folder {
	out := Folder{ID: f.ID, ChangeKey: f.ChangeKey, ParentID: f.ParentID, Distinguished: f.Distinguished,
		DisplayName: f.DisplayName, FolderClass: f.Class}
	for _, p := range f.Extended {
		out.ExtendedProperties = append(out.ExtendedProperties, ExtendedProperty{
			PropertyTag: p.URI.PropertyTag, PropertySetID: p.URI.PropertySetID,
			DistinguishedPropertySetID: p.URI.DistinguishedPropertySetID, PropertyName: p.URI.PropertyName,
			PropertyID: p.URI.PropertyID, PropertyType: string(p.URI.Type), Values: append([]string(nil), p.Values...),
		})
	}
	return out
}

// UserConfiguration returns the user configuration object name (such as
// "CategoryList", Outlook's master category list on the "calendar"
// folder) of a folder of a mailbox; a missing one is [ErrNotFound].
func (s *Server) UserConfiguration(mailboxAddr, folderName, name string) (UserConfiguration, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mb := s.dir.lookupAddr(mailboxAddr)
	if mb == nil {
		return UserConfiguration{}, fmt.Errorf("%w: UserConfiguration: mailbox %q", ErrNotFound, mailboxAddr)
	}
	c, err := s.box(mb).GetUserConfig(folderName, name)
	if errors.Is(err, mbx.ErrItemNotFound) {
		return UserConfiguration{}, fmt.Errorf("%w: UserConfiguration: %q on folder %q of %q", ErrNotFound, name, folderName, mailboxAddr)
	}
	if err != nil {
		return UserConfiguration{}, seedErr("UserConfiguration", folderName, err)
	}
	out := UserConfiguration{Name: c.Name, ID: c.ID, XMLData: c.XMLData, BinaryData: c.BinaryData}
	for _, e := range c.Dictionary {
		out.Dictionary = append(out.Dictionary, DictionaryEntry{KeyType: e.KeyType, Key: e.Key, ValueType: e.ValueType, Values: e.Values})
	}
	return out, nil
}
