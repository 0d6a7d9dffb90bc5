package mailbox

import (
	"sort"
	"strings"
	"time"
)

// FolderKind is the EWS element of a folder.
type FolderKind uint8

// Folder kinds. Search folders are not modelled.
const (
	GenericFolder  FolderKind = iota // t:Folder
	CalendarFolder                   // t:CalendarFolder, IPF.Appointment
	ContactsFolder                   // t:ContactsFolder, IPF.Contact
	TasksFolder                      // t:TasksFolder, IPF.Task
)

// String returns the EWS element name without prefix.
func (k FolderKind) String() string {
	switch k {
	case CalendarFolder:
		return "CalendarFolder"
	case ContactsFolder:
		return "ContactsFolder"
	case TasksFolder:
		return "TasksFolder"
	}
	return "Folder"
}

// impliedClass is the folder class a typed folder element stands for.
func (k FolderKind) impliedClass() string {
	switch k {
	case CalendarFolder:
		return "IPF.Appointment"
	case ContactsFolder:
		return "IPF.Contact"
	case TasksFolder:
		return "IPF.Task"
	}
	return ""
}

// kindOfClass is the element a folder of this class is written as.
func kindOfClass(class string) FolderKind {
	c := strings.ToLower(class)
	switch {
	case c == "ipf.appointment" || strings.HasPrefix(c, "ipf.appointment."):
		return CalendarFolder
	case c == "ipf.contact" || strings.HasPrefix(c, "ipf.contact."):
		return ContactsFolder
	case c == "ipf.task" || strings.HasPrefix(c, "ipf.task."):
		return TasksFolder
	}
	return GenericFolder
}

// DeleteType is how a folder or item is deleted.
type DeleteType uint8

// Delete types, as DeleteType of DeleteFolder / DeleteItem.
const (
	HardDelete         DeleteType = iota // gone for good
	SoftDelete                           // to Recoverable Items\Deletions
	MoveToDeletedItems                   // to Deleted Items; from there a soft delete
)

// Folder is a snapshot of a folder.
type Folder struct {
	ID, ChangeKey  string
	ParentID       string // "" for the root
	Distinguished  string // DistinguishedFolderId, "" for others
	Kind           FolderKind
	Class          string // FolderClass, "" for none
	DisplayName    string
	TotalCount     int
	UnreadCount    int
	ChildCount     int
	Created        time.Time
	Modified       time.Time
	Extended       []ExtendedProperty
	Raw            []RawProperty
	SoftDeleted    bool
	HasSubfolders  bool
	ContentSize    int64 // bytes of the items in it
	AssociatedSize int   // number of user configurations in it
}

// NewFolder describes a folder to create.
type NewFolder struct {
	Kind        FolderKind
	Class       string // only with GenericFolder; typed kinds imply theirs
	DisplayName string
	Extended    []ExtendedProperty
	Raw         []RawProperty
}

type folder struct {
	num         uint64
	parent      *folder
	children    []*folder
	kind        FolderKind
	class       string
	name        string
	dist        string
	ver         uint32
	items       map[uint64]*item
	unread      int
	size        int64
	created     time.Time
	modified    time.Time
	ext         []ExtendedProperty
	raw         []RawProperty
	softDeleted bool
	extIdx      map[extKey]folderIndex // see index.go
}

// distinguishedFolders is the standard tree every mailbox has, parents
// first.
var distinguishedFolders = [...]struct{ id, name, class, parent string }{
	{"root", "Root", "", ""},
	{"msgfolderroot", "Top of Information Store", "IPF.Note", "root"},
	{"inbox", "Inbox", "IPF.Note", "msgfolderroot"},
	{"drafts", "Drafts", "IPF.Note", "msgfolderroot"},
	{"sentitems", "Sent Items", "IPF.Note", "msgfolderroot"},
	{"deleteditems", "Deleted Items", "IPF.Note", "msgfolderroot"},
	{"outbox", "Outbox", "IPF.Note", "msgfolderroot"},
	{"junkemail", "Junk Email", "IPF.Note", "msgfolderroot"},
	{"calendar", "Calendar", "IPF.Appointment", "msgfolderroot"},
	{"contacts", "Contacts", "IPF.Contact", "msgfolderroot"},
	{"tasks", "Tasks", "IPF.Task", "msgfolderroot"},
	{"notes", "Notes", "IPF.StickyNote", "msgfolderroot"},
	{"journal", "Journal", "IPF.Journal", "msgfolderroot"},
	{"conversationhistory", "Conversation History", "IPF.Note", "msgfolderroot"},
	{"searchfolders", "Finder", "", "root"},
	{"recoverableitemsroot", "Recoverable Items", "", "root"},
	{"recoverableitemsdeletions", "Deletions", "", "recoverableitemsroot"},
	{"recoverableitemspurges", "Purges", "", "recoverableitemsroot"},
	{"recoverableitemsversions", "Versions", "", "recoverableitemsroot"},
}

