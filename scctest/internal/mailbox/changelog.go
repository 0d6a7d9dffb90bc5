package mailbox

import (
	"sort"
	"time"
)

// ChangeType is the kind of a change log entry.
type ChangeType uint8

// Change types. They double as notification event types.
const (
	ChangeCreated ChangeType = iota + 1
	ChangeModified
	ChangeDeleted
	ChangeMoved
	ChangeCopied
	ChangeReadFlag
	ChangeNewMail
	ChangeFreeBusy
)

// String returns the EWS event name stem (CreatedEvent without "Event").
func (c ChangeType) String() string {
	switch c {
	case ChangeCreated:
		return "Created"
	case ChangeModified:
		return "Modified"
	case ChangeDeleted:
		return "Deleted"
	case ChangeMoved:
		return "Moved"
	case ChangeCopied:
		return "Copied"
	case ChangeReadFlag:
		return "ReadFlag"
	case ChangeNewMail:
		return "NewMail"
	case ChangeFreeBusy:
		return "FreeBusyChanged"
	}
	return "Unknown"
}

// entry is one change log record; numbers, not strings, to stay small.
type entry struct {
	seq        uint64
	time       int64 // unix nanoseconds
	typ        ChangeType
	folder     bool // the object is a folder
	associated bool // a user configuration (folder-associated item)
	isRead     bool
	num        uint64 // object (new number after a move or copy)
	parent     uint64 // its folder after the change
	oldNum     uint64 // Moved/Copied: the object before
	oldParent  uint64 // Moved/Copied: its folder before
}

// Change is a change log record as callers see it.
type Change struct {
	Seq         uint64
	Time        time.Time
	Type        ChangeType
	Folder      bool // the object is a folder
	Associated  bool // a user configuration object
	ID          string
	ParentID    string
	OldID       string // Moved and Copied
	OldParentID string // Moved and Copied
	IsRead      bool   // ReadFlag
}

// logLocked appends to the change log and wakes subscribers. Callers hold
// the write lock.
func (m *Mailbox) logLocked(e entry) {
	m.seq++
	e.seq = m.seq
	e.time = m.now().UnixNano()
	m.log = append(m.log, e)
	for _, ch := range m.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// logItemLocked logs a change of an item, plus FreeBusyChanged when the
// item is a calendar item (its change moves the owner's free/busy).
func (m *Mailbox) logItemLocked(e entry, it *item) {
	m.logLocked(e)
	if it.data.Kind == CalendarItem {
		m.logLocked(entry{typ: ChangeFreeBusy, num: e.num, parent: e.parent})
	}
}

func (m *Mailbox) change(e entry) Change {
	kind := KindItemID
	switch {
	case e.folder:
		kind = KindFolderID
	case e.associated:
		kind = KindConfigID
	}
	c := Change{Seq: e.seq, Time: time.Unix(0, e.time).UTC(), Type: e.typ, Folder: e.folder, Associated: e.associated,
		ID: m.id(kind, e.num), IsRead: e.isRead}
	if e.parent != 0 {
		c.ParentID = m.id(KindFolderID, e.parent)
	}
	if e.typ == ChangeMoved || e.typ == ChangeCopied {
		c.OldID = m.id(kind, e.oldNum)
		if e.oldParent != 0 {
			c.OldParentID = m.id(KindFolderID, e.oldParent)
		}
	}
	return c
}

// Seq returns the sequence number of the last change (0 for none): a
// watermark for [Mailbox.ChangesSince] and the sync queries.
func (m *Mailbox) Seq() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.seq
}

// sinceIndex is the index of the first entry after seq.
func (m *Mailbox) sinceIndex(seq uint64) int {
	return sort.Search(len(m.log), func(i int) bool { return m.log[i].seq > seq })
}

// ChangesSince returns up to max raw change records after seq (max <= 0:
// all), for notification subscriptions; more says whether there are
// further ones.
func (m *Mailbox) ChangesSince(seq uint64, max int) (out []Change, more bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, e := range m.log[m.sinceIndex(seq):] {
		if max > 0 && len(out) == max {
			return out, true
		}
		out = append(out, m.change(e))
	}
	return out, false
}

