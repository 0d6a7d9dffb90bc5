package mailbox

import "strings"

// UpdateOp is SetItemField, AppendToItemField or DeleteItemField.
type UpdateOp uint8

// Update operations.
const (
	SetField UpdateOp = iota
	AppendField
	DeleteField
)

// String returns the EWS element name.
func (o UpdateOp) String() string {
	names := [...]string{"SetItemField", "AppendToItemField", "DeleteItemField"}
	if int(o) < len(names) {
		return names[o]
	}
	return "Unknown"
}

// ConflictResolution is UpdateItem's ConflictResolution.
type ConflictResolution uint8

// Conflict resolutions.
const (
	AutoResolve ConflictResolution = iota
	NeverOverwrite
	AlwaysOverwrite
)

// Update is one change of an UpdateItem: a path and, for Set and Append,
// the item element that holds the new value (only the named property of
// Value is read). For extended properties Value.Extended holds it.
type Update struct {
	Op    UpdateOp
	Path  Path
	Value Item
	// Verbatim is the name of the element (as in [RawProperty]) when Path
	// names a property the caller keeps verbatim rather than one of the
	// model's (for example "t:StartTimeZone" for calendar:StartTimeZone):
	// set, it replaces the item's RawProperty of that name with Value's,
	// delete removes it.
	Verbatim string
}

// UpdateResult is what UpdateItem answers: the item after the changes and
// the number of conflicting properties (ConflictResults/Count).
type UpdateResult struct {
	Item      Item
	Conflicts int
}

// UpdateItem applies updates in order, all or none. changeKey is the
// client's ChangeKey: empty fails with [ErrChangeKeyRequired] (the
// documented rule for all three resolutions), malformed with
// [ErrInvalidChangeKey]. A stale key fails with [ErrIrresolvableConflict]
// under NeverOverwrite; under AutoResolve only when a property the request
// sets was changed since that key (else it merges); AlwaysOverwrite
// applies. Every successful update gives a new ChangeKey; one that
// touches only message:IsRead is logged as a read-flag change.
func (m *Mailbox) UpdateItem(id, changeKey string, cr ConflictResolution, ups []Update) (UpdateResult, error) {
	if len(ups) == 0 {
		return UpdateResult{}, errf(ErrInvalidRequest, "UpdateItem without updates")
	}
	if strings.TrimSpace(changeKey) == "" {
		return UpdateResult{}, errf(ErrChangeKeyRequired, "item %q", short(id))
	}
	m.lock()
	defer m.mu.Unlock()
	it, err := m.itemLocked(id)
	if err != nil {
		return UpdateResult{}, err
	}
	v, err := decodeChangeKey(KindItemID, changeKey)
	if err != nil {
		return UpdateResult{}, err
	}
	if v > it.ver {
		return UpdateResult{}, errf(ErrInvalidChangeKey, "change key %q is newer than the item", short(changeKey))
	}
	conflicts := 0
	if v < it.ver {
		for _, u := range ups {
			for _, fv := range it.fieldVer {
				if fv.path == u.Path.key() && fv.ver > v {
					conflicts++
				}
			}
		}
		switch {
		case cr == NeverOverwrite:
			return UpdateResult{}, errf(ErrIrresolvableConflict, "item %q changed since change key %q", short(id), short(changeKey))
		case cr == AutoResolve && conflicts > 0:
			return UpdateResult{}, errf(ErrIrresolvableConflict, "%d properties of item %q changed since change key %q", conflicts, short(id), short(changeKey))
		}
	}
	d := cloneItem(it.data)
	readOnly := true
	for _, u := range ups {
		if err := m.applyUpdate(it, &d, u); err != nil {
			return UpdateResult{}, err
		}
		if u.Path.Ext != nil || u.Path.Field != "message:IsRead" {
			readOnly = false
		}
	}
	if err := m.normalizeItem(&d); err != nil {
		return UpdateResult{}, err
	}
	size := computeSize(&d, it.atts)
	if size > m.store.opts.MaxItemSize {
		return UpdateResult{}, errf(ErrMessageSizeExceeded, "the item would have %d bytes, the limit is %d", size, m.store.opts.MaxItemSize)
	}
	if err := m.checkQuota(int64(size - it.size)); err != nil {
		return UpdateResult{}, err
	}
	wasRead := it.data.IsRead
	d.Modified = m.now()
	if readOnly {
		d.Modified = it.data.Modified
	}
	it.ver++
	m.replaceData(it, d, size)
	if wasRead != it.data.IsRead {
		if it.data.IsRead {
			it.folder.unread--
		} else {
			it.folder.unread++
		}
	}
	for _, u := range ups {
		it.setFieldVer(u.Path.key(), it.ver)
	}
	if readOnly {
		m.logLocked(entry{typ: ChangeReadFlag, num: it.num, parent: it.folder.num, isRead: it.data.IsRead})
	} else {
		m.logItemLocked(entry{typ: ChangeModified, num: it.num, parent: it.folder.num}, it)
	}
	return UpdateResult{Item: m.snapshot(it), Conflicts: conflicts}, nil
}