// DistinguishedFolderNames lists the distinguished folders the model has.
func DistinguishedFolderNames() []string {
	out := make([]string, len(distinguishedFolders))
	for i, d := range distinguishedFolders {
		out[i] = d.id
	}
	return out
}

func (m *Mailbox) initLocked() {
	m.inited = true
	m.folders = map[uint64]*folder{}
	m.dist = map[string]*folder{}
	m.items = map[uint64]*item{}
	m.attach = map[uint64]uint64{}
	m.configs = map[configKey]*userConfig{}
	now := m.now()
	for _, d := range distinguishedFolders {
		f := &folder{num: m.newNum(), kind: kindOfClass(d.class), class: d.class, name: d.name, dist: d.id,
			ver: 1, items: map[uint64]*item{}, created: now, modified: now}
		if d.parent != "" {
			f.parent = m.dist[d.parent]
			f.parent.children = append(f.parent.children, f)
		}
		m.folders[f.num] = f
		m.dist[d.id] = f
	}
}

// folderLocked resolves a distinguished folder name or a folder id.
func (m *Mailbox) folderLocked(ref string) (*folder, error) {
	if f := m.dist[ref]; f != nil {
		return f, nil
	}
	if strings.TrimSpace(ref) == "" {
		return nil, errf(ErrInvalidIDEmpty, "folder id is empty")
	}
	info, err := DecodeID(ref)
	if err != nil {
		return nil, errf(ErrFolderNotFound, "folder %q is neither a distinguished folder nor an id (%v)", short(ref), err)
	}
	if info.Kind != KindFolderID {
		return nil, errf(ErrInvalidIDMalformed, "id %q is not a folder id", short(ref))
	}
	if info.Mailbox != m.idx {
		return nil, errf(ErrOtherMailbox, "folder %q belongs to another mailbox", short(ref))
	}
	f := m.folders[info.Num]
	if f == nil {
		return nil, errf(ErrFolderNotFound, "folder %q", short(ref))
	}
	return f, nil
}

func (m *Mailbox) folderSnapshot(f *folder) Folder {
	out := Folder{
		ID: m.id(KindFolderID, f.num), ChangeKey: encodeChangeKey(KindFolderID, f.ver),
		Distinguished: f.dist, Kind: f.kind, Class: f.class, DisplayName: f.name,
		TotalCount: len(f.items), UnreadCount: f.unread, Created: f.created, Modified: f.modified,
		Extended: cloneExt(f.ext), Raw: append([]RawProperty(nil), f.raw...), SoftDeleted: f.softDeleted,
		ContentSize: f.size,
	}
	if f.parent != nil {
		out.ParentID = m.id(KindFolderID, f.parent.num)
	}
	for _, c := range f.children {
		if !c.softDeleted {
			out.ChildCount++
		}
	}
	out.HasSubfolders = out.ChildCount > 0
	for k := range m.configs {
		if k.folder == f.num {
			out.AssociatedSize++
		}
	}
	return out
}

// FolderID returns the id of a distinguished folder or checks an id.
func (m *Mailbox) FolderID(ref string) (string, error) {
	m.rlock()
	defer m.mu.RUnlock()
	f, err := m.folderLocked(ref)
	if err != nil {
		return "", err
	}
	return m.id(KindFolderID, f.num), nil
}

// GetFolder returns a folder by distinguished name or id.
func (m *Mailbox) GetFolder(ref string) (Folder, error) {
	m.rlock()
	defer m.mu.RUnlock()
	f, err := m.folderLocked(ref)
	if err != nil {
		return Folder{}, err
	}
	return m.folderSnapshot(f), nil
}

// Traversal is how FindFolder descends.
type Traversal uint8

// Traversals.
const (
	Shallow     Traversal = iota // direct children
	Deep                         // the whole subtree, depth first
	SoftDeleted                  // soft-deleted direct children
)

