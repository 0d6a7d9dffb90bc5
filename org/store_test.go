package org_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sccsync/scc/org"
)

func testKey(b byte) org.FileStoreKey {
	k, err := org.FileStoreKeyFromBytes(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		panic(err)
	}
	return k
}

func openFileStore(t *testing.T, dir string) *org.FileStore {
	t.Helper()
	s, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: testKey(7)})
	if err != nil {
		t.Fatalf("OpenFileStore(%s) error: %v", dir, err)
	}
	return s
}

// stores runs fn against every Store implementation.
func stores(t *testing.T, fn func(t *testing.T, s org.Store)) {
	t.Run("memory", func(t *testing.T) { fn(t, org.NewMemoryStore()) })
	t.Run("file", func(t *testing.T) { fn(t, openFileStore(t, t.TempDir())) })
}

var ignoreTimes = cmpopts.IgnoreFields(org.Organization{}, "CreatedAt", "UpdatedAt")

func TestStoreLifecycle(t *testing.T) {
	stores(t, func(t *testing.T, s org.Store) {
		ctx := context.Background()
		in := secretOrg()
		in.Version = 42 // ignored by Create
		created, err := s.Create(ctx, in)
		if err != nil {
			t.Fatalf("Create error: %v", err)
		}
		if created.Version != 1 || created.CreatedAt.IsZero() || !created.CreatedAt.Equal(created.UpdatedAt) {
			t.Errorf("Create() = version %d, created %v, updated %v; want version 1 and equal timestamps", created.Version, created.CreatedAt, created.UpdatedAt)
		}
		if in.Version != 42 {
			t.Errorf("Create changed its argument")
		}
		if _, err := s.Create(ctx, in); !errors.Is(err, org.ErrExists) {
			t.Errorf("Create(same ID) error = %v, want ErrExists", err)
		}

		got, err := s.Get(ctx, "contoso")
		if err != nil {
			t.Fatalf("Get error: %v", err)
		}
		if diff := cmp.Diff(created, got); diff != "" {
			t.Errorf("Get() mismatch (-created +got):\n%s", diff)
		}
		if got.Email.Password.Reveal() != testPassword || got.Email.PrivateKey.Reveal() != testPrivateKey {
			t.Errorf("Get() lost the secrets")
		}

		// Returned values are copies.
		got.Users[0].PrimarySMTP = "mutated@contoso.com"
		got.Name = "mutated"
		again, _ := s.Get(ctx, "contoso")
		if again.Users[0].PrimarySMTP != "anna@contoso.com" || again.Name != "Contoso" {
			t.Errorf("mutating a returned organization changed the store: %+v", again)
		}

		upd := again.Clone()
		upd.Name = "Contoso Ltd"
		upd.Users[0].Sync = org.SyncState{Status: org.Active, CheckedAt: again.CreatedAt, ConfigFingerprint: org.ConfigFingerprint(s, upd.Email), Folders: map[string]string{"contacts": "AAMk1"}}
		saved, err := s.Update(ctx, upd)
		if err != nil {
			t.Fatalf("Update error: %v", err)
		}
		if saved.Version != 2 || !saved.CreatedAt.Equal(created.CreatedAt) || saved.UpdatedAt.Before(created.UpdatedAt) {
			t.Errorf("Update() = version %d created %v updated %v; want 2, unchanged creation time, later update time", saved.Version, saved.CreatedAt, saved.UpdatedAt)
		}
		if upd.Version != 1 {
			t.Errorf("Update changed its argument's version to %d", upd.Version)
		}
		// The store keeps a copy of its argument, not the argument.
		upd.Users[0].Sync.Folders["contacts"] = "changed after Update"
		upd.Name = "changed after Update"
		if kept, _ := s.Get(ctx, "contoso"); kept.Name != "Contoso Ltd" || kept.Users[0].Sync.Folders["contacts"] != "AAMk1" {
			t.Errorf("changing Update's argument afterwards changed the store: %q, %v", kept.Name, kept.Users[0].Sync.Folders)
		}
		// A second writer still holding version 1 must not overwrite.
		stale := again.Clone()
		stale.Name = "lost update"
		_, err = s.Update(ctx, stale)
		if !errors.Is(err, org.ErrConflict) || !strings.Contains(err.Error(), `"contoso"`) {
			t.Errorf("Update(stale) error = %v, want ErrConflict naming the organization", err)
		}
		cur, _ := s.Get(ctx, "contoso")
		if diff := cmp.Diff(saved, cur); diff != "" {
			t.Errorf("after a conflict the store changed (-want +got):\n%s", diff)
		}

		second, err := s.Create(ctx, &org.Organization{Name: "Fabrikam"})
		if err != nil {
			t.Fatalf("Create(no ID) error: %v", err)
		}
		if len(second.ID) != 32 {
			t.Errorf("Create(no ID) ID = %q, want 32 hex digits", second.ID)
		}
		list, err := s.List(ctx)
		if err != nil {
			t.Fatalf("List error: %v", err)
		}
		if len(list) != 2 || list[0].ID > list[1].ID {
			t.Errorf("List() = %d organizations, want 2 sorted by ID", len(list))
		}

		if err := s.Delete(ctx, "contoso"); err != nil {
			t.Fatalf("Delete error: %v", err)
		}
		for name, err := range map[string]error{
			"Get":    func() error { _, err := s.Get(ctx, "contoso"); return err }(),
			"Delete": s.Delete(ctx, "contoso"),
			"Update": func() error { _, err := s.Update(ctx, cur); return err }(),
		} {
			if !errors.Is(err, org.ErrNotFound) {
				t.Errorf("%s(deleted) error = %v, want ErrNotFound", name, err)
			}
		}
	})
}