func (it *item) setFieldVer(p string, v uint32) {
	for i := range it.fieldVer {
		if it.fieldVer[i].path == p {
			it.fieldVer[i].ver = v
			return
		}
	}
	it.fieldVer = append(it.fieldVer, fieldVer{path: p, ver: v})
}

// replaceData swaps an item's data keeping the size accounting.
func (m *Mailbox) replaceData(it *item, d Item, size int) {
	it.folder.size += int64(size - it.size)
	m.bytes += int64(size - it.size)
	m.indexRemove(it)
	it.data, it.size = d, size
	it.rekey()
	m.indexAdd(it)
}

func (m *Mailbox) applyUpdate(it *item, d *Item, u Update) error {
	if u.Path.Ext != nil {
		k, err := u.Path.Ext.key()
		if err != nil {
			return err
		}
		if isComputedItemTag(k) {
			return errf(ErrInvalidPropertySet, "%s is computed by the server", u.Path)
		}
		switch u.Op {
		case DeleteField:
			if k == keywordsKey {
				d.Categories = nil
			}
			d.Extended = deleteExt(d.Extended, k)
			return nil
		case AppendField:
			return errf(ErrInvalidPropertyAppend, "%s", u.Path)
		}
		p, ok := findExtIn(u.Value.Extended, k)
		if !ok {
			return errf(ErrInvalidRequest, "SetItemField %s: the item element has no such extended property", u.Path)
		}
		np, err := p.normalize()
		if err != nil {
			return err
		}
		d.Extended = setExt(d.Extended, np)
		return nil
	}
	f := itemFields[u.Path.Field]
	if f == nil && u.Verbatim != "" {
		return applyVerbatim(d, u)
	}
	if f == nil {
		return errf(ErrInvalidPropertyRequest, "%s is not a property the model knows", u.Path)
	}
	if f.kinds&(1<<d.Kind) == 0 {
		return errf(ErrInvalidPropertyRequest, "%s is not a property of a %s", u.Path, d.Kind)
	}
	if len(f.indexes) > 0 != (u.Path.Index != "") || (u.Path.Index != "" && !oneOf(u.Path.Index, f.indexes)) {
		return errf(ErrInvalidPropertyRequest, "%s: FieldIndex must be one of %s", u.Path, strings.Join(f.indexes, ", "))
	}
	switch u.Op {
	case SetField:
		if f.set == nil {
			return errf(ErrInvalidPropertySet, "%s is read-only", u.Path)
		}
		return f.set(d, &u.Value, u.Path.Index)
	case AppendField:
		if f.app == nil {
			return errf(ErrInvalidPropertyAppend, "%s", u.Path)
		}
		return f.app(d, &u.Value)
	case DeleteField:
		if f.del == nil {
			return errf(ErrInvalidPropertyDelete, "%s", u.Path)
		}
		return f.del(d, u.Path.Index)
	}
	return errf(ErrInvalidRequest, "unknown update operation %d", u.Op)
}

// SetIsRead changes an item's read flag (a read-flag change in the log).
// It needs no change key, as the read flag is set by many clients blindly.
func (m *Mailbox) SetIsRead(id string, read bool) (Item, error) {
	m.lock()
	defer m.mu.Unlock()
	it, err := m.itemLocked(id)
	if err != nil {
		return Item{}, err
	}
	if it.data.IsRead == read {
		return m.snapshot(it), nil
	}
	it.data.IsRead = read
	if read {
		it.folder.unread--
	} else {
		it.folder.unread++
	}
	it.ver++
	it.setFieldVer(Field("message:IsRead").key(), it.ver)
	m.logLocked(entry{typ: ChangeReadFlag, num: it.num, parent: it.folder.num, isRead: read})
	return m.snapshot(it), nil
}

// moveItemLocked re-files it into to under a new number (a moved item
// gets a new ItemId). keepKey leaves the change key as it was (a move to
// Deleted Items).
func (m *Mailbox) moveItemLocked(it *item, to *folder, keepKey bool) *item {
	from := it.folder
	old := it.num
	m.removeItemLocked(it)
	it.num = m.newNum()
	if !keepKey {
		it.ver++
	}
	m.placeItemLocked(it, to)
	for _, a := range it.atts {
		m.attach[a.num] = it.num
	}
	m.logItemLocked(entry{typ: ChangeMoved, num: it.num, parent: to.num, oldNum: old, oldParent: from.num}, it)
	return it
}

