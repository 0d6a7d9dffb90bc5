package org

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File store errors.
var (
	// ErrWrongKey: the store directory was created with a different key.
	// Nothing was changed.
	ErrWrongKey = errors.New("org: the key does not open this store")
	// ErrCorrupt: a stored file cannot be read back (damaged, changed
	// outside the store, or not written by this package with this key).
	ErrCorrupt = errors.New("org: stored organization is damaged")
	// ErrInsecureDir: the store directory can be written by other users,
	// who could plant, replace or delete organizations. OpenFileStore
	// refuses it rather than changing its mode behind the admin's back.
	ErrInsecureDir = errors.New("org: the store directory is writable by other users")

	errNoFlock = errors.New("org: the file store needs flock, which this operating system lacks; use another Store")
)

const (
	// storeFormat 2 authenticates every record; a store of format 1 is
	// upgraded by OpenFileStore.
	storeFormat   = "scc-org-store/2"
	storeFormatV1 = "scc-org-store/1"
	orgFormat     = "scc-org/2"
	orgFormatV1   = "scc-org/1"
	metaFile      = "scc-store.json"
	lockFile      = ".lock"
	orgPrefix     = "org-"
	orgSuffix     = ".json"
	tmpPrefix     = ".tmp-"
	sealedPrefix  = "aes256gcm:"
	keyCheckText  = "scc org store key check"
)

// FileStoreOptions configures [OpenFileStore].
type FileStoreOptions struct {
	// Key encrypts the secrets (passwords, client secrets, private keys) at
	// rest with AES-256-GCM. Make it with [NewFileStoreKey] and keep it
	// outside the store directory ([FileStoreKey.Encode],
	// [ParseFileStoreKey]). Required.
	Key FileStoreKey
}

// FileStore is the durable [Store]: one JSON file per organization in a
// directory, secrets encrypted with AES-256-GCM, every file authenticated
// with an HMAC-SHA256 under a key derived from the store key (a file edited
// outside the store, or holding parts of another, is [ErrCorrupt]; a file
// replaced by an older version of itself is not detected). The directory
// must not be writable by other users ([ErrInsecureDir]).
//
// Writes are atomic (temporary file in the same directory, fsync, rename,
// directory fsync), so a crash leaves either the old or the new version,
// never a mix. Every read-modify-write holds an exclusive flock on the
// directory's lock file, so several processes may share one directory;
// reads take no lock. One file per organization keeps an update's cost
// proportional to that organization alone.
//
// A FileStore is safe for concurrent use.
type FileStore struct {
	dir  string
	aead cipher.AEAD
	// recordMAC and fpMAC make HMACs under keys derived from the store key;
	// the keys live only in these closures.
	recordMAC func() hash.Hash
	fpMAC     func() hash.Hash
	sem       chan struct{} // in-process writer exclusion, before the flock
	now       func() time.Time
}

var (
	_ Store         = (*FileStore)(nil)
	_ Fingerprinter = (*FileStore)(nil)
)

// ConfigFingerprint implements [Fingerprinter]: an HMAC-SHA256 under a key
// derived from the store's key, so a fingerprint read from a stored record
// cannot be used to test password guesses without that key.
func (s *FileStore) ConfigFingerprint(c EmailConfiguration) string {
	if s == nil || s.fpMAC == nil {
		return c.Fingerprint()
	}
	return keyedFingerprint(s.fpMAC, c)
}

// derivedMAC returns a maker of HMAC-SHA256 under the key derived from key
// for purpose.
func derivedMAC(key []byte, purpose string) func() hash.Hash {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	derived := m.Sum(nil)
	return func() hash.Hash { return hmac.New(sha256.New, derived) }
}

type storeMeta struct {
	Format   string `json:"format"`
	KeyCheck string `json:"keyCheck"`
}

