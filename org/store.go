package org

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// Store errors. Errors returned by stores wrap them together with the
// organization ID, so use errors.Is.
var (
	// ErrNotFound: no organization has the ID.
	ErrNotFound = errors.New("org: organization not found")
	// ErrConflict: Update was given a Version that is no longer the stored
	// one (someone else saved in between). Get the organization again,
	// re-apply the change and retry; [Modify] does that.
	ErrConflict = errors.New("org: organization was changed by someone else")
	// ErrExists: Create was given an ID already in use.
	ErrExists = errors.New("org: organization ID already in use")
)

// Store keeps organizations. Implementations are safe for concurrent use,
// store and return deep copies (changing a returned Organization never
// changes stored state), and do not call Validate: validate before saving.
type Store interface {
	// Create stores a new organization and returns the stored copy with ID
	// (generated when empty), Version 1 and timestamps set. It fails with
	// ErrExists when the ID is taken.
	Create(ctx context.Context, o *Organization) (*Organization, error)
	// Get returns the organization, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (*Organization, error)
	// List returns all organizations sorted by ID. A store that cannot
	// read some of them returns the others together with an error naming
	// those it could not ([*ListError] for FileStore).
	List(ctx context.Context) ([]*Organization, error)
	// Update replaces the organization when o.Version equals the stored
	// version, and returns the stored copy with Version incremented and
	// UpdatedAt set. Otherwise it fails with an error wrapping ErrConflict
	// (or ErrNotFound) and changes nothing. CreatedAt is kept from the store.
	Update(ctx context.Context, o *Organization) (*Organization, error)
	// Delete removes the organization, or fails with ErrNotFound.
	Delete(ctx context.Context, id string) error
}

// MaxModifyAttempts bounds the conflict retries of [Modify] on stores that
// cannot apply a change under their own lock.
const MaxModifyAttempts = 50

// lockedModifier is implemented by stores that can run a read-modify-write
// under their own lock, so Modify never conflicts with itself.
type lockedModifier interface {
	modify(ctx context.Context, id string, change func(*Organization) error) (*Organization, error)
}

