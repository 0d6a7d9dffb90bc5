package impersonation

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// activationFixture stores an organization of n users in a memory store;
// the users at the indexes in outside are not in the service account's
// scope.
func activationFixture(t *testing.T, n int, outside ...int) (*fake, *org.MemoryStore, *org.Organization) {
	t.Helper()
	f := newFake(t, scctest.Grant{})
	users := f.addMailboxes(t, n)
	var scope []string
	skip := map[int]bool{}
	for _, i := range outside {
		skip[i] = true
	}
	for i, u := range users {
		if !skip[i] {
			scope = append(scope, u.PrimarySMTP)
		}
	}
	if err := f.srv.SetGrant(testLogon, scctest.ImpersonateScope(scope...)); err != nil {
		t.Fatal(err)
	}
	store := org.NewMemoryStore()
	o, err := store.Create(context.Background(), &org.Organization{Name: "Contoso", Domains: []string{"contoso.example"}, Users: users, Email: f.cfg})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return f, store, o
}

func TestActivate(t *testing.T) {
	f, store, o := activationFixture(t, 12, 3, 7)
	t1 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	ar, err := Activate(context.Background(), store, o.ID, f.options(withClock(func() time.Time { return t1 }))...)
	if err != nil {
		t.Fatalf("Activate() error = %v", err)
	}
	if ar.Activated != 10 || ar.Failed != 2 || ar.Unchanged != 0 || ar.NotChecked != 0 || !ar.Saved {
		t.Errorf("Activate() = %+v, want 10 activated, 2 failed, saved", ar)
	}
	got, _ := store.Get(context.Background(), o.ID)
	fp := org.ConfigFingerprint(store, o.Email)
	for i, u := range got.Users {
		want := org.SyncState{Status: org.Active, ActivatedAt: t1, CheckedAt: t1, ConfigFingerprint: fp}
		if i == 3 || i == 7 {
			want = org.SyncState{Status: org.Failed, Code: string(ews.ErrorImpersonateUserDenied), CheckedAt: t1, ConfigFingerprint: fp,
				Message: u.Sync.Message}
			if u.Sync.Message == "" {
				t.Errorf("user %d: failure message is empty", i)
			}
		}
		if diff := cmp.Diff(want, u.Sync); diff != "" {
			t.Errorf("user %d sync state (-want +got):\n%s", i, diff)
		}
	}

	// Running it again changes nothing but the check times.
	t2 := t1.Add(time.Hour)
	ar2, err := Activate(context.Background(), store, o.ID, f.options(withClock(func() time.Time { return t2 }))...)
	if err != nil {
		t.Fatalf("second Activate() error = %v", err)
	}
	if ar2.Unchanged != 12 || ar2.Activated+ar2.Failed+ar2.Renewed != 0 {
		t.Errorf("second Activate() = %+v, want 12 unchanged", ar2)
	}
	again, _ := store.Get(context.Background(), o.ID)
	for i := range again.Users {
		before, after := got.Users[i].Sync, again.Users[i].Sync
		if !after.CheckedAt.Equal(t2) {
			t.Errorf("user %d CheckedAt = %v, want %v", i, after.CheckedAt, t2)
		}
		after.CheckedAt = before.CheckedAt
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("user %d changed on a repeated activation (-first +second):\n%s", i, diff)
		}
	}
}

// TestActivateUnderConcurrentEdit: while the check runs, another admin adds
// a user and renames the organization. Both changes survive, and the
// outcomes are recorded.
func TestActivateUnderConcurrentEdit(t *testing.T) {
	f, store, o := activationFixture(t, 30, 4)
	ctx := context.Background()
	edited := false
	ar, err := Activate(ctx, store, o.ID, f.options(WithConcurrency(2), WithProgress(func(p Progress) {
		if p.Done != 10 {
			return
		}
		_, err := org.Modify(ctx, store, o.ID, func(x *org.Organization) error {
			x.Name = "Contoso Ltd"
			x.Users = append(x.Users, org.User{PrimarySMTP: "new.hire@contoso.example"})
			x.Users[0].DisplayName = "Renamed Meanwhile"
			return nil
		})
		if err != nil {
			t.Errorf("concurrent edit: %v", err)
		}
		edited = true
	}))...)
	if err != nil {
		t.Fatalf("Activate() error = %v", err)
	}
	if !edited {
		t.Fatal("the concurrent edit did not run")
	}
	got, _ := store.Get(ctx, o.ID)
	if got.Name != "Contoso Ltd" || len(got.Users) != 31 || got.Users[0].DisplayName != "Renamed Meanwhile" {
		t.Fatalf("after Activate: name %q, %d users, user 0 %q; want the concurrent edit kept", got.Name, len(got.Users), got.Users[0].DisplayName)
	}
	if got.Users[30].Sync.Status != org.NotActivated {
		t.Errorf("user added meanwhile has sync %v, want NotActivated (it was not checked)", got.Users[30].Sync.Status)
	}
	if ar.Activated != 29 || ar.Failed != 1 || got.Users[0].Sync.Status != org.Active || got.Users[4].Sync.Status != org.Failed {
		t.Errorf("Activate() = %+v; user 0 %v, user 4 %v; want 29 activated, 1 failed", ar, got.Users[0].Sync.Status, got.Users[4].Sync.Status)
	}
	if got.Version != o.Version+2 {
		t.Errorf("version = %d, want %d (the edit, then the activation)", got.Version, o.Version+2)
	}
}