// Subscribe returns a channel that receives a signal (never blocking the
// writer, coalesced) after changes are logged, and a function that ends
// the subscription. Read what changed with [Mailbox.ChangesSince] from the
// subscriber's own watermark, so no event is ever lost.
func (m *Mailbox) Subscribe() (<-chan struct{}, func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.subs == nil {
		m.subs = map[uint64]chan struct{}{}
	}
	m.nsub++
	id := m.nsub
	ch := make(chan struct{}, 1)
	m.subs[id] = ch
	return ch, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.subs, id)
	}
}

// SyncChangeType is a net change as SyncFolderItems / SyncFolderHierarchy
// report it.
type SyncChangeType uint8

// Net change types.
const (
	SyncCreate SyncChangeType = iota + 1
	SyncUpdate
	SyncDelete
	SyncReadFlagChange
)

// String returns the EWS element name.
func (t SyncChangeType) String() string {
	names := [...]string{"", "Create", "Update", "Delete", "ReadFlagChange"}
	if int(t) < len(names) {
		return names[t]
	}
	return "Unknown"
}

// ItemChange is a net change of one item in a folder.
type ItemChange struct {
	Type   SyncChangeType
	ID     string
	Item   *Item // Create and Update: the item now
	IsRead bool  // ReadFlagChange
}

// FolderChange is a net change of one folder.
type FolderChange struct {
	Type   SyncChangeType
	ID     string
	Folder *Folder // Create and Update
}

// netState gathers what happened to one object after a point.
type netState struct {
	num       uint64
	first     uint64 // seq of the first relevant event
	bornAfter bool   // it entered the scope after the point
	gone      bool   // it left the scope
	modified  bool   // changed other than the read flag
	readFlag  bool
}

func (s *netState) kind() SyncChangeType {
	switch {
	case s.bornAfter && s.gone:
		return 0
	case s.bornAfter:
		return SyncCreate
	case s.gone:
		return SyncDelete
	case s.modified:
		return SyncUpdate
	case s.readFlag:
		return SyncReadFlagChange
	}
	return 0
}

// page orders net changes by their first event and cuts after max; the
// returned point is where the next page starts: every object with an
// event up to it was reported (with its state now).
func page(states map[uint64]*netState, since, last uint64, max int) (list []*netState, next uint64, more bool) {
	for _, s := range states {
		if s.kind() != 0 {
			list = append(list, s)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].first < list[j].first })
	if max <= 0 || len(list) <= max {
		return list, last, false
	}
	// Cut before the first sequence that does not fit whole: one write
	// (a move within a folder) can touch two objects with one sequence.
	cut := list[max].first
	n := max
	for n > 0 && list[n-1].first == cut {
		n--
	}
	if n == 0 {
		// One sequence fills the page: take all of it, past max.
		for n = max; n < len(list) && list[n].first == cut; n++ {
		}
		if n == len(list) {
			return list, last, false
		}
		return list[:n], list[n].first - 1, true
	}
	return list[:n], cut - 1, true
}

