package org

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeV1Store lays out a store as the previous version wrote it: format 1
// metadata and an unauthenticated format 1 record with a v1 fingerprint.
func writeV1Store(t *testing.T, dir string, key FileStoreKey, o *Organization) {
	t.Helper()
	s, err := OpenFileStore(t.TempDir(), FileStoreOptions{Key: key}) // for seal only
	if err != nil {
		t.Fatal(err)
	}
	check, _ := s.seal([]byte(keyCheckText), []byte(storeFormatV1+"\x00key-check"))
	meta, _ := json.Marshal(storeMeta{Format: storeFormatV1, KeyCheck: check})
	pw, _ := s.seal([]byte(o.Email.Password.Reveal()), secretAAD(o.ID, "password"))
	rec, _ := json.Marshal(storedFile{Format: orgFormatV1, Org: storedOrg{
		ID: o.ID, Name: o.Name, Users: o.Users, Version: o.Version,
		Email: storedEmail{AccessType: o.Email.AccessType, AccountLogon: o.Email.AccountLogon, EWSURL: o.Email.EWSURL, Password: pw},
	}})
	os.WriteFile(filepath.Join(dir, metaFile), meta, 0o600)
	os.WriteFile(filepath.Join(dir, "org-"+o.ID+".json"), rec, 0o600)
}

func TestOpenFileStoreUpgradesFormat1(t *testing.T) {
	key := newFileStoreKey([32]byte(bytes.Repeat([]byte{5}, 32)))
	email := EmailConfiguration{AccountLogon: `CONTOSO\svc`, Password: NewSecret("pw"), EWSURL: "https://mail.contoso.com/EWS/Exchange.asmx"}
	old := email
	old.Password = NewSecret("old password")
	o := &Organization{ID: "contoso", Name: "Contoso", Version: 4, Email: email, Users: []User{
		{PrimarySMTP: "a@contoso.com", Sync: SyncState{Status: Active, ConfigFingerprint: legacyFingerprintV1(email)}},
		{PrimarySMTP: "b@contoso.com", Sync: SyncState{Status: Active, ConfigFingerprint: legacyFingerprintV1(old)}},
	}}
	dir := t.TempDir()
	writeV1Store(t, dir, key, o)

	s, err := OpenFileStore(dir, FileStoreOptions{Key: key})
	if err != nil {
		t.Fatalf("OpenFileStore(format 1 store) error: %v", err)
	}
	got, err := s.Get(context.Background(), "contoso")
	if err != nil {
		t.Fatalf("Get after upgrade: %v", err)
	}
	if got.Email.Password.Reveal() != "pw" || got.Version != 4 {
		t.Errorf("after upgrade: password kept %v, version %d; want the password and version 4", got.Email.Password.Reveal() == "pw", got.Version)
	}
	if st := got.Users[0].Sync; st.Status != Active || st.ConfigFingerprint != s.ConfigFingerprint(email) {
		t.Errorf("user with a matching v1 fingerprint = %v %q, want Active with the store's fingerprint", st.Status, st.ConfigFingerprint)
	}
	if st := got.Users[1].Sync; st.Status != NeedsRenewal || st.ConfigFingerprint != "" {
		t.Errorf("user with a stale v1 fingerprint = %v %q, want NeedsRenewal and the guessable fingerprint dropped", st.Status, st.ConfigFingerprint)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "org-contoso.json"))
	if strings.Contains(string(raw), `"v1:`) || !strings.Contains(string(raw), `"format":"`+orgFormat+`"`) {
		t.Errorf("the record was not rewritten as format 2 without v1 fingerprints:\n%s", raw)
	}
	meta, _ := os.ReadFile(filepath.Join(dir, metaFile))
	if !strings.Contains(string(meta), storeFormat) {
		t.Errorf("store metadata not upgraded: %s", meta)
	}
	// Once upgraded, an unauthenticated record planted in the store is refused.
	rec, _ := json.Marshal(storedFile{Format: orgFormatV1, Org: storedOrg{ID: "planted", Name: "x", Version: 1}})
	os.WriteFile(filepath.Join(dir, "org-planted.json"), rec, 0o600)
	if _, err := s.Get(context.Background(), "planted"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Get(planted format 1 record) error = %v, want ErrCorrupt", err)
	}
}

func TestSaveRefusesVersionOverflow(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryStore()
	if _, err := m.Create(ctx, &Organization{ID: "x", Name: "X"}); err != nil {
		t.Fatal(err)
	}
	m.orgs["x"].Version = math.MaxInt64
	_, err := Modify(ctx, m, "x", func(o *Organization) error { o.Name = "Y"; return nil })
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("Modify(version MaxInt64) error = %v, want ErrCorrupt", err)
	}
	if m.orgs["x"].Version != math.MaxInt64 || m.orgs["x"].Name != "X" {
		t.Errorf("the failed save changed the organization: version %d name %q", m.orgs["x"].Version, m.orgs["x"].Name)
	}
}