// Modify applies change to the stored organization id and saves it, so that
// concurrent changes made through Modify are never lost and never conflict:
// [MemoryStore] and [FileStore] run change while holding their lock (across
// processes for FileStore); other stores are retried on ErrConflict with
// jittered back-off, up to [MaxModifyAttempts] times. A plain Update holding
// an older version still fails with ErrConflict.
//
// change gets a private copy, which becomes the stored organization: it
// must not keep it (or maps and slices of it) after it returns. It should
// be quick (it may run under the store's lock) and a pure function of the
// organization it is given (it may run more than once). An error from change aborts without saving and is
// returned as is. Modify keeps the ID and Version; it returns the saved copy.
// A nil store or change is an error, not a panic.
func Modify(ctx context.Context, s Store, id string, change func(*Organization) error) (*Organization, error) {
	if isNilStore(s) {
		return nil, errors.New("org: Modify: store is nil; pass the store the organization was saved in (NewMemoryStore or OpenFileStore)")
	}
	if change == nil {
		return nil, errors.New("org: Modify: change is nil; pass a function that edits the organization")
	}
	guarded := func(o *Organization) error {
		version := o.Version
		if err := change(o); err != nil {
			return err
		}
		o.ID, o.Version = id, version
		return nil
	}
	if m, ok := s.(lockedModifier); ok {
		return m.modify(ctx, id, guarded)
	}
	var err error
	wait := time.Millisecond
	for attempt := range MaxModifyAttempts {
		if attempt > 0 {
			if err := sleepCtx(ctx, wait/2+mrand.N(wait)); err != nil {
				return nil, err
			}
			wait = min(2*wait, 100*time.Millisecond)
		}
		var o *Organization
		if o, err = s.Get(ctx, id); err != nil {
			return nil, err
		}
		if err := guarded(o); err != nil {
			return nil, err
		}
		var saved *Organization
		if saved, err = s.Update(ctx, o); err == nil {
			return saved, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("org: gave up after %d conflicting updates: %w", MaxModifyAttempts, err)
}

// isNilStore reports whether s is nil or one of our stores as a nil pointer
// (a typed nil inside the interface), which would panic on first use.
func isNilStore(s Store) bool {
	switch s := s.(type) {
	case nil:
		return true
	case *MemoryStore:
		return s == nil
	case *FileStore:
		return s == nil
	}
	return false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// NewID returns a random organization ID (32 hex digits).
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b[:])
}

func notFound(id string) error { return fmt.Errorf("%w: %q", ErrNotFound, id) }

func conflict(id string, stored, yours int64) error {
	return fmt.Errorf("%w: %q is at version %d, the change was made to version %d; reload it and apply the change again", ErrConflict, id, stored, yours)
}

// prepareCreate checks and completes an organization for Create.
func prepareCreate(o *Organization, now time.Time, fp func(EmailConfiguration) string) (*Organization, error) {
	if o == nil {
		return nil, errors.New("org: Create needs an organization, got nil")
	}
	c := o.Clone()
	if c.ID == "" {
		c.ID = NewID()
	}
	if err := checkID(c.ID); err != nil {
		return nil, err
	}
	c.Version = 1
	c.CreatedAt, c.UpdatedAt = now, now
	markRenewals(c, fp)
	return c, nil
}

// replaceIfCurrent is what Update saves: a copy of o (which its caller
// still holds), when the stored version is still the one o was read at.
func replaceIfCurrent(o *Organization) func(cur *Organization) (*Organization, error) {
	return func(cur *Organization) (*Organization, error) {
		if cur.Version != o.Version {
			return nil, conflict(o.ID, cur.Version, o.Version)
		}
		return o.Clone(), nil
	}
}

// applyChange is what Modify saves: change applied to a private copy of
// the stored organization.
func applyChange(change func(*Organization) error) func(cur *Organization) (*Organization, error) {
	return func(cur *Organization) (*Organization, error) {
		c := cur.Clone()
		if err := change(c); err != nil {
			return nil, err
		}
		return c, nil
	}
}

// stamp makes next, a copy of the store's own (replaceIfCurrent and
// applyChange make it), the organization that replaces cur: one version
// on, cur's creation time, updated now, users whose configuration changed
// marked NeedsRenewal ([markRenewals] with the store's fingerprint fp).
// Copying it once more would cost a copy of every user per save. A
// version that cannot be incremented (a record tampered with, since no
// store counts that far) is an error, not a wrap to negative.
func stamp(next, cur *Organization, now time.Time, fp func(EmailConfiguration) string) (*Organization, error) {
	if cur.Version >= math.MaxInt64 || cur.Version < 1 {
		return nil, fmt.Errorf("%w: %q has version %d, which cannot be incremented", ErrCorrupt, cur.ID, cur.Version)
	}
	c := next
	c.Version = cur.Version + 1
	c.CreatedAt = cur.CreatedAt
	c.UpdatedAt = now
	markRenewals(c, fp)
	return c, nil
}

func checkUpdateArg(o *Organization) error {
	if o == nil {
		return errors.New("org: Update needs an organization, got nil")
	}
	return checkID(o.ID)
}

// MemoryStore is a [Store] in memory, for tests and single-process tools
// that do not need persistence. [NewMemoryStore] makes one; the zero value
// works too.
type MemoryStore struct {
	mu   sync.Mutex
	orgs map[string]*Organization
	now  func() time.Time
	// fpKey keys the store's configuration fingerprints; made on first
	// use, so the zero MemoryStore has one too.
	fpKey func() hash.Hash
}

// NewMemoryStore returns an empty MemoryStore. The zero MemoryStore is
// usable too; a nil *MemoryStore returns errors, never panics.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{orgs: map[string]*Organization{}, now: utcNow}
}

