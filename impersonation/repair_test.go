package impersonation

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// rotateAccount moves the organization to a new service account, so that
// Renew re-checks every active user.
func rotateAccount(t *testing.T, f *fake, store org.Store, id string) {
	t.Helper()
	if err := f.srv.AddServiceAccount(`CONTOSO\svc-sync2`, "Rotated-Secret-7", scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	if _, err := org.Modify(context.Background(), store, id, func(x *org.Organization) error {
		x.Email.AccountLogon = `CONTOSO\svc-sync2`
		x.Email.Password = org.NewSecret("Rotated-Secret-7")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A mailbox whose user deleted a provisioned folder and the category gets
// both back on Renew, found or created as activation does, one copy each;
// the other mailbox is only verified.
func TestRenewRepairsProvisioning(t *testing.T) {
	ctx := context.Background()
	f, store, o, viewOf := activatedFixture(t, 2)
	broken := o.Users[0]
	view := viewOf(broken.PrimarySMTP)
	if _, err := view.DeleteFolder(ctx, &ews.DeleteFolderRequest{FolderIDs: []ews.FolderID{{ID: broken.Sync.Folders["tasks"]}}, DeleteType: ews.HardDelete}); err != nil {
		t.Fatal(err)
	}
	if _, err := view.RemoveCategories(ctx, []string{"CRM"}); err != nil {
		t.Fatal(err)
	}
	rotateAccount(t, f, store, o.ID)
	f.srv.ResetRequests()
	ar, err := Renew(ctx, store, o.ID, f.options()...)
	if err != nil {
		t.Fatalf("Renew() error = %v", err)
	}
	if ar.Renewed != 2 || ar.Provisioned != 2 || ar.Repaired != 1 || ar.ProvisionFailed != 0 {
		t.Errorf("Renew() = %+v, want 2 renewed and provisioned, 1 repaired", ar)
	}
	got, _ := store.Get(ctx, o.ID)
	st := got.Users[0].Sync
	if st.Folders["tasks"] == "" || st.Folders["tasks"] == broken.Sync.Folders["tasks"] || st.Folders["contacts"] != broken.Sync.Folders["contacts"] {
		t.Errorf("repaired folders = %v, want a new tasks folder and the others kept (%v)", st.Folders, broken.Sync.Folders)
	}
	if st.SyncStates["tasks"] == "" || st.SyncStates["tasks"] == broken.Sync.SyncStates["tasks"] {
		t.Errorf("repaired sync states = %v, want a new baseline of tasks", st.SyncStates)
	}
	for key, n := range ourFolders(t, view, o.Provisioning, o.ID) {
		if n != 1 {
			t.Errorf("%s holds %d folders %s, want 1", broken.PrimarySMTP, n, key)
		}
	}
	if names := categoryNames(t, view); !slices.Equal(names, []string{"CRM"}) {
		t.Errorf("master category list = %v, want CRM back", names)
	}
	// The intact mailbox: the check (its GetFolder carries the
	// verification) and one category read; nothing written.
	healthy := o.Users[1].PrimarySMTP
	if got, want := requestsFor(f.srv, healthy), map[string]int{"GetFolder": 1, "GetUserConfiguration": 1}; !mapsEqual(got, want) {
		t.Errorf("Renew() requests for %s = %v, want %v", healthy, got, want)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A plan that grows (a new folder, a new category) is provisioned by Renew
// without a configuration change; the users stay Active and renewed only
// in their provisioning.
func TestRenewProvisionsAChangedPlan(t *testing.T) {
	ctx := context.Background()
	f, store, o, viewOf := activatedFixture(t, 2)
	if _, err := org.Modify(ctx, store, o.ID, func(x *org.Organization) error {
		x.Provisioning.Folders = append(x.Provisioning.Folders, org.PlannedFolder{Key: "calendar", DisplayName: "CRM Calendar", FolderClass: "IPF.Appointment", Parent: "calendar"})
		x.Provisioning.Categories = append(x.Provisioning.Categories, org.PlannedCategory{Name: "CRM Partner", Color: 4})
		return x.Validate()
	}); err != nil {
		t.Fatal(err)
	}
	ar, err := Renew(ctx, store, o.ID, f.options()...)
	if err != nil {
		t.Fatalf("Renew() error = %v", err)
	}
	if ar.Skipped != 0 || ar.Provisioned != 2 || ar.Repaired != 2 || ar.Unchanged != 2 || ar.NeedsRenewal != 0 {
		t.Errorf("Renew() = %+v, want both users provisioned with the new plan and otherwise unchanged", ar)
	}
	got, _ := store.Get(ctx, o.ID)
	for _, u := range got.Users {
		if u.Sync.Status != org.Active || u.Sync.Folders["calendar"] == "" || !slices.Contains(u.Sync.Categories, "CRM Partner") {
			t.Errorf("%s sync = %+v, want Active with the calendar folder and the new category", u.PrimarySMTP, u.Sync)
		}
		if names := categoryNames(t, viewOf(u.PrimarySMTP)); !slices.Equal(names, []string{"CRM", "CRM Partner"}) {
			t.Errorf("%s master category list = %v, want CRM and CRM Partner", u.PrimarySMTP, names)
		}
	}
	// Covered now: nothing to renew.
	ar, err = Renew(ctx, store, o.ID, f.options()...)
	if err != nil || ar.Skipped != 2 || ar.Saved {
		t.Errorf("Renew(again) = %+v, %v; want both skipped", ar, err)
	}
}

// Activate repairs a deleted folder too (its verification notices), but
// re-reads categories only with WithCategoryCheck: the second run's one
// request per user stays one.
func TestActivateRepairsFoldersAndChecksCategoriesWhenAsked(t *testing.T) {
	ctx := context.Background()
	f, store, o, viewOf := activatedFixture(t, 1)
	u := o.Users[0]
	view := viewOf(u.PrimarySMTP)
	if _, err := view.DeleteFolder(ctx, &ews.DeleteFolderRequest{FolderIDs: []ews.FolderID{{ID: u.Sync.Folders["mail"]}}, DeleteType: ews.HardDelete}); err != nil {
		t.Fatal(err)
	}
	if _, err := view.RemoveCategories(ctx, []string{"CRM"}); err != nil {
		t.Fatal(err)
	}
	ar, err := Activate(ctx, store, o.ID, f.options()...)
	if err != nil || ar.Repaired != 1 {
		t.Fatalf("Activate() = %+v, %v; want the mailbox repaired", ar, err)
	}
	if n := ourFolders(t, view, o.Provisioning, o.ID)["mail"]; n != 1 {
		t.Errorf("mail folders of ours = %d, want 1", n)
	}
	if names := categoryNames(t, view); len(names) != 0 {
		t.Errorf("master category list = %v; Activate without WithCategoryCheck should not re-read it", names)
	}
	f.srv.ResetRequests()
	ar, err = Activate(ctx, store, o.ID, f.options(WithCategoryCheck())...)
	if err != nil || ar.Repaired != 1 {
		t.Fatalf("Activate(WithCategoryCheck) = %+v, %v; want the category put back", ar, err)
	}
	if got := requestsFor(f.srv, u.PrimarySMTP); got["GetUserConfiguration"] != 1 || got["UpdateUserConfiguration"] != 1 {
		t.Errorf("Activate(WithCategoryCheck) requests = %v, want one read and one write of the list", got)
	}
	if names := categoryNames(t, view); !slices.Equal(names, []string{"CRM"}) {
		t.Errorf("master category list = %v, want CRM back", names)
	}
}

// A mailbox over its quota cannot get its folder back: Renew fails the
// user with the quota remediation and leaves the other user renewed.
func TestRenewRepairOverQuota(t *testing.T) {
	ctx := context.Background()
	f, store, o, viewOf := activatedFixture(t, 2)
	broken := o.Users[0]
	if _, err := viewOf(broken.PrimarySMTP).DeleteFolder(ctx, &ews.DeleteFolderRequest{FolderIDs: []ews.FolderID{{ID: broken.Sync.Folders["contacts"]}}, DeleteType: ews.HardDelete}); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Inject(scctest.MessageError(ews.ErrorQuotaExceeded), scctest.ForOperation("CreateFolder"), scctest.ForMailbox(broken.PrimarySMTP)); err != nil {
		t.Fatal(err)
	}
	rotateAccount(t, f, store, o.ID)
	ar, err := Renew(ctx, store, o.ID, f.options()...)
	if err != nil {
		t.Fatalf("Renew() error = %v", err)
	}
	if ar.Renewed != 1 || ar.Failed != 1 || ar.ProvisionFailed != 1 {
		t.Errorf("Renew() = %+v, want 1 renewed, 1 failed in provisioning", ar)
	}
	got, _ := store.Get(ctx, o.ID)
	st := got.Users[0].Sync
	if st.Status != org.Failed || st.Code != string(ews.ErrorQuotaExceeded) || !strings.Contains(st.Remediation, "quota") {
		t.Errorf("sync = %s %q %q, want Failed with ErrorQuotaExceeded and the quota remediation", st.Status, st.Code, st.Remediation)
	}
	if got.Users[1].Sync.Status != org.Active {
		t.Errorf("user 1 status = %s, want Active", got.Users[1].Sync.Status)
	}
}