// ItemChanges returns the net changes of the items of a folder after
// sequence since, at most max (max <= 0: all), as SyncFolderItems reports
// them: an item created (or moved or copied in) and still there is a
// Create; one there before and gone (deleted or moved out) a Delete; one
// changed an Update, or a ReadFlagChange when only its read flag changed;
// several changes coalesce, and an item both created and removed after
// since is not reported. next is the sequence to ask from for the next
// page (or the next sync); more says a page was cut. User configuration
// objects are not reported.
func (m *Mailbox) ItemChanges(folderRef string, since uint64, max int) (changes []ItemChange, next uint64, more bool, err error) {
	m.rlock()
	defer m.mu.RUnlock()
	f, err := m.folderLocked(folderRef)
	if err != nil {
		return nil, 0, false, err
	}
	if since > m.seq {
		return nil, 0, false, errf(ErrInvalidRequest, "sync point %d is ahead of the mailbox (%d)", since, m.seq)
	}
	states := map[uint64]*netState{}
	get := func(num, seq uint64) *netState {
		s := states[num]
		if s == nil {
			s = &netState{num: num, first: seq}
			states[num] = s
		}
		return s
	}
	for _, e := range m.log[m.sinceIndex(since):] {
		if e.folder || e.associated {
			continue
		}
		if e.parent == f.num {
			s := get(e.num, e.seq)
			switch e.typ {
			case ChangeCreated, ChangeCopied, ChangeMoved:
				s.bornAfter = true
			case ChangeModified:
				s.modified = true
			case ChangeReadFlag:
				s.readFlag = true
			case ChangeDeleted:
				s.gone = true
			}
		}
		if e.typ == ChangeMoved && e.oldParent == f.num {
			get(e.oldNum, e.seq).gone = true
		}
	}
	list, next, more := page(states, since, m.seq, max)
	for _, s := range list {
		c := ItemChange{Type: s.kind(), ID: m.id(KindItemID, s.num)}
		if it := m.items[s.num]; it != nil && (c.Type == SyncCreate || c.Type == SyncUpdate || c.Type == SyncReadFlagChange) {
			snap := m.snapshot(it)
			c.IsRead = snap.IsRead
			if c.Type != SyncReadFlagChange {
				c.Item = &snap
			}
		}
		changes = append(changes, c)
	}
	return changes, next, more, nil
}

// FolderChanges returns the net changes of the folders under root (root
// itself excluded) after sequence since, as SyncFolderHierarchy reports
// them: Create, Update (renamed, moved within the tree, properties
// changed) and Delete (deleted, soft-deleted, or moved out of the tree).
// Scope is judged by where folders are now, and where a deleted or
// moved-out folder was when it left.
func (m *Mailbox) FolderChanges(rootRef string, since uint64, max int) (changes []FolderChange, next uint64, more bool, err error) {
	m.rlock()
	defer m.mu.RUnlock()
	root, err := m.folderLocked(rootRef)
	if err != nil {
		return nil, 0, false, err
	}
	if since > m.seq {
		return nil, 0, false, errf(ErrInvalidRequest, "sync point %d is ahead of the mailbox (%d)", since, m.seq)
	}
	// inScope answers for a folder number that still exists; a removed
	// folder was in scope if its parent at removal was (recorded below).
	inScope := func(num uint64) bool {
		f := m.folders[num]
		if f == nil {
			return false
		}
		for p := f; p != nil; p = p.parent {
			if p.softDeleted {
				return false
			}
			if p == root {
				return f != root
			}
		}
		return false
	}
	wasInScope := map[uint64]bool{root.num: true}
	states := map[uint64]*netState{}
	get := func(num, seq uint64) *netState {
		s := states[num]
		if s == nil {
			s = &netState{num: num, first: seq}
			states[num] = s
		}
		return s
	}
	for _, e := range m.log[m.sinceIndex(since):] {
		if !e.folder {
			continue
		}
		s := get(e.num, e.seq)
		switch e.typ {
		case ChangeCreated, ChangeCopied:
			s.bornAfter = true
		case ChangeDeleted:
			s.gone = true
			if ps := m.folders[e.parent]; ps != nil && (inScope(e.parent) || ps == root) {
				wasInScope[e.num] = true
			}
		default:
			s.modified = true
		}
	}
	for num, s := range states {
		now := inScope(num)
		switch {
		case s.gone:
			if !wasInScope[num] && !s.bornAfter {
				delete(states, num)
			}
		case !now && s.bornAfter:
			delete(states, num)
		case !now:
			// moved out of the tree (or under a soft-deleted folder)
			s.gone = true
		}
	}
	list, next, more := page(states, since, m.seq, max)
	for _, s := range list {
		c := FolderChange{Type: s.kind(), ID: m.id(KindFolderID, s.num)}
		if f := m.folders[s.num]; f != nil && c.Type != SyncDelete {
			snap := m.folderSnapshot(f)
			c.Folder = &snap
		}
		if c.Type == SyncReadFlagChange {
			c.Type = SyncUpdate
		}
		changes = append(changes, c)
	}
	return changes, next, more, nil
}
