package mailbox

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Options configure a [Store]. The zero Options are valid.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxAttachmentSize is the largest attachment in bytes; 0 means
	// [DefaultMaxAttachmentSize].
	MaxAttachmentSize int
	// MaxItemSize is the largest item (body, MIME and attachments) in
	// bytes; 0 means [DefaultMaxItemSize].
	MaxItemSize int
	// QuotaBytes, when positive, is each mailbox's storage quota: a write
	// that would take a mailbox past it fails with [ErrQuotaExceeded].
	QuotaBytes int64
}

// Exchange Online's default message size limits (MaxSendSize 35 MB,
// MaxReceiveSize 36 MB; FACTS-SYNC §6). An attachment cannot be larger
// than the message that carries it.
const (
	DefaultMaxAttachmentSize = 35 << 20
	DefaultMaxItemSize       = 36 << 20
)

// Store is a directory of mailboxes. Mailboxes are created on first use
// and hold no folders until first touched, so a store of 10,000 mailboxes
// is cheap. A Store is safe for concurrent use; each mailbox has its own
// lock.
type Store struct {
	opts Options

	mu      sync.RWMutex
	byKey   map[string]*Mailbox
	byIndex []*Mailbox
}

// NewStore returns an empty store.
func NewStore(opts Options) (*Store, error) {
	if opts.MaxAttachmentSize < 0 || opts.MaxItemSize < 0 || opts.QuotaBytes < 0 {
		return nil, fmt.Errorf("mailbox: NewStore: size limits must not be negative")
	}
	if opts.MaxAttachmentSize == 0 {
		opts.MaxAttachmentSize = DefaultMaxAttachmentSize
	}
	if opts.MaxItemSize == 0 {
		opts.MaxItemSize = DefaultMaxItemSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{opts: opts, byKey: map[string]*Mailbox{}}, nil
}

// Mailbox returns the mailbox with the given key (its primary SMTP
// address; compared case-insensitively), creating it on first use.
func (s *Store) Mailbox(key string) *Mailbox {
	k := strings.ToLower(strings.TrimSpace(key))
	s.mu.RLock()
	m := s.byKey[k]
	s.mu.RUnlock()
	if m != nil {
		return m
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m = s.byKey[k]; m != nil {
		return m
	}
	m = &Mailbox{store: s, key: k, idx: uint32(len(s.byIndex))}
	s.byKey[k] = m
	s.byIndex = append(s.byIndex, m)
	return m
}

// Lookup returns the mailbox with the given key, or nil when it was never
// created.
func (s *Store) Lookup(key string) *Mailbox {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byKey[strings.ToLower(strings.TrimSpace(key))]
}

// Resolve returns the mailbox an id belongs to, so a request naming an id
// of another mailbox can be routed (or refused) before it reaches a
// mailbox method.
func (s *Store) Resolve(id string) (*Mailbox, IDInfo, error) {
	info, err := DecodeID(id)
	if err != nil {
		return nil, IDInfo{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if int(info.Mailbox) >= len(s.byIndex) {
		return nil, IDInfo{}, errf(ErrItemNotFound, "id %q names no mailbox of this store", short(id))
	}
	return s.byIndex[info.Mailbox], info, nil
}

// Len returns the number of mailboxes.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byIndex)
}

// Mailbox is one mailbox: its folder tree, items, user configurations and
// change log. It is safe for concurrent use.
type Mailbox struct {
	store *Store
	key   string
	idx   uint32

	mu      sync.RWMutex
	idxMu   sync.Mutex // extended property indexes built under a read lock
	inited  bool
	next    uint64 // last object number handed out
	folders map[uint64]*folder
	dist    map[string]*folder
	items   map[uint64]*item
	attach  map[uint64]uint64 // attachment number -> item number
	configs map[configKey]*userConfig
	bytes   int64 // stored size, for the quota

	log  []entry
	seq  uint64
	subs map[uint64]chan struct{}
	nsub uint64
}

// Key returns the mailbox's key (its lower-cased primary address).
func (m *Mailbox) Key() string { return m.key }

// Index returns the mailbox's number in its store, which ids encode.
func (m *Mailbox) Index() uint32 { return m.idx }

func (m *Mailbox) now() time.Time { return m.store.opts.Now().UTC() }

// lock takes the write lock and makes sure the standard folders exist.
func (m *Mailbox) lock() {
	m.mu.Lock()
	if !m.inited {
		m.initLocked()
	}
}

// rlock takes the read lock; a mailbox never touched is initialised
// first under the write lock.
func (m *Mailbox) rlock() {
	m.mu.RLock()
	if m.inited {
		return
	}
	m.mu.RUnlock()
	m.mu.Lock()
	if !m.inited {
		m.initLocked()
	}
	m.mu.Unlock()
	m.mu.RLock()
}

func (m *Mailbox) newNum() uint64 {
	m.next++
	return m.next
}

// id returns the id of an object of this mailbox.
func (m *Mailbox) id(kind IDKind, num uint64) string {
	return EncodeID(IDInfo{Kind: kind, Mailbox: m.idx, Num: num})
}

// decode parses an id of the given kind and checks it belongs here.
func (m *Mailbox) decode(id string, kinds ...IDKind) (IDInfo, error) {
	info, err := DecodeID(id)
	if err != nil {
		return info, err
	}
	ok := false
	for _, k := range kinds {
		ok = ok || info.Kind == k
	}
	if !ok {
		return info, errf(ErrInvalidIDMalformed, "id %q is a %c id, not the kind this call takes", short(id), info.Kind)
	}
	if info.Mailbox != m.idx {
		return info, errf(ErrOtherMailbox, "id %q belongs to another mailbox", short(id))
	}
	return info, nil
}