func TestStoreRejectsBadInput(t *testing.T) {
	stores(t, func(t *testing.T, s org.Store) {
		ctx := context.Background()
		for _, id := range []string{"../escape", ".hidden", "a/b", strings.Repeat("x", 129), "spaces here"} {
			if _, err := s.Create(ctx, &org.Organization{ID: id}); err == nil {
				t.Errorf("Create(ID %q) error = nil, want an error", id)
			}
			if _, err := s.Get(ctx, id); !errors.Is(err, org.ErrNotFound) {
				t.Errorf("Get(%q) error = %v, want ErrNotFound", id, err)
			}
		}
		if _, err := s.Create(ctx, nil); err == nil {
			t.Errorf("Create(nil) error = nil")
		}
		if _, err := s.Update(ctx, nil); err == nil {
			t.Errorf("Update(nil) error = nil")
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Create(cancelled, &org.Organization{}); !errors.Is(err, context.Canceled) {
			t.Errorf("Create(cancelled ctx) error = %v, want context.Canceled", err)
		}
	})
}

// updateOnlyStore hides the stores' locked read-modify-write, so Modify has
// to fall back to Get + Update with conflict retries.
type updateOnlyStore struct{ org.Store }

func TestModifyLosesNoChange(t *testing.T) {
	stores(t, testModify)
	t.Run("update only", func(t *testing.T) { testModify(t, updateOnlyStore{org.NewMemoryStore()}) })
	t.Run("file update only", func(t *testing.T) { testModify(t, updateOnlyStore{openFileStore(t, t.TempDir())}) })
}

func testModify(t *testing.T, s org.Store) {
	{
		ctx := context.Background()
		o, err := s.Create(ctx, &org.Organization{ID: "counter", Name: "0"})
		if err != nil {
			t.Fatal(err)
		}
		const workers, each = 4, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					_, err := org.Modify(ctx, s, o.ID, func(o *org.Organization) error {
						o.Users = append(o.Users, org.User{PrimarySMTP: "u" + string(rune('a'+w)) + "@contoso.com"})
						return nil
					})
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("Modify error: %v", err)
			}
		}
		final, _ := s.Get(ctx, o.ID)
		if len(final.Users) != workers*each || final.Version != 1+workers*each {
			t.Errorf("after %d concurrent Modify calls: %d users, version %d; want %d and %d", workers*each, len(final.Users), final.Version, workers*each, 1+workers*each)
		}
		boom := errors.New("boom")
		if _, err := org.Modify(ctx, s, o.ID, func(*org.Organization) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("Modify(change fails) error = %v, want the change's error", err)
		}
		if _, err := org.Modify(ctx, s, "missing", func(*org.Organization) error { return nil }); !errors.Is(err, org.ErrNotFound) {
			t.Errorf("Modify(missing) error = %v, want ErrNotFound", err)
		}
		// A change that tampers with the version cannot break concurrency.
		saved, err := org.Modify(ctx, s, o.ID, func(o *org.Organization) error { o.Version = 1; o.ID = "other"; return nil })
		if err != nil || saved.Version != final.Version+1 || saved.ID != o.ID {
			t.Errorf("Modify(tampering change) = %v, %v; want version %d and ID kept", saved, err, final.Version+1)
		}
	}
}

func TestFileStorePersistsEncrypted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openFileStore(t, dir)
	created, err := s.Create(ctx, secretOrg())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "org-contoso.json"))
	if err != nil {
		t.Fatalf("the organization file is not where documented: %v", err)
	}
	assertNoSecret(t, "stored file", string(raw))
	for _, want := range []string{`"password":"aes256gcm:`, `"clientSecret":"aes256gcm:`, `"privateKey":"aes256gcm:`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("stored file lacks %s:\n%s", want, raw)
		}
	}
	// A new process (new FileStore on the same directory) reads it back.
	got, err := openFileStore(t, dir).Get(ctx, "contoso")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("reopened Get() mismatch (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestFileStoreWrongKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := openFileStore(t, dir).Create(ctx, secretOrg()); err != nil {
		t.Fatal(err)
	}
	before := snapshotDir(t, dir)
	s, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: testKey(8)})
	if !errors.Is(err, org.ErrWrongKey) || s != nil {
		t.Fatalf("OpenFileStore(wrong key) = %v, %v; want nil, ErrWrongKey", s, err)
	}
	if diff := cmp.Diff(before, snapshotDir(t, dir)); diff != "" {
		t.Errorf("opening with the wrong key changed the directory (-before +after):\n%s", diff)
	}
	if _, err := org.OpenFileStore(dir, org.FileStoreOptions{}); err == nil || errors.Is(err, org.ErrWrongKey) {
		t.Errorf("OpenFileStore(no key) error = %v, want a missing key error", err)
	}
	for _, n := range []int{0, 16, 33} {
		if _, err := org.FileStoreKeyFromBytes(make([]byte, n)); !errors.Is(err, org.ErrBadFileStoreKey) {
			t.Errorf("FileStoreKeyFromBytes(%d bytes) error = %v, want ErrBadFileStoreKey", n, err)
		}
	}
}

