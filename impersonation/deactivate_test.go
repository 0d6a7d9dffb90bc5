package impersonation

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// activatedFixture is an organization of n mailboxes activated with the
// default plan (folders and the category CRM), and a client per mailbox.
func activatedFixture(t *testing.T, n int) (*fake, *org.MemoryStore, *org.Organization, func(addr string) *ews.Client) {
	t.Helper()
	ctx := context.Background()
	f, store, o := activationFixture(t, n)
	o.Provisioning = org.DefaultProvisioningPlan("CRM")
	o, err := store.Update(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := Activate(ctx, store, o.ID, f.options()...)
	if err != nil || ar.Activated != n || ar.Provisioned != n {
		t.Fatalf("Activate() = %+v, %v; want %d activated and provisioned", ar, err, n)
	}
	o, _ = store.Get(ctx, o.ID)
	c, err := NewEWSClient(f.cfg, ews.WithHTTPClient(f.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	view := func(addr string) *ews.Client {
		return c.With(ews.Impersonate(ews.PrimarySmtpAddress(addr)), ews.AnchorMailbox(addr))
	}
	return f, store, o, view
}

// ourFolders counts, per plan folder, the folders of its name in its
// parent that carry the organization's marker.
func ourFolders(t *testing.T, view *ews.Client, plan *org.ProvisioningPlan, orgID string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, pf := range plan.Folders {
		for _, f := range named(children(t, view, ews.DistinguishedFolderName(pf.Parent)), pf.DisplayName) {
			if v, _ := owner(&f); v == orgID {
				out[pf.Key]++
			}
		}
	}
	return out
}

// categoryNames lists the master category list's names.
func categoryNames(t *testing.T, view *ews.Client) []string {
	t.Helper()
	cats, err := view.Categories(context.Background())
	if err != nil {
		t.Fatalf("Categories() error = %v", err)
	}
	var names []string
	for _, c := range cats {
		names = append(names, c.Name)
	}
	return names
}

// Deactivate without removal only records: no request to Exchange.
func TestDeactivateStopsSyncWithoutRequests(t *testing.T) {
	ctx := context.Background()
	f, store, o, _ := activatedFixture(t, 3)
	f.srv.ResetRequests()
	t1 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	dr, err := Deactivate(ctx, store, o.ID, f.options(withClock(func() time.Time { return t1 }))...)
	if err != nil {
		t.Fatalf("Deactivate() error = %v", err)
	}
	if dr.Deactivated != 3 || dr.Unchanged != 0 || !dr.Saved || len(dr.Results) != 3 {
		t.Errorf("Deactivate() = %+v, want 3 deactivated, saved", dr)
	}
	if n := len(f.srv.Requests()); n != 0 {
		t.Errorf("Deactivate() sent %d requests, want none", n)
	}
	got, _ := store.Get(ctx, o.ID)
	for i, u := range got.Users {
		st := u.Sync
		if st.Status != org.Deactivated || !st.DeactivatedAt.Equal(t1) || len(st.Folders) != 3 || st.ActivatedAt.IsZero() {
			t.Errorf("user %d sync = %+v, want Deactivated at %v, folders and ActivatedAt kept", i, st, t1)
		}
	}
	// Again: nothing to do, nothing written.
	dr2, err := Deactivate(ctx, store, o.ID, f.options()...)
	if err != nil || dr2.Deactivated != 0 || dr2.Saved || len(dr2.Results) != 0 {
		t.Errorf("Deactivate(again) = %+v, %v; want nothing selected, nothing saved", dr2, err)
	}
	if again, _ := store.Get(ctx, o.ID); again.Version != got.Version {
		t.Errorf("Deactivate(again) moved the version from %d to %d", got.Version, again.Version)
	}
}

// WithUsers selects by address; unknown addresses are reported.
func TestDeactivateSelectsByAddress(t *testing.T) {
	ctx := context.Background()
	f, store, o, _ := activatedFixture(t, 3)
	dr, err := Deactivate(ctx, store, o.ID, f.options(WithUsers(strings.ToUpper(o.Users[1].PrimarySMTP), "nobody@contoso.example"))...)
	if err != nil {
		t.Fatalf("Deactivate() error = %v", err)
	}
	if dr.Deactivated != 1 || len(dr.Unknown) != 1 || dr.Unknown[0] != "nobody@contoso.example" {
		t.Errorf("Deactivate() = %+v, want user 1 deactivated and the unknown address listed", dr)
	}
	got, _ := store.Get(ctx, o.ID)
	for i, u := range got.Users {
		want := org.Active
		if i == 1 {
			want = org.Deactivated
		}
		if u.Sync.Status != want {
			t.Errorf("user %d status = %s, want %s", i, u.Sync.Status, want)
		}
	}
	// Renew leaves the deactivated user alone; Activate activates it again.
	rr, err := Renew(ctx, store, o.ID, f.options()...)
	if err != nil || rr.Skipped != 3 {
		t.Errorf("Renew() = %+v, %v; want every user skipped", rr, err)
	}
	ar, err := Activate(ctx, store, o.ID, f.options()...)
	if err != nil || ar.Activated != 1 {
		t.Errorf("Activate() = %+v, %v; want the deactivated user activated again", ar, err)
	}
}

// With removal, the folders and the category go, the record is emptied,
// and a second run sends nothing.
func TestDeactivateRemovesProvisioning(t *testing.T) {
	ctx := context.Background()
	f, store, o, viewOf := activatedFixture(t, 3)
	f.srv.ResetRequests()
	dr, err := Deactivate(ctx, store, o.ID, f.options(WithRemoveProvisioning())...)
	if err != nil {
		t.Fatalf("Deactivate() error = %v", err)
	}
	if dr.Deactivated != 3 || dr.Removed != 3 || dr.RemoveFailed != 0 {
		t.Errorf("Deactivate() = %+v, want 3 deactivated and removed", dr)
	}
	for _, res := range dr.Results {
		if res.Status != StatusOK || len(res.RemovedFolders) != 3 || len(res.RemovedCategories) != 1 || res.Writes != 2 {
			t.Errorf("result %+v, want ok with 3 folders and 1 category removed in 2 writes", res)
		}
	}
	got, _ := store.Get(ctx, o.ID)
	for i, u := range got.Users {
		st := u.Sync
		if st.Status != org.Deactivated || len(st.Folders) != 0 || len(st.Categories) != 0 || st.Code != "" {
			t.Errorf("user %d sync = %+v, want Deactivated with nothing recorded", i, st)
		}
		view := viewOf(u.PrimarySMTP)
		if n := ourFolders(t, view, o.Provisioning, o.ID); len(n) != 0 {
			t.Errorf("user %d still holds folders of ours: %v", i, n)
		}
		if names := categoryNames(t, view); len(names) != 0 {
			t.Errorf("user %d master category list = %v, want empty", i, names)
		}
	}
	// Again: nothing left, so no request and no save.
	f.srv.ResetRequests()
	dr2, err := Deactivate(ctx, store, o.ID, f.options(WithRemoveProvisioning())...)
	if err != nil || dr2.Saved || len(dr2.Results) != 0 {
		t.Errorf("Deactivate(again) = %+v, %v; want nothing to do", dr2, err)
	}
	if n := len(f.srv.Requests()); n != 0 {
		t.Errorf("Deactivate(again) sent %d requests, want none", n)
	}
	// Activating again provisions anew, one copy of each folder.
	ar, err := Activate(ctx, store, o.ID, f.options()...)
	if err != nil || ar.Activated != 3 || ar.Provisioned != 3 {
		t.Fatalf("Activate(after deactivation) = %+v, %v", ar, err)
	}
	for _, u := range got.Users {
		for key, n := range ourFolders(t, viewOf(u.PrimarySMTP), o.Provisioning, o.ID) {
			if n != 1 {
				t.Errorf("%s holds %d folders %s, want 1", u.PrimarySMTP, n, key)
			}
		}
	}
}

var _ = scctest.Grant{}