func utcNow() time.Time { return time.Now().UTC().Round(0) }

// errNilStore is what the methods of a nil *MemoryStore or *FileStore
// return instead of panicking.
var errNilStore = errors.New("org: the store is nil or was not made by NewMemoryStore or OpenFileStore")

// clock is the store's time source; the zero MemoryStore uses UTC now.
func (m *MemoryStore) clock() time.Time {
	if m.now == nil {
		return utcNow()
	}
	return m.now()
}

var (
	_ Store         = (*MemoryStore)(nil)
	_ Fingerprinter = (*MemoryStore)(nil)
)

// ConfigFingerprint implements [Fingerprinter] with a random key made for
// this store, so fingerprints differ between MemoryStores.
func (m *MemoryStore) ConfigFingerprint(c EmailConfiguration) string {
	if m == nil {
		return c.Fingerprint()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fingerprintLocked(c)
}

// fingerprintLocked is ConfigFingerprint for callers holding mu.
func (m *MemoryStore) fingerprintLocked(c EmailConfiguration) string {
	if m.fpKey == nil {
		var key [32]byte
		rand.Read(key[:]) // never fails (crypto/rand documents it)
		m.fpKey = func() hash.Hash { return hmac.New(sha256.New, key[:]) }
	}
	return keyedFingerprint(m.fpKey, c)
}

// Create implements [Store].
func (m *MemoryStore) Create(ctx context.Context, o *Organization) (*Organization, error) {
	if m == nil {
		return nil, errNilStore
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := prepareCreate(o, m.clock(), m.fingerprintLocked)
	if err != nil {
		return nil, err
	}
	if m.orgs == nil { // the zero MemoryStore
		m.orgs = map[string]*Organization{}
	}
	if _, ok := m.orgs[c.ID]; ok {
		return nil, fmt.Errorf("%w: %q", ErrExists, c.ID)
	}
	m.orgs[c.ID] = c
	return c.Clone(), nil
}

// Get implements [Store].
func (m *MemoryStore) Get(ctx context.Context, id string) (*Organization, error) {
	if m == nil {
		return nil, errNilStore
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orgs[id]
	if !ok {
		return nil, notFound(id)
	}
	return o.Clone(), nil
}

// List implements [Store].
func (m *MemoryStore) List(ctx context.Context) ([]*Organization, error) {
	if m == nil {
		return nil, errNilStore
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Organization, 0, len(m.orgs))
	for _, o := range m.orgs {
		out = append(out, o.Clone())
	}
	slices.SortFunc(out, func(a, b *Organization) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Update implements [Store].
func (m *MemoryStore) Update(ctx context.Context, o *Organization) (*Organization, error) {
	if err := checkUpdateArg(o); err != nil {
		return nil, err
	}
	return m.save(ctx, o.ID, replaceIfCurrent(o))
}

func (m *MemoryStore) modify(ctx context.Context, id string, change func(*Organization) error) (*Organization, error) {
	return m.save(ctx, id, applyChange(change))
}

// save replaces the stored organization id with what next makes of it,
// under the store's lock, and stamps version and times.
func (m *MemoryStore) save(ctx context.Context, id string, next func(cur *Organization) (*Organization, error)) (*Organization, error) {
	if m == nil {
		return nil, errNilStore
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.orgs[id]
	if !ok {
		return nil, notFound(id)
	}
	n, err := next(cur)
	if err != nil {
		return nil, err
	}
	c, err := stamp(n, cur, m.clock(), m.fingerprintLocked)
	if err != nil {
		return nil, err
	}
	m.orgs[id] = c
	return c.Clone(), nil
}

// Delete implements [Store].
func (m *MemoryStore) Delete(ctx context.Context, id string) error {
	if m == nil {
		return errNilStore
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.orgs[id]; !ok {
		return notFound(id)
	}
	delete(m.orgs, id)
	return nil
}
