package org

import (
	"bytes"
	"testing"
)

func FuzzLoadStoredFile(f *testing.F) {
	s, err := OpenFileStore(f.TempDir(), FileStoreOptions{Key: newFileStoreKey([32]byte(bytes.Repeat([]byte{3}, 32)))})
	if err != nil {
		f.Fatal(err)
	}
	o := &Organization{
		ID: "fuzz", Name: "Fuzz", Version: 3, Domains: []string{"contoso.com"},
		Users: []User{{PrimarySMTP: "a@contoso.com", ImpersonateBy: IdentitySID, SID: "S-1-5-21-1", Sync: SyncState{Status: Failed, Code: "ErrorImpersonateUserDenied"}}},
		Email: EmailConfiguration{AccessType: OnlineAppOnly, Password: NewSecret("pw"), ClientSecret: NewSecret("cs"), PrivateKey: NewSecret("pk")},
	}
	valid, err := s.encode(o)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte(`{"format":"scc-org/1","organization":{"id":"fuzz","version":1}}`))
	f.Add([]byte(`{"format":"scc-org/1","organization":{"id":"fuzz","version":1,"email":{"password":"aes256gcm:AAAA"}}}`))
	f.Add([]byte(`{"format":"scc-org/1","organization":{"id":"fuzz","version":1,"users":[{"impersonateBy":"Bogus"}]}}`))
	f.Add([]byte(`null`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := s.decodeOrgFile(data, "fuzz", false)
		if err != nil {
			if got != nil {
				t.Fatalf("decodeOrgFile returned an organization with error %v", err)
			}
			return
		}
		if got.ID != "fuzz" || got.Version < 1 {
			t.Fatalf("decodeOrgFile accepted ID %q version %d", got.ID, got.Version)
		}
		// What loads must save and load again unchanged.
		again, err := s.encode(got)
		if err != nil {
			t.Fatalf("encode of a loaded organization: %v", err)
		}
		back, err := s.decodeOrgFile(again, "fuzz", false)
		if err != nil {
			t.Fatalf("reload of a re-encoded organization: %v", err)
		}
		if back.Email.Password.Reveal() != got.Email.Password.Reveal() || len(back.Users) != len(got.Users) {
			t.Fatalf("round trip changed the organization")
		}
	})
}