// TestRenew: after the configuration changes (the service account's
// credentials), Renew re-checks the active users only.
func TestRenew(t *testing.T) {
	f, store, o := activationFixture(t, 8, 2)
	ctx := context.Background()
	if _, err := Activate(ctx, store, o.ID, f.options()...); err != nil {
		t.Fatalf("Activate() error = %v", err)
	}
	// Nothing to renew while the configuration is unchanged.
	ar, err := Renew(ctx, store, o.ID, f.options()...)
	if err != nil || ar.Skipped != 8 || ar.Saved {
		t.Fatalf("Renew() unchanged = %+v, %v; want 8 skipped and nothing saved", ar, err)
	}
	// Move sync to a new service account (new logon and password).
	if err := f.srv.AddServiceAccount(`CONTOSO\svc-sync2`, "Rotated-Secret-7", scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	if _, err := org.Modify(ctx, store, o.ID, func(x *org.Organization) error {
		x.Email.AccountLogon = `CONTOSO\svc-sync2`
		x.Email.Password = org.NewSecret("Rotated-Secret-7")
		x.Users[5].Sync.Status = org.NeedsRenewal
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.srv.ResetRequests()
	ar, err = Renew(ctx, store, o.ID, f.options()...)
	if err != nil {
		t.Fatalf("Renew() error = %v", err)
	}
	if ar.Renewed != 7 || ar.Activated != 1 || ar.Skipped != 0 || ar.Check.Total != 8 || !ar.Saved {
		t.Errorf("Renew() = %+v, want 7 renewed and the failed user re-checked and activated (the new account may impersonate everyone)", ar)
	}
	got, _ := store.Get(ctx, o.ID)
	fp := org.ConfigFingerprint(store, got.Email)
	for i, u := range got.Users {
		if u.Sync.Status != org.Active || u.Sync.ConfigFingerprint != fp {
			t.Errorf("user %d: %v with fingerprint %q, want Active with the new fingerprint", i, u.Sync.Status, u.Sync.ConfigFingerprint)
		}
	}
}

// TestRenewWithWrongPassword: a Renew whose new password is wrong stops at
// the first 401 (one failed logon), and its failure shows: every active
// user becomes NeedsRenewal with the cause and keeps its old fingerprint,
// the report counts them, and a Renew with the right password renews them.
// A failed user that the new configuration fixes is activated by Renew.
func TestRenewWithWrongPassword(t *testing.T) {
	f, store, o := activationFixture(t, 5, 4)
	ctx := context.Background()
	if _, err := Activate(ctx, store, o.ID, f.options()...); err != nil {
		t.Fatalf("Activate() error = %v", err)
	}
	oldFP := org.ConfigFingerprint(store, o.Email)
	if _, err := org.Modify(ctx, store, o.ID, func(x *org.Organization) error {
		x.Email.Password = org.NewSecret("Wrong-New-Password-1")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ar, err := Renew(ctx, store, o.ID, f.options()...)
	var se *StopError
	if !errors.As(err, &se) || se.Status != StatusAuthFailed {
		t.Fatalf("Renew() with a wrong password error = %v, want an auth-failed *StopError", err)
	}
	if ar.NeedsRenewal != 4 || ar.Renewed != 0 || ar.NotChecked != 1 || !ar.Saved {
		t.Errorf("Renew() = %+v, want 4 needing renewal, the failed user not checked, saved", ar)
	}
	if n := f.srv.Stats().FailedLogons[strings.ToLower(testLogon)]; n != 1 {
		t.Errorf("failed logons = %d, want 1", n)
	}
	got, _ := store.Get(ctx, o.ID)
	for i, u := range got.Users {
		if i == 4 {
			if u.Sync.Status != org.Failed {
				t.Errorf("user 4: %v, want still Failed", u.Sync.Status)
			}
			continue
		}
		if u.Sync.Status != org.NeedsRenewal || u.Sync.Code != string(StatusAuthFailed) || !strings.Contains(u.Sync.Message, "401") || u.Sync.ConfigFingerprint != oldFP {
			t.Errorf("user %d: %+v, want NeedsRenewal with code auth-failed, the 401 in the message and the old fingerprint", i, u.Sync)
		}
	}

	// The admin fixes the password and puts user 4 into the scope.
	if err := f.srv.SetGrant(testLogon, scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	if _, err := org.Modify(ctx, store, o.ID, func(x *org.Organization) error {
		x.Email.Password = org.NewSecret(testPassword)
		x.Email.ExchangeVersion = "Exchange2013_SP1" // a changed configuration
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ar, err = Renew(ctx, store, o.ID, f.options()...)
	if err != nil || ar.Renewed != 4 || ar.Activated != 1 || ar.NeedsRenewal != 0 {
		t.Fatalf("Renew() after the fix = %+v, %v; want 4 renewed and user 4 activated", ar, err)
	}
	got, _ = store.Get(ctx, o.ID)
	for i, u := range got.Users {
		if u.Sync.Status != org.Active || u.Sync.ConfigFingerprint != org.ConfigFingerprint(store, got.Email) || u.Sync.Code != "" || u.Sync.Message != "" {
			t.Errorf("user %d: %+v, want Active with the new fingerprint and no cause", i, u.Sync)
		}
	}
}

// TestActivateStopped: a wrong password stops the check; nothing is
// saved and the error says why.
func TestActivateStopped(t *testing.T) {
	f, store, o := activationFixture(t, 5)
	ctx := context.Background()
	if _, err := org.Modify(ctx, store, o.ID, func(x *org.Organization) error {
		x.Email.Password = org.NewSecret("wrong")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ar, err := Activate(ctx, store, o.ID, f.options()...)
	var ae *ews.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("Activate() error = %v, want *ews.AuthError", err)
	}
	if ar.Saved || ar.NotChecked != 5 {
		t.Errorf("Activate() = %+v, want 5 not checked and nothing saved", ar)
	}
	if _, err := Activate(ctx, store, "no-such-org"); !errors.Is(err, org.ErrNotFound) {
		t.Errorf("Activate(unknown id) error = %v, want org.ErrNotFound", err)
	}
}

// TestActivateBadArguments: an empty organization ID (an organization never
// saved, or whose returned ID was dropped) and a nil store are reported as
// what they are and what to do, naming the func that was called.
func TestActivateBadArguments(t *testing.T) {
	ctx := context.Background()
	store := org.NewMemoryStore()
	for _, fn := range []struct {
		name string
		call func(context.Context, org.Store, string, ...Option) (*ActivationReport, error)
	}{{"Activate", Activate}, {"Renew", Renew}} {
		t.Run(fn.name, func(t *testing.T) {
			for _, id := range []string{"", "  "} {
				_, err := fn.call(ctx, store, id)
				want := "impersonation: " + fn.name + ": empty organization ID; save the organization with store.Create first and pass the ID it returns"
				if err == nil || err.Error() != want {
					t.Errorf("%s(store, %q) error = %v, want %q", fn.name, id, err, want)
				}
				if !errors.Is(err, org.ErrNotFound) {
					t.Errorf("%s(store, %q) error = %v, want it to match org.ErrNotFound", fn.name, id, err)
				}
			}
			_, err := fn.call(ctx, nil, "abc")
			if want := "impersonation: " + fn.name + ": store is nil"; err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("%s(nil, \"abc\") error = %v, want it to start %q", fn.name, err, want)
			}
			var typedNil *org.MemoryStore // a nil pointer in the interface: no panic either
			if _, err := fn.call(ctx, typedNil, "abc"); err == nil || !strings.Contains(err.Error(), "store is nil") {
				t.Errorf("%s((*org.MemoryStore)(nil), \"abc\") error = %v, want one about the nil store", fn.name, err)
			}
		})
	}
}

// racingStore is a real org.Store that lets another writer save just
// before the first Update, so that Update fails with org.ErrConflict and
// the activation must re-read and re-apply. Embedding only the Store
// interface hides the memory store's locked read-modify-write, as a
// third-party store (a database) would.
type racingStore struct {
	org.Store
	raced  bool
	racer  func(context.Context, org.Store) error
	errors []error
}

func (s *racingStore) Update(ctx context.Context, o *org.Organization) (*org.Organization, error) {
	if !s.raced {
		s.raced = true
		if err := s.racer(ctx, s.Store); err != nil {
			return nil, err
		}
	}
	saved, err := s.Store.Update(ctx, o)
	if err != nil {
		s.errors = append(s.errors, err)
	}
	return saved, err
}

// TestActivateRetriesOnConflict: the store reports ErrConflict because
// another admin saved in between; Activate re-reads, re-applies only the
// sync outcomes, and both changes survive.
func TestActivateRetriesOnConflict(t *testing.T) {
	f, mem, o := activationFixture(t, 10, 6)
	ctx := context.Background()
	store := &racingStore{Store: mem, racer: func(ctx context.Context, s org.Store) error {
		x, err := s.Get(ctx, o.ID)
		if err != nil {
			return err
		}
		x.Name = "Contoso (renamed meanwhile)"
		x.Users = append(x.Users[:2], x.Users[3:]...) // user 2 removed meanwhile
		_, err = s.Update(ctx, x)
		return err
	}}
	ar, err := Activate(ctx, store, o.ID, f.options()...)
	if err != nil {
		t.Fatalf("Activate() error = %v", err)
	}
	if len(store.errors) != 1 || !errors.Is(store.errors[0], org.ErrConflict) {
		t.Fatalf("store errors = %v, want exactly one ErrConflict", store.errors)
	}
	got, _ := mem.Get(ctx, o.ID)
	if got.Name != "Contoso (renamed meanwhile)" || len(got.Users) != 9 {
		t.Fatalf("after Activate: name %q, %d users; want the concurrent rename and removal kept", got.Name, len(got.Users))
	}
	if ar.Activated != 8 || ar.Failed != 1 || ar.NotChecked != 1 {
		t.Errorf("Activate() = %+v, want 8 activated, 1 failed, and the removed user not applied", ar)
	}
	for _, u := range got.Users {
		want := org.Active
		if u.PrimarySMTP == o.Users[6].PrimarySMTP {
			want = org.Failed
		}
		if u.Sync.Status != want {
			t.Errorf("%s: %v, want %v", u.PrimarySMTP, u.Sync.Status, want)
		}
	}
}

// TestActivateDuplicateRows: a user listed twice gets one stored outcome,
// the real probe's. The second row fails validation ("listed twice"); that
// failure belongs to the row, not to the mailbox, and must neither
// overwrite the first row's outcome nor be counted as a second user.
func TestActivateDuplicateRows(t *testing.T) {
	f, store, o := activationFixture(t, 3, 1)
	// Rows 4 and 5 repeat users 0 (in scope) and 1 (out of scope).
	o.Users = append(o.Users, o.Users[0], o.Users[1])
	o.Users[4].PrimarySMTP = strings.ToUpper(o.Users[4].PrimarySMTP)
	o, err := store.Update(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := Activate(context.Background(), store, o.ID, f.options()...)
	if err != nil {
		t.Fatalf("Activate() error = %v", err)
	}
	if ar.Activated != 2 || ar.Failed != 1 || ar.Unchanged != 0 || ar.NotChecked != 2 {
		t.Errorf("Activate() = %+v, want 2 activated, 1 failed, 2 not checked (the duplicate rows)", ar)
	}
	got, _ := store.Get(context.Background(), o.ID)
	for i, want := range []struct {
		status org.SyncStatus
		code   string
	}{{org.Active, ""}, {org.Failed, string(ews.ErrorImpersonateUserDenied)}, {org.Active, ""}, {org.NotActivated, ""}, {org.NotActivated, ""}} {
		if s := got.Users[i].Sync; s.Status != want.status || s.Code != want.code {
			t.Errorf("user %d (%s) sync = %v %q, want %v %q", i, got.Users[i].PrimarySMTP, s.Status, s.Code, want.status, want.code)
		}
	}
}