// FindFolders lists the child folders of a folder in creation order.
func (m *Mailbox) FindFolders(ref string, t Traversal) ([]Folder, error) {
	m.rlock()
	defer m.mu.RUnlock()
	f, err := m.folderLocked(ref)
	if err != nil {
		return nil, err
	}
	var out []Folder
	var walk func(f *folder)
	walk = func(f *folder) {
		for _, c := range f.children {
			switch {
			case t == SoftDeleted && c.softDeleted:
				out = append(out, m.folderSnapshot(c))
			case t != SoftDeleted && !c.softDeleted:
				out = append(out, m.folderSnapshot(c))
				if t == Deep {
					walk(c)
				}
			}
		}
	}
	walk(f)
	return out, nil
}

// siblingNamed finds a visible child of parent with name (Exchange
// compares folder names case-insensitively).
func siblingNamed(parent *folder, name string, except *folder) *folder {
	for _, c := range parent.children {
		if c != except && !c.softDeleted && strings.EqualFold(c.name, name) {
			return c
		}
	}
	return nil
}

func validFolderName(name string) error {
	if strings.TrimSpace(name) == "" {
		return errf(ErrInvalidValueForProperty, "folder:DisplayName must not be empty")
	}
	if len(name) > 255 {
		return errf(ErrInvalidValueForProperty, "folder:DisplayName is longer than 255 characters")
	}
	return nil
}

// CreateFolder creates a folder under parent. A second folder of the same
// name (case-insensitive) under one parent fails with [ErrFolderExists];
// a class on a typed folder with [ErrNoFolderClassOverride].
func (m *Mailbox) CreateFolder(parent string, nf NewFolder) (Folder, error) {
	if err := validFolderName(nf.DisplayName); err != nil {
		return Folder{}, err
	}
	class := nf.Class
	if nf.Kind != GenericFolder {
		if class != "" && !strings.EqualFold(class, nf.Kind.impliedClass()) {
			return Folder{}, errf(ErrNoFolderClassOverride, "a %s cannot have FolderClass %q", nf.Kind, class)
		}
		class = nf.Kind.impliedClass()
	}
	ext, err := normalizeExtList(nf.Extended)
	if err != nil {
		return Folder{}, err
	}
	m.lock()
	defer m.mu.Unlock()
	p, err := m.folderLocked(parent)
	if err != nil {
		return Folder{}, err
	}
	if siblingNamed(p, nf.DisplayName, nil) != nil {
		return Folder{}, errf(ErrFolderExists, "a folder named %q exists under %q", nf.DisplayName, p.name)
	}
	now := m.now()
	kind := nf.Kind
	if kind == GenericFolder {
		kind = GenericFolder // a t:Folder stays a t:Folder whatever its class
	}
	f := &folder{num: m.newNum(), parent: p, kind: kind, class: class, name: nf.DisplayName, ver: 1,
		items: map[uint64]*item{}, created: now, modified: now, ext: ext, raw: cloneRaw(nf.Raw)}
	p.children = append(p.children, f)
	m.folders[f.num] = f
	m.logLocked(entry{typ: ChangeCreated, folder: true, num: f.num, parent: p.num})
	return m.folderSnapshot(f), nil
}

// checkFolderKey checks an optional change key of a folder: empty is
// accepted (decision, see doc.go), malformed is [ErrInvalidChangeKey],
// stale is [ErrIrresolvableConflict].
func checkFolderKey(f *folder, ck string) error {
	if ck == "" {
		return nil
	}
	v, err := decodeChangeKey(KindFolderID, ck)
	if err != nil {
		return err
	}
	if v != f.ver {
		return errf(ErrIrresolvableConflict, "folder %q changed since change key %q", f.name, ck)
	}
	return nil
}

// touchFolder records a modification of f's own properties.
func (m *Mailbox) touchFolder(f *folder) {
	f.ver++
	f.modified = m.now()
}

// RenameFolder changes a folder's display name.
func (m *Mailbox) RenameFolder(ref, changeKey, name string) (Folder, error) {
	return m.UpdateFolder(ref, changeKey, []FolderUpdate{{Op: SetField, Path: Field("folder:DisplayName"), Value: Folder{DisplayName: name}}})
}

// FolderUpdate is one change of UpdateFolder.
type FolderUpdate struct {
	Op    UpdateOp
	Path  Path
	Value Folder // the folder element holding the property (Set/Append)
}

