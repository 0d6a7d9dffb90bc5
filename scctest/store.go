package scctest

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
)

// folderKind indexes the standard folders every mailbox has.
type folderKind uint8

const (
	fRoot folderKind = iota
	fMsgFolderRoot
	fInbox
	fDrafts
	fSentItems
	fDeletedItems
	fOutbox
	fJunkEmail
	fCalendar
	fContacts
	fTasks
	fNotes
	fJournal
	fConversationHistory
	fSearchFolders
	fRecoverableItemsRoot
	fRecoverableItemsDeletions
	fRecoverableItemsPurges
	fRecoverableItemsVersions
	numFolders
)

// folderSpec describes a standard folder.
type folderSpec struct {
	id          string // DistinguishedFolderId
	displayName string
	class       string // FolderClass, "" for none
	element     string // t:Folder, t:CalendarFolder, ...
	parent      folderKind
}

func (k folderKind) spec() folderSpec {
	switch k {
	case fRoot:
		return folderSpec{"root", "Root", "", "Folder", fRoot}
	case fMsgFolderRoot:
		return folderSpec{"msgfolderroot", "Top of Information Store", "IPF.Note", "Folder", fRoot}
	case fInbox:
		return folderSpec{"inbox", "Inbox", "IPF.Note", "Folder", fMsgFolderRoot}
	case fDrafts:
		return folderSpec{"drafts", "Drafts", "IPF.Note", "Folder", fMsgFolderRoot}
	case fSentItems:
		return folderSpec{"sentitems", "Sent Items", "IPF.Note", "Folder", fMsgFolderRoot}
	case fDeletedItems:
		return folderSpec{"deleteditems", "Deleted Items", "IPF.Note", "Folder", fMsgFolderRoot}
	case fOutbox:
		return folderSpec{"outbox", "Outbox", "IPF.Note", "Folder", fMsgFolderRoot}
	case fJunkEmail:
		return folderSpec{"junkemail", "Junk Email", "IPF.Note", "Folder", fMsgFolderRoot}
	case fCalendar:
		return folderSpec{"calendar", "Calendar", "IPF.Appointment", "CalendarFolder", fMsgFolderRoot}
	case fContacts:
		return folderSpec{"contacts", "Contacts", "IPF.Contact", "ContactsFolder", fMsgFolderRoot}
	case fTasks:
		return folderSpec{"tasks", "Tasks", "IPF.Task", "TasksFolder", fMsgFolderRoot}
	case fNotes:
		return folderSpec{"notes", "Notes", "IPF.StickyNote", "Folder", fMsgFolderRoot}
	case fJournal:
		return folderSpec{"journal", "Journal", "IPF.Journal", "Folder", fMsgFolderRoot}
	case fConversationHistory:
		return folderSpec{"conversationhistory", "Conversation History", "IPF.Note", "Folder", fMsgFolderRoot}
	case fSearchFolders:
		return folderSpec{"searchfolders", "Finder", "", "Folder", fRoot}
	case fRecoverableItemsRoot:
		return folderSpec{"recoverableitemsroot", "Recoverable Items", "", "Folder", fRoot}
	case fRecoverableItemsDeletions:
		return folderSpec{"recoverableitemsdeletions", "Deletions", "", "Folder", fRecoverableItemsRoot}
	case fRecoverableItemsPurges:
		return folderSpec{"recoverableitemspurges", "Purges", "", "Folder", fRecoverableItemsRoot}
	case fRecoverableItemsVersions:
		return folderSpec{"recoverableitemsversions", "Versions", "", "Folder", fRecoverableItemsRoot}
	}
	return folderSpec{}
}

// folderByName maps a DistinguishedFolderId to a standard folder. The second
// result is false for names the schema knows but the fake does not model
// (Exchange answers those with ErrorFolderNotFound too, e.g. archive
// folders of a mailbox without archive) and for names that are not in the
// schema at all (third result false).
func folderByName(name string) (k folderKind, modelled bool) {
	for k := folderKind(0); k < numFolders; k++ {
		if k.spec().id == name {
			return k, true
		}
	}
	return 0, false
}