// OpenFileStore opens (creating when needed) the store in dir. A store is
// bound to the key it was created with: opening it with another key fails
// with [ErrWrongKey] and changes nothing.
func OpenFileStore(dir string, opts FileStoreOptions) (*FileStore, error) {
	if !flockSupported {
		return nil, errNoFlock
	}
	if opts.Key.IsZero() {
		return nil, errors.New("org: FileStoreOptions.Key is empty; make a key with org.NewFileStoreKey, keep it outside the store, and read it back with org.ParseFileStoreKey")
	}
	if dir == "" {
		return nil, errors.New("org: OpenFileStore needs a directory")
	}
	block, err := aes.NewCipher(opts.Key.bytes())
	if err != nil {
		return nil, fmt.Errorf("org: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("org: %w", err)
	}
	key := opts.Key.bytes()
	s := &FileStore{dir: dir, aead: aead, sem: make(chan struct{}, 1), now: utcNow,
		recordMAC: derivedMAC(key, "scc/org/record-mac/v1"),
		fpMAC:     derivedMAC(key, "scc/org/fingerprint/v2"),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("org: create store directory: %w", err)
	}
	if err := checkDirMode(dir); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(filepath.Join(dir, lockFile)); err == nil && fi.Mode()&fs.ModeType != 0 {
		return nil, fmt.Errorf("org: the store's lock file %s is not a regular file (a symbolic link?); remove it", filepath.Join(dir, lockFile))
	}
	if err := s.checkOrCreateMeta(); err != nil {
		return nil, err
	}
	// Remove temporary files left by a crashed writer; only safe while no
	// writer is active, so skip when the lock is busy.
	if unlock, ok := tryLockDir(filepath.Join(dir, lockFile)); ok {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tmpPrefix) {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
		unlock()
	}
	return s, nil
}

// String returns "org.FileStore(dir)": a store never prints its keys.
func (s *FileStore) String() string {
	if s == nil {
		return "org.FileStore(nil)"
	}
	return "org.FileStore(" + s.dir + ")"
}

// Format implements [fmt.Formatter]: every verb prints [FileStore.String],
// so no key material is ever formatted.
func (s *FileStore) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s.String(), s.String()) }

// Dir returns the store's directory.
func (s *FileStore) Dir() string { return s.dir }

func (s *FileStore) checkOrCreateMeta() error {
	path := filepath.Join(s.dir, metaFile)
	for range 2 {
		data, err := os.ReadFile(path)
		if err == nil {
			return s.checkMeta(data)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("org: read %s: %w", path, err)
		}
		// A directory holding organizations but no key check was not set up
		// by this package (or lost a file): refuse rather than bind it to a
		// key that may be wrong.
		if entries, err := os.ReadDir(s.dir); err == nil {
			for _, e := range entries {
				if isOrgFile(e.Name()) {
					return fmt.Errorf("%w: %s holds organizations but no %s; restore that file from a backup", ErrCorrupt, s.dir, metaFile)
				}
			}
		}
		// Create without overwriting: write a temporary file, then link it
		// into place, which fails when another process got there first.
		err = s.writeMeta(path, false)
		if err == nil {
			return nil
		}
		// ErrExist: another process created it first. ErrNotExist: another
		// process created it and, opening, swept our temporary file. Either
		// way, read theirs.
		if !errors.Is(err, fs.ErrExist) && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("org: create %s: %w", path, err)
		}
	}
	return fmt.Errorf("org: could not create %s", path)
}

func (s *FileStore) checkMeta(data []byte) error {
	var m storeMeta
	if err := json.Unmarshal(data, &m); err != nil || (m.Format != storeFormat && m.Format != storeFormatV1) {
		return fmt.Errorf("%w: %s is not a store file of this version", ErrCorrupt, filepath.Join(s.dir, metaFile))
	}
	plain, err := s.open(m.KeyCheck, []byte(m.Format+"\x00key-check"))
	if err != nil || string(plain) != keyCheckText {
		return fmt.Errorf("%w in %s: it was created with a different key; open it with that key", ErrWrongKey, s.dir)
	}
	if m.Format == storeFormatV1 {
		return s.upgradeV1()
	}
	return nil
}

// upgradeV1 rewrites every organization of a format 1 store (whose records
// were not authenticated) as an authenticated record, then marks the store
// as format 2, holding the lock. A crash part-way leaves the store at
// format 1 with some records rewritten; the next open finishes the job.
// The key was checked before.
func (s *FileStore) upgradeV1() error {
	return s.locked(context.Background(), func() error {
		var m storeMeta
		if data, err := os.ReadFile(filepath.Join(s.dir, metaFile)); err == nil && json.Unmarshal(data, &m) == nil && m.Format == storeFormat {
			return nil // another process upgraded it meanwhile
		}
		entries, err := os.ReadDir(s.dir)
		if err != nil {
			return fmt.Errorf("org: %w", err)
		}
		for _, e := range entries {
			id, ok := orgIDFromFile(e.Name())
			if !ok || checkID(id) != nil {
				continue
			}
			data, err := os.ReadFile(s.path(id))
			if err != nil {
				return fmt.Errorf("org: upgrade organization %q: %w", id, err)
			}
			o, err := s.decodeOrgFile(data, id, true)
			if err != nil {
				return fmt.Errorf("org: upgrade of the store %s stopped: %w", s.dir, err)
			}
			markRenewals(o, s.ConfigFingerprint)
			if err := s.commit(o); err != nil {
				return err
			}
		}
		return s.writeMeta(filepath.Join(s.dir, metaFile), true)
	})
}

