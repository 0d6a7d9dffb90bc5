package org_test

import (
	"context"
	"testing"

	"github.com/sccsync/scc/org"
)

// Saving a configuration change marks the users activated against the old
// configuration NeedsRenewal; saves that leave the configuration alone, and
// users not active, are untouched.
func TestSaveMarksNeedsRenewal(t *testing.T) {
	ctx := context.Background()
	for name, s := range map[string]org.Store{"memory": org.NewMemoryStore(), "file": openFileStore(t, t.TempDir())} {
		t.Run(name, func(t *testing.T) {
			o := validOrg()
			o.ID = "contoso"
			o.Users = []org.User{{PrimarySMTP: "a@contoso.com"}, {PrimarySMTP: "b@contoso.com"}, {PrimarySMTP: "c@contoso.com"}}
			created, err := s.Create(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			fp := org.ConfigFingerprint(s, created.Email)
			_, err = org.Modify(ctx, s, o.ID, func(o *org.Organization) error {
				o.Users[0].Sync = org.SyncState{Status: org.Active, ConfigFingerprint: fp}
				o.Users[1].Sync = org.SyncState{Status: org.Failed, Code: "ErrorImpersonateUserDenied", ConfigFingerprint: fp}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// A change that is not part of the configuration: still Active.
			renamed, err := org.Modify(ctx, s, o.ID, func(o *org.Organization) error { o.Name = "Contoso Ltd"; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if got := renamed.Users[0].Sync.Status; got != org.Active {
				t.Errorf("after a rename, user 1 is %v, want Active", got)
			}
			// The password changes: the active user needs renewal.
			cur, _ := s.Get(ctx, o.ID)
			cur.Email.Password = org.NewSecret("a new password")
			saved, err := s.Update(ctx, cur)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []org.SyncStatus{org.NeedsRenewal, org.Failed, org.NotActivated} {
				if got := saved.Users[i].Sync.Status; got != want {
					t.Errorf("after a password change, user %d is %v, want %v", i+1, got, want)
				}
			}
			if saved.Users[0].Sync.ConfigFingerprint != fp {
				t.Errorf("the renewed user's fingerprint changed; it must keep saying what the user was checked against")
			}
			if again, _ := s.Get(ctx, o.ID); again.Users[0].Sync.Status != org.NeedsRenewal {
				t.Errorf("Get after the change: user 1 is %v, want NeedsRenewal stored", again.Users[0].Sync.Status)
			}
			// A user recorded with the store-less Fingerprint of the current
			// configuration stays Active, in the store's form.
			_, err = org.Modify(ctx, s, o.ID, func(o *org.Organization) error {
				o.Users[2].Sync = org.SyncState{Status: org.Active, ConfigFingerprint: o.Email.Fingerprint()}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := s.Get(ctx, o.ID)
			if st := got.Users[2].Sync; st.Status != org.Active || st.ConfigFingerprint != org.ConfigFingerprint(s, got.Email) {
				t.Errorf("user recorded with Fingerprint() = %v %q, want Active with the store's fingerprint", st.Status, st.ConfigFingerprint)
			}
		})
	}
}