func TestFileStoreDetectsTampering(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openFileStore(t, dir)
	for _, id := range []string{"a", "b"} {
		o := secretOrg()
		o.ID = id
		if _, err := s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// Moving b's encrypted password into a's file must not decrypt: the
	// organization ID is authenticated with every secret.
	a, _ := os.ReadFile(filepath.Join(dir, "org-a.json"))
	b, _ := os.ReadFile(filepath.Join(dir, "org-b.json"))
	a2 := append([]byte(nil), b...)
	a2 = bytes.Replace(a2, []byte(`"id":"b"`), []byte(`"id":"a"`), 1)
	if err := os.WriteFile(filepath.Join(dir, "org-a.json"), a2, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, org.ErrCorrupt) {
		t.Errorf("Get(secret moved from another organization) error = %v, want ErrCorrupt", err)
	}
	os.WriteFile(filepath.Join(dir, "org-a.json"), a[:len(a)/2], 0o600)
	if _, err := s.Get(ctx, "a"); !errors.Is(err, org.ErrCorrupt) {
		t.Errorf("Get(truncated file) error = %v, want ErrCorrupt", err)
	}
	if _, err := s.List(ctx); !errors.Is(err, org.ErrCorrupt) {
		t.Errorf("List() with a damaged file error = %v, want ErrCorrupt", err)
	}
	// Organizations without a key check file are refused.
	os.Remove(filepath.Join(dir, "scc-store.json"))
	if _, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: testKey(7)}); !errors.Is(err, org.ErrCorrupt) {
		t.Errorf("OpenFileStore(no key check) error = %v, want ErrCorrupt", err)
	}
}

func TestFileStoreRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	openFileStore(t, dir)
	stale := filepath.Join(dir, ".tmp-12345")
	os.WriteFile(stale, []byte("half written"), 0o600)
	openFileStore(t, dir)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenFileStore left the stale temporary file (stat error %v)", err)
	}
}

func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		out[e.Name()] = string(b)
	}
	return out
}

func TestOpenFileStoreConcurrently(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: testKey(7)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent OpenFileStore error: %v", err)
		}
	}
	if _, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: testKey(8)}); !errors.Is(err, org.ErrWrongKey) {
		t.Errorf("OpenFileStore(other key) after concurrent creation = %v, want ErrWrongKey", err)
	}
}

// TestNilArgumentsAreErrors: a nil store, change or organization handed to an
// exported func of org is reported as an error that says what is nil, never
// a nil-pointer panic.
func TestNilArgumentsAreErrors(t *testing.T) {
	ctx := context.Background()
	edit := func(o *org.Organization) error { o.Name = "x"; return nil }
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"Modify nil store", func() error { _, err := org.Modify(ctx, nil, "abc", edit); return err }, "org: Modify: store is nil"},
		{"Modify nil *MemoryStore", func() error { _, err := org.Modify(ctx, (*org.MemoryStore)(nil), "abc", edit); return err }, "org: Modify: store is nil"},
		{"Modify nil *FileStore", func() error { _, err := org.Modify(ctx, (*org.FileStore)(nil), "abc", edit); return err }, "org: Modify: store is nil"},
		{"Modify nil change", func() error { _, err := org.Modify(ctx, org.NewMemoryStore(), "abc", nil); return err }, "org: Modify: change is nil"},
		{"Validate nil", func() error { return (*org.Organization)(nil).Validate() }, "org: Validate: organization is nil"},
		{"ImportCSV nil organization", func() error {
			_, err := (*org.Organization)(nil).ImportCSV(strings.NewReader("a@example.com\n"))
			return err
		}, "org: ImportCSV: organization is nil"},
		{"ImportCSV nil reader", func() error { _, err := (&org.Organization{}).ImportCSV(nil); return err }, "org: ImportCSV: reader is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("%s = %v, want an error starting %q", tt.name, err, tt.want)
			}
		})
	}

	var nilOrg *org.Organization
	if got := nilOrg.UserByAddress("a@example.com"); got != -1 {
		t.Errorf("nil.UserByAddress() = %d, want -1", got)
	}
	if got := nilOrg.Warnings(); got != nil {
		t.Errorf("nil.Warnings() = %v, want nil", got)
	}
	res := nilOrg.AddUsers([]org.User{{PrimarySMTP: "a@example.com"}})
	if len(res.Rejected) != 1 || len(res.Added) != 0 || !strings.Contains(res.Rejected[0].Reason, "organization is nil") {
		t.Errorf("nil.AddUsers(1 user) = %+v, want the user rejected because the organization is nil", res)
	}
}
