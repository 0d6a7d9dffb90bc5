package scctest

import (
	"errors"
	"fmt"

	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// The methods below change items as another client of the mailbox would
// (Outlook, a phone), without the wire: the changes go through the
// mailbox model, so sync, the change log and notifications report them
// like those made over EWS.

// SetItemSubject sets the subject of an item of a mailbox (named by any of
// its addresses), whatever its change key, and returns its id and new
// change key: SyncFolderItems reports it as an Update.
func (s *Server) SetItemSubject(mailboxAddr, itemID, subject string) (ItemID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.dir.lookupAddr(mailboxAddr)
	if mb == nil {
		return ItemID{}, fmt.Errorf("%w: SetItemSubject: mailbox %q", ErrNotFound, mailboxAddr)
	}
	b := s.box(mb)
	it, err := b.GetItem(itemID)
	if err != nil {
		return ItemID{}, seedItemErr("SetItemSubject", itemID, err)
	}
	res, err := b.UpdateItem(it.ID, it.ChangeKey, mbx.AlwaysOverwrite,
		[]mbx.Update{{Op: mbx.SetField, Path: mbx.Field("item:Subject"), Value: mbx.Item{Subject: subject}}})
	if err != nil {
		return ItemID{}, seedItemErr("SetItemSubject", itemID, err)
	}
	return ItemID{ID: res.Item.ID, ChangeKey: res.Item.ChangeKey}, nil
}

// MoveItem moves an item of a mailbox to a folder (a DistinguishedFolderId
// or a folder id) and returns its new id, as Exchange gives a moved item:
// the old id is gone.
func (s *Server) MoveItem(mailboxAddr, itemID, folderName string) (ItemID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.dir.lookupAddr(mailboxAddr)
	if mb == nil {
		return ItemID{}, fmt.Errorf("%w: MoveItem: mailbox %q", ErrNotFound, mailboxAddr)
	}
	it, err := s.box(mb).MoveItem(itemID, folderName)
	if err != nil {
		return ItemID{}, seedErr("MoveItem", folderName, err)
	}
	return ItemID{ID: it.ID, ChangeKey: it.ChangeKey}, nil
}

// DeleteItem removes an item of a mailbox for good (HardDelete).
func (s *Server) DeleteItem(mailboxAddr, itemID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.dir.lookupAddr(mailboxAddr)
	if mb == nil {
		return fmt.Errorf("%w: DeleteItem: mailbox %q", ErrNotFound, mailboxAddr)
	}
	if _, err := s.box(mb).DeleteItem(itemID, mbx.HardDelete); err != nil {
		return seedItemErr("DeleteItem", itemID, err)
	}
	return nil
}

// seedItemErr wraps a model error about an item in the package's
// sentinels.
func seedItemErr(method, itemID string, err error) error {
	if errors.Is(err, mbx.ErrItemNotFound) {
		return fmt.Errorf("%w: %s: item %q: %v", ErrNotFound, method, clip(itemID, 64), err)
	}
	return fmt.Errorf("%w: %s: %v", ErrInvalid, method, err)
}