// children returns the direct child folders of k.
func (k folderKind) children() []folderKind {
	var out []folderKind
	for c := folderKind(1); c < numFolders; c++ {
		if c.spec().parent == k {
			out = append(out, c)
		}
	}
	return out
}

// folder is the state of one folder of one mailbox.
type folder struct {
	items []*item // in insertion order
}

// item is one stored message.
type item struct {
	num       uint64
	folder    folderKind
	changeKey uint32
	msg       Message
	draft     bool
	size      int
}

// mailbox is the state of one mailbox. Its standard folders exist from the
// start for EWS (ids, names, counts come from folderKind and the mailbox
// index), but their item lists are only allocated when the mailbox first
// holds an item: a directory of 100,000 mailboxes that a check only reads
// does not pay for 19 empty folders each.
type mailbox struct {
	idx     uint32
	info    Mailbox
	folders *[numFolders]folder // nil until the first item
	items   map[uint64]*item    // by item number; nil until the first item
	ewsOff  bool
}

// folderItems returns the items of folder k, oldest first (nil while the
// mailbox has never held an item). Callers must not modify the slice.
func (m *mailbox) folderItems(k folderKind) []*item {
	if m.folders == nil {
		return nil
	}
	return m.folders[k].items
}

// file stores it in its folder it.folder.
func (m *mailbox) file(it *item) {
	if m.folders == nil {
		m.folders = new([numFolders]folder)
		m.items = map[uint64]*item{}
	}
	m.items[it.num] = it
	f := &m.folders[it.folder]
	f.items = append(f.items, it)
}

// unfile takes it out of its folder (it stays in m.items).
func (m *mailbox) unfile(it *item) {
	if m.folders != nil {
		m.folders[it.folder].remove(it)
	}
}

// addresses returns every SMTP address of the mailbox, primary first.
func (m *mailbox) addresses() []string {
	return append([]string{m.info.PrimarySMTP}, m.info.ProxyAddresses...)
}

// Ids. An id is base64 of a small binary record, so clients treat it as
// opaque just like an Exchange id; it names the mailbox by its index.
const (
	idItem   = 'I'
	idFolder = 'F'
	idVer    = 1
)

func encodeID(kind byte, mbx uint32, num uint64) string {
	var b [15]byte
	b[0] = kind
	b[1] = idVer
	b[2] = 0
	binary.BigEndian.PutUint32(b[3:7], mbx)
	binary.BigEndian.PutUint64(b[7:15], num)
	return base64.StdEncoding.EncodeToString(b[:])
}

// decodeID parses an id; ok is false when it is not one of ours.
func decodeID(s string) (kind byte, mbx uint32, num uint64, ok bool) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != 15 || b[1] != idVer || (b[0] != idItem && b[0] != idFolder) {
		return 0, 0, 0, false
	}
	return b[0], binary.BigEndian.Uint32(b[3:7]), binary.BigEndian.Uint64(b[7:15]), true
}

func changeKey(kind byte, v uint32) string {
	var b [6]byte
	b[0] = kind
	b[1] = idVer
	binary.BigEndian.PutUint32(b[2:], v)
	return base64.StdEncoding.EncodeToString(b[:])
}

func (m *mailbox) folderID(k folderKind) string { return encodeID(idFolder, m.idx, uint64(k)) }

func (m *mailbox) itemID(it *item) ItemID {
	return ItemID{ID: encodeID(idItem, m.idx, it.num), ChangeKey: changeKey(idItem, it.changeKey)}
}

// unread counts unread items.
func unread(items []*item) int {
	n := 0
	for _, it := range items {
		if !it.msg.IsRead {
			n++
		}
	}
	return n
}

// remove takes it out of the folder's item list.
func (f *folder) remove(it *item) {
	for i, x := range f.items {
		if x == it {
			copy(f.items[i:], f.items[i+1:])
			f.items[len(f.items)-1] = nil
			f.items = f.items[:len(f.items)-1]
			return
		}
	}
}

// ewsTime formats a time as Exchange does (UTC, seconds, Z).
func ewsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