// writeMeta writes the store file of the current format; replace says
// whether an existing one is replaced (upgrade) or must not exist (create:
// it is linked into place, which fails when another process got there
// first, with an error matching fs.ErrExist).
func (s *FileStore) writeMeta(path string, replace bool) error {
	sealed, err := s.seal([]byte(keyCheckText), []byte(storeFormat+"\x00key-check"))
	if err != nil {
		return err
	}
	data, err := json.Marshal(storeMeta{Format: storeFormat, KeyCheck: sealed})
	if err != nil {
		return fmt.Errorf("org: %w", err)
	}
	tmp, err := s.writeTemp(func(w io.Writer) error { _, err := w.Write(data); return err })
	if err != nil {
		return err
	}
	if replace {
		err = os.Rename(tmp, path)
	} else {
		err = os.Link(tmp, path)
	}
	os.Remove(tmp)
	if err != nil {
		return err
	}
	return syncDir(s.dir)
}

// checkDirMode refuses a store directory that users other than its owner
// can write (mode 0777, 0775, sticky /tmp-like directories): they could
// plant or swap files, or replace the lock file.
func checkDirMode(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("org: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("org: the store path %s is not a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; make it private with chmod 700 %s (or use a new directory, which OpenFileStore creates with mode 0700)", ErrInsecureDir, dir, perm, dir)
	}
	return nil
}

// seal encrypts plain with a random nonce, binding it to aad.
func (s *FileStore) seal(plain, aad []byte) (string, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("org: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, plain, aad)
	return sealedPrefix + base64.StdEncoding.EncodeToString(out), nil
}

func (s *FileStore) open(sealed string, aad []byte) ([]byte, error) {
	b64, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return nil, errors.New("not an encrypted value")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return nil, errors.New("malformed encrypted value")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], aad)
	if err != nil {
		return nil, errors.New("encrypted value does not decrypt with this key")
	}
	return plain, nil
}

// secretAAD binds an encrypted secret to its organization and field, so a
// value cannot be moved to another organization or field unnoticed.
func secretAAD(id, field string) []byte {
	return []byte(orgFormat + "\x00" + id + "\x00" + field)
}

// storedFile is the on-disk form of an organization. MAC authenticates the
// whole record (see recordMACInput); records of format 1 have none.
type storedFile struct {
	Format string    `json:"format"`
	Org    storedOrg `json:"organization"`
	MAC    string    `json:"mac,omitempty"`
}

type storedOrg struct {
	ID      string      `json:"id"`
	Name    string      `json:"name"`
	Domains []string    `json:"domains,omitempty"`
	Users   []User      `json:"users,omitempty"`
	Email   storedEmail `json:"email"`
	// Provisioning is absent from records written before plans existed.
	Provisioning *ProvisioningPlan `json:"provisioning,omitempty"`
	Version      int64             `json:"version"`
	CreatedAt    time.Time         `json:"createdAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
}

type storedEmail struct {
	AccessType        AccessType `json:"accessType"`
	AccountLogon      string     `json:"accountLogon,omitempty"`
	Password          string     `json:"password,omitempty"`
	EWSURL            string     `json:"ewsUrl,omitempty"`
	DiscoverEWSURL    bool       `json:"discoverEwsUrl,omitempty"`
	AuthMethod        AuthMethod `json:"authMethod"`
	ExchangeVersion   string     `json:"exchangeVersion,omitempty"`
	AllowInsecureHTTP bool       `json:"allowInsecureHttp,omitempty"`
	TenantID          string     `json:"tenantId,omitempty"`
	ClientID          string     `json:"clientId,omitempty"`
	ClientSecret      string     `json:"clientSecret,omitempty"`
	CertificatePEM    string     `json:"certificatePem,omitempty"`
	PrivateKey        string     `json:"privateKey,omitempty"`
}

// secretFields lists the encrypted fields: name (also the AAD label), the
// Secret in the model, the sealed string in the stored form.
func secretFields(e *EmailConfiguration, se *storedEmail) []struct {
	name   string
	secret *Secret
	sealed *string
} {
	return []struct {
		name   string
		secret *Secret
		sealed *string
	}{
		{"password", &e.Password, &se.Password},
		{"clientSecret", &e.ClientSecret, &se.ClientSecret},
		{"privateKey", &e.PrivateKey, &se.PrivateKey},
	}
}

// A record of format 2 is the JSON object {"format", "organization", "mac"}
// whose last member, the MAC, is a fixed-length trailer: macPrefix, 64 hex
// digits, macSuffix. The MAC is HMAC-SHA256, under a key derived from the
// store key, of recordMACInput: the format, the organization ID (the file
// name) and every byte of the file before the trailer. Any change to the
// file, including to fields that are not secret and to ciphertexts moved
// from another record, fails it.
const (
	macPrefix  = `,"mac":"`
	macSuffix  = "\"}\n"
	macTrailer = len(macPrefix) + 2*sha256.Size + len(macSuffix)
)