// UpdateFolder applies changes in order: folder:DisplayName (set),
// folder:FolderClass (set, generic folders only) and extended properties
// (set, delete). Everything else is refused naming the path.
func (m *Mailbox) UpdateFolder(ref, changeKey string, ups []FolderUpdate) (Folder, error) {
	m.lock()
	defer m.mu.Unlock()
	f, err := m.folderLocked(ref)
	if err != nil {
		return Folder{}, err
	}
	if err := checkFolderKey(f, changeKey); err != nil {
		return Folder{}, err
	}
	name, class, ext := f.name, f.class, cloneExt(f.ext)
	for _, u := range ups {
		switch {
		case u.Path.Ext != nil:
			k, err := u.Path.Ext.key()
			if err != nil {
				return Folder{}, err
			}
			switch u.Op {
			case DeleteField:
				ext = deleteExt(ext, k)
			case SetField:
				p, ok := findExtIn(u.Value.Extended, k)
				if !ok {
					return Folder{}, errf(ErrInvalidRequest, "SetFolderField %s: the folder element has no such extended property", u.Path)
				}
				if isComputedFolderTag(k) {
					return Folder{}, errf(ErrInvalidPropertySet, "%s is computed by the server", u.Path)
				}
				np, err := p.normalize()
				if err != nil {
					return Folder{}, err
				}
				ext = setExt(ext, np)
			default:
				return Folder{}, errf(ErrInvalidPropertyAppend, "%s", u.Path)
			}
		case u.Path.Field == "folder:DisplayName":
			if u.Op != SetField {
				return Folder{}, errf(map[UpdateOp]*Error{AppendField: ErrInvalidPropertyAppend, DeleteField: ErrInvalidPropertyDelete}[u.Op], "%s", u.Path)
			}
			if err := validFolderName(u.Value.DisplayName); err != nil {
				return Folder{}, err
			}
			if f.dist != "" {
				return Folder{}, errf(ErrInvalidOperation, "distinguished folder %q cannot be renamed", f.dist)
			}
			name = u.Value.DisplayName
		case u.Path.Field == "folder:FolderClass":
			if u.Op != SetField {
				return Folder{}, errf(ErrInvalidPropertyDelete, "%s", u.Path)
			}
			if f.kind != GenericFolder {
				return Folder{}, errf(ErrNoFolderClassOverride, "a %s cannot have FolderClass %q", f.kind, u.Value.Class)
			}
			class = u.Value.Class
		case strings.HasPrefix(u.Path.Field, "folder:"):
			return Folder{}, errf(ErrInvalidPropertySet, "%s cannot be changed", u.Path)
		default:
			return Folder{}, errf(ErrInvalidPropertyRequest, "%s is not a folder property", u.Path)
		}
	}
	if f.parent != nil && !strings.EqualFold(name, f.name) && siblingNamed(f.parent, name, f) != nil {
		return Folder{}, errf(ErrFolderExists, "a folder named %q exists under %q", name, f.parent.name)
	}
	f.name, f.class, f.ext = name, class, ext
	m.touchFolder(f)
	m.logLocked(entry{typ: ChangeModified, folder: true, num: f.num, parent: f.parent.num})
	return m.folderSnapshot(f), nil
}

func (f *folder) isUnder(anc *folder) bool {
	for p := f; p != nil; p = p.parent {
		if p == anc {
			return true
		}
	}
	return false
}

func (f *folder) detach() {
	p := f.parent
	for i, c := range p.children {
		if c == f {
			p.children = append(p.children[:i:i], p.children[i+1:]...)
			break
		}
	}
	f.parent = nil
}

// moveFolderLocked re-parents f; names are checked unless the target is a
// place deleted folders go.
func (m *Mailbox) moveFolderLocked(f, to *folder, checkName bool) error {
	if f.dist != "" {
		return errf(ErrMoveDistinguished, "%q is a distinguished folder", f.dist)
	}
	if to.isUnder(f) {
		return errf(ErrMoveCopyFailed, "cannot move %q into its own subtree", f.name)
	}
	if checkName && siblingNamed(to, f.name, f) != nil {
		return errf(ErrFolderExists, "a folder named %q exists under %q", f.name, to.name)
	}
	old := f.parent
	f.detach()
	f.parent = to
	to.children = append(to.children, f)
	m.touchFolder(f)
	m.logLocked(entry{typ: ChangeMoved, folder: true, num: f.num, parent: to.num, oldNum: f.num, oldParent: old.num})
	return nil
}

// MoveFolder moves a folder under another; it keeps its id (Exchange's
// folder ids survive moves) and gets a new change key.
func (m *Mailbox) MoveFolder(ref, to string) (Folder, error) {
	m.lock()
	defer m.mu.Unlock()
	f, err := m.folderLocked(ref)
	if err != nil {
		return Folder{}, err
	}
	t, err := m.folderLocked(to)
	if err != nil {
		return Folder{}, err
	}
	if err := m.moveFolderLocked(f, t, true); err != nil {
		return Folder{}, err
	}
	return m.folderSnapshot(f), nil
}

