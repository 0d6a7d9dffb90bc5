package org_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/org"
)

func createOrgs(t *testing.T, s org.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		o := secretOrg()
		o.ID = id
		if _, err := s.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}

// Every byte of a record is authenticated: editing a field that is not
// secret, or moving a ciphertext between records, is reported as a change
// made outside the store, not as a wrong key.
func TestFileStoreAuthenticatesWholeRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openFileStore(t, dir)
	createOrgs(t, s, "a", "b")
	path := func(id string) string { return filepath.Join(dir, "org-"+id+".json") }
	a, _ := os.ReadFile(path("a"))
	b, _ := os.ReadFile(path("b"))
	sealed := regexp.MustCompile(`"password":"aes256gcm:[^"]*"`)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"EWS URL edited", bytes.Replace(a, []byte("mail.contoso.com"), []byte("evil.example.net"), 1)},
		{"account logon edited", bytes.Replace(a, []byte(`svc-sync`), []byte(`svc-evil`), 1)},
		{"user added", bytes.Replace(a, []byte(`"users":[`), []byte(`"users":[{"primarySmtpAddress":"x@evil.example","impersonateBy":"Auto","sync":{"status":"Active"}},`), 1)},
		{"version edited", bytes.Replace(a, []byte(`"version":1`), []byte(`"version":9223372036854775807`), 1)},
		{"password moved from b", sealed.ReplaceAll(a, sealed.Find(b))},
		{"b renamed to a", bytes.Replace(b, []byte(`"id":"b"`), []byte(`"id":"a"`), 1)},
		{"mac removed", a[:bytes.LastIndex(a, []byte(`,"mac"`))]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if bytes.Equal(tc.data, a) {
				t.Fatal("the tampering changed nothing")
			}
			if err := os.WriteFile(path("a"), tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Get(ctx, "a")
			if !errors.Is(err, org.ErrCorrupt) {
				t.Fatalf("Get(%s) error = %v, want ErrCorrupt", tc.name, err)
			}
			if strings.Contains(err.Error(), "does not decrypt with this key") {
				t.Errorf("Get(%s) error = %v, want it to say the record was changed, not blame the key", tc.name, err)
			}
		})
	}
	os.WriteFile(path("a"), a, 0o600)
	if _, err := s.Get(ctx, "a"); err != nil {
		t.Errorf("Get(restored file) error = %v, want nil", err)
	}
}

// One damaged organization does not hide the others.
func TestFileStoreListSkipsBrokenRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openFileStore(t, dir)
	createOrgs(t, s, "a", "b", "c")
	os.WriteFile(filepath.Join(dir, "org-b.json"), []byte("{not json"), 0o600)
	got, err := s.List(ctx)
	var le *org.ListError
	if !errors.As(err, &le) || !errors.Is(err, org.ErrCorrupt) {
		t.Fatalf("List() error = %v, want a *ListError matching ErrCorrupt", err)
	}
	if len(le.Failed) != 1 || le.Failed[0].ID != "b" {
		t.Errorf("ListError.Failed = %+v, want just b", le.Failed)
	}
	var ids []string
	for _, o := range got {
		ids = append(ids, o.ID)
	}
	if diff := cmp.Diff([]string{"a", "c"}, ids); diff != "" {
		t.Errorf("List() organizations (-want +got):\n%s", diff)
	}
}

// A symbolic link planted as the lock file is not followed.
func TestFileStoreRefusesLockSymlink(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere")
	s := openFileStore(t, dir)
	os.Remove(filepath.Join(dir, ".lock"))
	if err := os.Symlink(target, filepath.Join(dir, ".lock")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, &org.Organization{ID: "x", Name: "X"}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Create with a symlinked lock file error = %v, want one naming the symbolic link", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock symlink's target was created (stat error %v)", err)
	}
	if _, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: testKey(7)}); err == nil {
		t.Errorf("OpenFileStore with a symlinked lock file = nil error, want an error")
	}
}

// A store directory that others can write is refused (not silently
// chmodded): they could plant, swap or delete records.
func TestFileStoreRefusesSharedDirectory(t *testing.T) {
	dir := t.TempDir()
	openFileStore(t, dir)
	for _, mode := range []os.FileMode{0o777, 0o770, 0o1777} {
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		_, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: testKey(7)})
		if !errors.Is(err, org.ErrInsecureDir) || !strings.Contains(err.Error(), "chmod 700") {
			t.Errorf("OpenFileStore(mode %o) error = %v, want ErrInsecureDir saying chmod 700", mode, err)
		}
	}
	os.Chmod(dir, 0o750)
	if _, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: testKey(7)}); err != nil {
		t.Errorf("OpenFileStore(mode 750) error = %v, want nil", err)
	}
}