func (s *FileStore) newRecordMAC(id string) hash.Hash {
	m := s.recordMAC()
	writeField(m, orgFormat)
	writeField(m, id)
	return m
}

// writeOrg streams the stored form of o to w: the organization's fields,
// then its users one at a time, so saving a large organization needs no
// buffer of the whole file; the MAC is computed on the way.
func (s *FileStore) writeOrg(out io.Writer, o *Organization) error {
	mac := s.newRecordMAC(o.ID)
	w := io.MultiWriter(out, mac)
	e := o.Email
	head := storedOrg{
		ID: o.ID, Name: o.Name, Domains: o.Domains, Version: o.Version,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, Provisioning: o.Provisioning,
		Email: storedEmail{
			AccessType: e.AccessType, AccountLogon: e.AccountLogon, EWSURL: e.EWSURL,
			DiscoverEWSURL: e.DiscoverEWSURL, AuthMethod: e.AuthMethod, ExchangeVersion: e.ExchangeVersion,
			AllowInsecureHTTP: e.AllowInsecureHTTP, TenantID: e.TenantID, ClientID: e.ClientID,
			CertificatePEM: e.CertificatePEM,
		},
	}
	for _, sf := range secretFields(&e, &head.Email) {
		if sf.secret.IsZero() {
			continue
		}
		sealed, err := s.seal([]byte(sf.secret.Reveal()), secretAAD(o.ID, sf.name))
		if err != nil {
			return err
		}
		*sf.sealed = sealed
	}
	// head has no users (omitempty), so it is an object ending in '}' that
	// the users array is spliced into.
	hb, err := json.Marshal(&head)
	if err != nil {
		return fmt.Errorf("org: encode organization %q: %w", o.ID, err)
	}
	if _, err := io.WriteString(w, `{"format":"`+orgFormat+`","organization":`); err != nil {
		return err
	}
	if _, err := w.Write(hb[:len(hb)-1]); err != nil {
		return err
	}
	if _, err := io.WriteString(w, `,"users":[`); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range o.Users {
		if i > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		if err := enc.Encode(&o.Users[i]); err != nil {
			return fmt.Errorf("org: encode organization %q, user %d: %w", o.ID, i+1, err)
		}
	}
	if _, err := io.WriteString(w, "]}"); err != nil {
		return err
	}
	_, err = io.WriteString(out, macPrefix+hex.EncodeToString(mac.Sum(nil))+macSuffix)
	return err
}

