package mailbox

import "time"

// Attachment is a file or item attachment. For a file attachment Content
// holds the bytes; for an item attachment Item holds the attached item.
type Attachment struct {
	ID           string // set by the model
	Name         string
	ContentType  string
	ContentID    string
	IsInline     bool
	LastModified time.Time // set by the model
	Content      []byte
	Item         *Item
	// Nested are the attachments of Item (item attachments nest up to
	// ten levels).
	Nested []Attachment
}

// AttachmentInfo is an attachment without its content, as item snapshots
// list them.
type AttachmentInfo struct {
	ID           string
	Name         string
	ContentType  string
	ContentID    string
	IsInline     bool
	IsItem       bool
	Size         int
	LastModified time.Time
}

type attachment struct {
	num      uint64
	a        Attachment // ID empty
	modified time.Time
}

func (a *attachment) size() int { return attSize(&a.a) }

func (a *attachment) clone() *attachment {
	c := *a
	c.a = cloneAttachment(a.a)
	return &c
}

// maxNest is how deep item attachments may nest (Exchange 2010 SP2+).
const maxNest = 10

// nestDepth is how many item attachments are nested in a, a included.
func nestDepth(a *Attachment) int {
	if a.Item == nil {
		return 0
	}
	d := 0
	for i := range a.Nested {
		d = max(d, nestDepth(&a.Nested[i]))
	}
	return d + 1
}

func attSize(a *Attachment) int {
	n := 64 + len(a.Name) + len(a.Content)
	if a.Item != nil {
		n += computeSize(a.Item, nil)
	}
	for i := range a.Nested {
		n += attSize(&a.Nested[i])
	}
	return n
}

func cloneAttachment(a Attachment) Attachment {
	c := a
	c.Content = append([]byte(nil), a.Content...)
	if a.Item != nil {
		it := cloneItem(*a.Item)
		c.Item = &it
	}
	c.Nested = nil
	for _, n := range a.Nested {
		c.Nested = append(c.Nested, cloneAttachment(n))
	}
	return c
}

func (m *Mailbox) attachmentInfos(it *item) []AttachmentInfo {
	if len(it.atts) == 0 {
		return nil
	}
	out := make([]AttachmentInfo, len(it.atts))
	for i, a := range it.atts {
		out[i] = AttachmentInfo{ID: m.id(KindAttachmentID, a.num), Name: a.a.Name, ContentType: a.a.ContentType,
			ContentID: a.a.ContentID, IsInline: a.a.IsInline, IsItem: a.a.Item != nil, Size: a.size(), LastModified: a.modified}
	}
	return out
}

// AddAttachment attaches a file or an item to an item (CreateAttachment)
// and returns the attachment's id and the parent's new change key. An
// attachment over the store's MaxAttachmentSize fails with
// [ErrAttachmentSizeLimitExceeded], an item over MaxItemSize with
// [ErrMessageSizeExceeded]; a name is required. The parent's change key
// changes, as on Exchange.
func (m *Mailbox) AddAttachment(itemID string, a Attachment) (attID, newChangeKey string, err error) {
	if a.Name == "" {
		return "", "", errf(ErrInvalidRequest, "attachment:Name is required")
	}
	if a.Item != nil && len(a.Content) > 0 {
		return "", "", errf(ErrInvalidRequest, "an attachment is a file or an item, not both")
	}
	if a.Item == nil && len(a.Nested) > 0 {
		return "", "", errf(ErrInvalidRequest, "a file attachment cannot have nested attachments")
	}
	if d := nestDepth(&a); d > maxNest {
		return "", "", errf(ErrAttachmentNestLevelExceeded, "item attachments nest %d levels, at most %d are allowed", d, maxNest)
	}
	na := &attachment{a: cloneAttachment(a)}
	na.a.ID = ""
	if na.a.Item != nil {
		it := na.a.Item
		it.ID, it.ChangeKey, it.ParentFolderID = "", "", ""
		if err := m.normalizeItem(it); err != nil {
			return "", "", err
		}
	}
	if s := na.size(); s > m.store.opts.MaxAttachmentSize {
		return "", "", errf(ErrAttachmentSizeLimitExceeded, "attachment %q has %d bytes, the limit is %d", a.Name, s, m.store.opts.MaxAttachmentSize)
	}
	m.lock()
	defer m.mu.Unlock()
	it, err := m.itemLocked(itemID)
	if err != nil {
		return "", "", err
	}
	size := computeSize(&it.data, append(it.atts[:len(it.atts):len(it.atts)], na))
	if size > m.store.opts.MaxItemSize {
		return "", "", errf(ErrMessageSizeExceeded, "the item would have %d bytes, the limit is %d", size, m.store.opts.MaxItemSize)
	}
	if err := m.checkQuota(int64(size - it.size)); err != nil {
		return "", "", err
	}
	na.num = m.newNum()
	na.modified = m.now()
	it.atts = append(it.atts, na)
	m.attach[na.num] = it.num
	m.touchItem(it, size)
	return m.id(KindAttachmentID, na.num), encodeChangeKey(KindItemID, it.ver), nil
}

// touchItem records a change of an item other than through UpdateItem.
func (m *Mailbox) touchItem(it *item, size int) {
	it.folder.size += int64(size - it.size)
	m.bytes += int64(size - it.size)
	it.size = size
	it.ver++
	it.data.Modified = m.now()
	m.logLocked(entry{typ: ChangeModified, num: it.num, parent: it.folder.num})
}

func (m *Mailbox) attachmentLocked(id string) (*item, int, error) {
	info, err := m.decode(id, KindAttachmentID)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Code == ErrInvalidIDMalformed.Code {
			return nil, 0, errf(ErrInvalidAttachmentID, "%s", e.Detail)
		}
		return nil, 0, err
	}
	if it := m.items[m.attach[info.Num]]; it != nil {
		for i, a := range it.atts {
			if a.num == info.Num {
				return it, i, nil
			}
		}
	}
	return nil, 0, errf(ErrInvalidAttachmentID, "attachment %q", short(id))
}

// GetAttachment returns an attachment with its content, and the id of the
// item it is on.
func (m *Mailbox) GetAttachment(id string) (Attachment, string, error) {
	m.rlock()
	defer m.mu.RUnlock()
	it, i, err := m.attachmentLocked(id)
	if err != nil {
		return Attachment{}, "", err
	}
	a := it.atts[i].clone()
	a.a.ID = id
	a.a.LastModified = it.atts[i].modified
	return a.a, m.id(KindItemID, it.num), nil
}

// DeleteAttachment removes an attachment and returns the parent item's id
// and new change key (DeleteAttachment's RootItemId).
func (m *Mailbox) DeleteAttachment(id string) (rootID, rootChangeKey string, err error) {
	m.lock()
	defer m.mu.Unlock()
	it, i, err := m.attachmentLocked(id)
	if err != nil {
		return "", "", err
	}
	delete(m.attach, it.atts[i].num)
	it.atts = append(it.atts[:i:i], it.atts[i+1:]...)
	m.touchItem(it, computeSize(&it.data, it.atts))
	return m.id(KindItemID, it.num), encodeChangeKey(KindItemID, it.ver), nil
}