// CopyFolder copies a folder with its subfolders and items under another;
// every copy has a new id.
func (m *Mailbox) CopyFolder(ref, to string) (Folder, error) {
	m.lock()
	defer m.mu.Unlock()
	f, err := m.folderLocked(ref)
	if err != nil {
		return Folder{}, err
	}
	t, err := m.folderLocked(to)
	if err != nil {
		return Folder{}, err
	}
	if f.dist == "root" || t.isUnder(f) {
		return Folder{}, errf(ErrMoveCopyFailed, "cannot copy %q into its own subtree", f.name)
	}
	if siblingNamed(t, f.name, nil) != nil {
		return Folder{}, errf(ErrFolderExists, "a folder named %q exists under %q", f.name, t.name)
	}
	c := m.copyTreeLocked(f, t, true)
	return m.folderSnapshot(c), nil
}

func (m *Mailbox) copyTreeLocked(f, to *folder, top bool) *folder {
	now := m.now()
	c := &folder{num: m.newNum(), parent: to, kind: f.kind, class: f.class, name: f.name, ver: 1,
		items: map[uint64]*item{}, created: now, modified: now, ext: cloneExt(f.ext), raw: cloneRaw(f.raw)}
	to.children = append(to.children, c)
	m.folders[c.num] = c
	if top {
		m.logLocked(entry{typ: ChangeCopied, folder: true, num: c.num, parent: to.num, oldNum: f.num, oldParent: f.parent.num})
	} else {
		m.logLocked(entry{typ: ChangeCreated, folder: true, num: c.num, parent: to.num})
	}
	for _, it := range sortedItems(f) {
		m.copyItemLocked(it, c)
	}
	for _, sub := range append([]*folder(nil), f.children...) {
		if !sub.softDeleted {
			m.copyTreeLocked(sub, c, false)
		}
	}
	return c
}

// DeleteFolder deletes a folder and its subtree. Distinguished folders
// fail with [ErrDeleteDistinguished]. HardDelete removes it; SoftDelete
// hides it (FindFolders with SoftDeleted lists it); MoveToDeletedItems
// moves it under Deleted Items, or soft-deletes it when it is already
// there.
func (m *Mailbox) DeleteFolder(ref string, how DeleteType) error {
	m.lock()
	defer m.mu.Unlock()
	f, err := m.folderLocked(ref)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Code == ErrFolderNotFound.Code {
			// DeleteFolder answers ErrorItemNotFound (docs example).
			return errf(ErrItemNotFound, "%s", e.Detail)
		}
		return err
	}
	if f.dist != "" {
		return errf(ErrDeleteDistinguished, "%q is a distinguished folder", f.dist)
	}
	del := m.dist["deleteditems"]
	if how == MoveToDeletedItems && f.isUnder(del) {
		how = SoftDelete
	}
	switch how {
	case MoveToDeletedItems:
		return m.moveFolderLocked(f, del, false)
	case SoftDelete:
		if f.softDeleted {
			return errf(ErrItemNotFound, "folder %q is already soft-deleted", f.name)
		}
		f.softDeleted = true
		m.touchFolder(f)
		m.logLocked(entry{typ: ChangeDeleted, folder: true, num: f.num, parent: f.parent.num})
		return nil
	case HardDelete:
		parent := f.parent
		f.detach()
		m.purgeTreeLocked(f, parent)
		return nil
	}
	return errf(ErrInvalidRequest, "unknown delete type %d", how)
}

// purgeTreeLocked forgets a detached subtree, logging deletes children
// first.
func (m *Mailbox) purgeTreeLocked(f, parent *folder) {
	for _, c := range f.children {
		m.purgeTreeLocked(c, f)
	}
	for _, it := range sortedItems(f) {
		m.removeItemLocked(it)
		m.logLocked(entry{typ: ChangeDeleted, num: it.num, parent: f.num})
	}
	for k := range m.configs {
		if k.folder == f.num {
			delete(m.configs, k)
		}
	}
	delete(m.folders, f.num)
	m.logLocked(entry{typ: ChangeDeleted, folder: true, num: f.num, parent: parent.num})
}

// sortedItems returns a folder's items oldest first.
func sortedItems(f *folder) []*item {
	out := make([]*item, 0, len(f.items))
	for _, it := range f.items {
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].num < out[j].num })
	return out
}