// encode returns the stored form of o.
func (s *FileStore) encode(o *Organization) ([]byte, error) {
	var buf bytes.Buffer
	if err := s.writeOrg(&buf, o); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkRecordMAC verifies the trailer of a format 2 record.
func (s *FileStore) checkRecordMAC(data []byte, id string) error {
	n := len(data)
	if n < macTrailer || string(data[n-macTrailer:n-macTrailer+len(macPrefix)]) != macPrefix || string(data[n-len(macSuffix):]) != macSuffix {
		return errors.New("it has no record authentication code (cut short, or not written by this version)")
	}
	want, err := hex.DecodeString(string(data[n-macTrailer+len(macPrefix) : n-len(macSuffix)]))
	if err != nil {
		return errors.New("its record authentication code is malformed")
	}
	mac := s.newRecordMAC(id)
	mac.Write(data[:n-macTrailer])
	if !hmac.Equal(mac.Sum(nil), want) {
		return errors.New("it fails authentication: it was changed outside the store (edited, or parts copied from another record or file) or written with another key; restore it from a backup")
	}
	return nil
}

// decodeOrgFile authenticates, parses and decrypts a stored organization;
// wantID is the ID the file name promises. Records of format 1 (without
// authentication) are read only when allowV1 is set, by the upgrade.
func (s *FileStore) decodeOrgFile(data []byte, wantID string, allowV1 bool) (*Organization, error) {
	var f storedFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrCorrupt, wantID, err)
	}
	switch {
	case f.Format == orgFormat:
		if err := s.checkRecordMAC(data, wantID); err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrCorrupt, wantID, err)
		}
	case f.Format == orgFormatV1 && allowV1:
	case f.Format == orgFormatV1:
		return nil, fmt.Errorf("%w: %q: it is an unauthenticated record of format %s in a store whose records are authenticated; restore it from a backup", ErrCorrupt, wantID, f.Format)
	default:
		return nil, fmt.Errorf("%w: %q: unknown format %q", ErrCorrupt, wantID, f.Format)
	}
	so := f.Org
	if so.ID != wantID {
		return nil, fmt.Errorf("%w: %q: the file holds organization %q", ErrCorrupt, wantID, so.ID)
	}
	if so.Version < 1 || so.Version == math.MaxInt64 {
		return nil, fmt.Errorf("%w: %q: invalid version %d", ErrCorrupt, wantID, so.Version)
	}
	o := &Organization{
		ID: so.ID, Name: so.Name, Domains: so.Domains, Users: so.Users, Version: so.Version,
		CreatedAt: so.CreatedAt, UpdatedAt: so.UpdatedAt, Provisioning: so.Provisioning,
		Email: EmailConfiguration{
			AccessType: so.Email.AccessType, AccountLogon: so.Email.AccountLogon, EWSURL: so.Email.EWSURL,
			DiscoverEWSURL: so.Email.DiscoverEWSURL, AuthMethod: so.Email.AuthMethod, ExchangeVersion: so.Email.ExchangeVersion,
			AllowInsecureHTTP: so.Email.AllowInsecureHTTP, TenantID: so.Email.TenantID,
			ClientID: so.Email.ClientID, CertificatePEM: so.Email.CertificatePEM,
		},
	}
	for _, sf := range secretFields(&o.Email, &so.Email) {
		if *sf.sealed == "" {
			continue
		}
		plain, err := s.open(*sf.sealed, secretAAD(so.ID, sf.name))
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %s: %v", ErrCorrupt, wantID, sf.name, err)
		}
		*sf.secret = NewSecret(string(plain))
	}
	return o, nil
}

func isOrgFile(name string) bool {
	id, ok := orgIDFromFile(name)
	return ok && checkID(id) == nil
}

func orgIDFromFile(name string) (string, bool) {
	if !strings.HasPrefix(name, orgPrefix) || !strings.HasSuffix(name, orgSuffix) {
		return "", false
	}
	return name[len(orgPrefix) : len(name)-len(orgSuffix)], true
}

func (s *FileStore) path(id string) string {
	return filepath.Join(s.dir, orgPrefix+id+orgSuffix)
}

// load reads one organization; a missing file is ErrNotFound.
func (s *FileStore) load(id string) (*Organization, error) {
	data, err := os.ReadFile(s.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("org: read organization %q: %w", id, err)
	}
	return s.decodeOrgFile(data, id, false)
}