// copyItemLocked stores a copy of it in to, with new ids for the item and
// its attachments; extended properties are copied too.
func (m *Mailbox) copyItemLocked(it *item, to *folder) *item {
	c := &item{num: m.newNum(), ver: 1, data: cloneItem(it.data)}
	c.data.Created = m.now()
	for _, a := range it.atts {
		na := a.clone()
		na.num = m.newNum()
		c.atts = append(c.atts, na)
		m.attach[na.num] = c.num
	}
	c.size = it.size
	m.placeItemLocked(c, to)
	m.logLocked(entry{typ: ChangeCopied, num: c.num, parent: to.num, oldNum: it.num, oldParent: it.folder.num})
	return c
}

// MoveItem moves an item to a folder and returns it under its new id; the
// old id is gone ([ErrItemNotFound]).
func (m *Mailbox) MoveItem(id, to string) (Item, error) {
	m.lock()
	defer m.mu.Unlock()
	it, err := m.itemLocked(id)
	if err != nil {
		return Item{}, err
	}
	f, err := m.folderLocked(to)
	if err != nil {
		return Item{}, err
	}
	return m.snapshot(m.moveItemLocked(it, f, f.dist == "deleteditems")), nil
}

// CopyItem copies an item to a folder and returns the copy.
func (m *Mailbox) CopyItem(id, to string) (Item, error) {
	m.lock()
	defer m.mu.Unlock()
	it, err := m.itemLocked(id)
	if err != nil {
		return Item{}, err
	}
	f, err := m.folderLocked(to)
	if err != nil {
		return Item{}, err
	}
	if err := m.checkQuota(int64(it.size)); err != nil {
		return Item{}, err
	}
	return m.snapshot(m.copyItemLocked(it, f)), nil
}

// DeleteItem deletes an item: HardDelete removes it; SoftDelete moves it
// to Recoverable Items\Deletions; MoveToDeletedItems moves it to Deleted
// Items (from there: to Deletions). Moves give the item a new id, which
// is returned ("" for a hard delete).
func (m *Mailbox) DeleteItem(id string, how DeleteType) (string, error) {
	m.lock()
	defer m.mu.Unlock()
	it, err := m.itemLocked(id)
	if err != nil {
		return "", err
	}
	del, dump := m.dist["deleteditems"], m.dist["recoverableitemsdeletions"]
	if how == MoveToDeletedItems && it.folder == del {
		how = SoftDelete
	}
	switch how {
	case HardDelete:
		f := it.folder
		m.removeItemLocked(it)
		m.logItemLocked(entry{typ: ChangeDeleted, num: it.num, parent: f.num}, it)
		return "", nil
	case SoftDelete:
		if it.folder == dump {
			return "", errf(ErrItemNotFound, "item %q is already soft-deleted", short(id))
		}
		return m.id(KindItemID, m.moveItemLocked(it, dump, true).num), nil
	case MoveToDeletedItems:
		return m.id(KindItemID, m.moveItemLocked(it, del, true).num), nil
	}
	return "", errf(ErrInvalidRequest, "unknown delete type %d", how)
}

// FieldKind is the item kind a FieldURI (such as "calendar:Start") belongs
// to; ok is false for item: and folder: ones, which no single kind owns.
func FieldKind(fieldURI string) (kind ItemKind, ok bool) {
	prefix, _, _ := strings.Cut(fieldURI, ":")
	switch prefix {
	case "message":
		return Message, true
	case "calendar":
		return CalendarItem, true
	case "contacts":
		return Contact, true
	case "task":
		return Task, true
	}
	return Message, false
}

// applyVerbatim applies an update of a property kept verbatim.
func applyVerbatim(d *Item, u Update) error {
	if k, ok := FieldKind(u.Path.Field); ok && k != d.Kind {
		return errf(ErrInvalidPropertyRequest, "%s is not a property of a %s", u.Path, d.Kind)
	}
	switch u.Op {
	case SetField:
		for _, r := range u.Value.Raw {
			if r.Name == u.Verbatim {
				d.Raw = append(withoutRaw(d.Raw, u.Verbatim), r)
				return nil
			}
		}
		return errf(ErrInvalidRequest, "SetItemField %s: the item element has no such property", u.Path)
	case DeleteField:
		d.Raw = withoutRaw(d.Raw, u.Verbatim)
		return nil
	}
	return errf(ErrInvalidPropertyAppend, "%s", u.Path)
}

// withoutRaw returns a new slice of raw without the properties named name.
func withoutRaw(raw []RawProperty, name string) []RawProperty {
	out := make([]RawProperty, 0, len(raw)+1)
	for _, r := range raw {
		if r.Name != name {
			out = append(out, r)
		}
	}
	return out
}