// writeTemp writes a new temporary file in the store directory with write
// and fsyncs it, returning its path.
func (s *FileStore) writeTemp(write func(io.Writer) error) (string, error) {
	f, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("org: %w", err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("org: write %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}

// commit atomically replaces the organization's file with o's stored form.
func (s *FileStore) commit(o *Organization) error {
	tmp, err := s.writeTemp(func(w io.Writer) error { return s.writeOrg(w, o) })
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path(o.ID)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("org: save organization %q: %w", o.ID, err)
	}
	return syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("org: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("org: sync directory %s: %w", dir, err)
	}
	return nil
}

// locked runs fn holding the in-process semaphore and the directory flock.
func (s *FileStore) locked(ctx context.Context, fn func() error) error {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.sem }()
	unlock, err := lockDir(ctx, filepath.Join(s.dir, lockFile))
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// Create implements [Store].
func (s *FileStore) Create(ctx context.Context, o *Organization) (*Organization, error) {
	if s == nil || s.aead == nil {
		return nil, errNilStore
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := prepareCreate(o, s.now(), s.ConfigFingerprint)
	if err != nil {
		return nil, err
	}
	err = s.locked(ctx, func() error {
		if _, err := os.Lstat(s.path(c.ID)); err == nil {
			return fmt.Errorf("%w: %q", ErrExists, c.ID)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("org: %w", err)
		}
		return s.commit(c)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Get implements [Store].
func (s *FileStore) Get(ctx context.Context, id string) (*Organization, error) {
	if s == nil || s.aead == nil {
		return nil, errNilStore
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if checkID(id) != nil {
		return nil, notFound(id)
	}
	return s.load(id)
}

// List implements [Store].
func (s *FileStore) List(ctx context.Context) ([]*Organization, error) {
	if s == nil || s.aead == nil {
		return nil, errNilStore
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("org: %w", err)
	}
	var out []*Organization
	var broken []ListFailure
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		id, ok := orgIDFromFile(e.Name())
		if !ok || checkID(id) != nil {
			continue
		}
		o, err := s.load(id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since ReadDir
		}
		if err != nil {
			broken = append(broken, ListFailure{ID: id, Err: err})
			continue
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b *Organization) int { return strings.Compare(a.ID, b.ID) })
	if len(broken) > 0 {
		return out, &ListError{Failed: broken}
	}
	return out, nil
}

// ListError is returned by [FileStore.List] together with the
// organizations it could read when some could not be read (damaged, changed
// outside the store): one broken file does not hide the others. errors.Is
// matches the failures' errors, usually [ErrCorrupt].
type ListError struct {
	Failed []ListFailure // sorted by ID
}

// ListFailure is one organization [FileStore.List] could not read.
type ListFailure struct {
	ID  string
	Err error
}

// Error lists the organizations that could not be read.
func (e *ListError) Error() string {
	var b strings.Builder
	if len(e.Failed) == 1 {
		b.WriteString("org: 1 organization could not be read (the others were listed): ")
	} else {
		fmt.Fprintf(&b, "org: %d organizations could not be read (the others were listed): ", len(e.Failed))
	}
	for i, f := range e.Failed {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Err.Error())
	}
	return b.String()
}

// Unwrap returns each failure's error, for errors.Is and errors.As.
func (e *ListError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f.Err
	}
	return errs
}

// Update implements [Store].
func (s *FileStore) Update(ctx context.Context, o *Organization) (*Organization, error) {
	if err := checkUpdateArg(o); err != nil {
		return nil, err
	}
	return s.save(ctx, o.ID, replaceIfCurrent(o))
}

func (s *FileStore) modify(ctx context.Context, id string, change func(*Organization) error) (*Organization, error) {
	return s.save(ctx, id, applyChange(change))
}

// save replaces the stored organization id with what next makes of it,
// holding the store's lock across processes, and stamps version and times.
func (s *FileStore) save(ctx context.Context, id string, next func(cur *Organization) (*Organization, error)) (*Organization, error) {
	if s == nil || s.aead == nil {
		return nil, errNilStore
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if checkID(id) != nil {
		return nil, notFound(id)
	}
	var saved *Organization
	err := s.locked(ctx, func() error {
		cur, err := s.load(id)
		if err != nil {
			return err
		}
		n, err := next(cur)
		if err != nil {
			return err
		}
		c, err := stamp(n, cur, s.now(), s.ConfigFingerprint)
		if err != nil {
			return err
		}
		if err := s.commit(c); err != nil {
			return err
		}
		saved = c
		return nil
	})
	return saved, err
}

// Delete implements [Store].
func (s *FileStore) Delete(ctx context.Context, id string) error {
	if s == nil || s.aead == nil {
		return errNilStore
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if checkID(id) != nil {
		return notFound(id)
	}
	return s.locked(ctx, func() error {
		err := os.Remove(s.path(id))
		if errors.Is(err, fs.ErrNotExist) {
			return notFound(id)
		}
		if err != nil {
			return fmt.Errorf("org: delete organization %q: %w", id, err)
		}
		return syncDir(s.dir)
	})
}
