package impersonation

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// requestsFor counts the fake's logged requests impersonating addr, by
// operation.
func requestsFor(srv *scctest.Server, addr string) map[string]int {
	m := map[string]int{}
	for _, r := range srv.Requests() {
		if r.Impersonated == addr && r.Operation != "" {
			m[r.Operation]++
		}
	}
	return m
}

// Activation takes each baseline folder's sync state to the end (an inbox
// of 600 items takes two pages) and records it; the second run sends no
// sync request, and a new folder gets a new baseline while the others
// keep theirs.
func TestActivateTakesBaselines(t *testing.T) {
	ctx := context.Background()
	f, store, o := activationFixture(t, 2)
	plan := folderPlan()
	plan.BaselineFolders = append(plan.BaselineFolders, "inbox")
	o.Provisioning = plan
	o, err := store.Update(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	addr := o.Users[0].PrimarySMTP
	for i := range 600 {
		if _, err := f.srv.AddItem(addr, "inbox", scctest.Message{Subject: fmt.Sprintf("mail %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	ar, err := Activate(ctx, store, o.ID, f.options()...)
	if err != nil || ar.Provisioned != 2 {
		t.Fatalf("Activate() = %+v, %v; want 2 provisioned", ar, err)
	}
	if n := requestsFor(f.srv, addr)["SyncFolderItems"]; n != 5 {
		t.Errorf("Activate() sent %d SyncFolderItems for %s, want 5 (two pages of the inbox, one per new folder)", n, addr)
	}
	got, _ := store.Get(ctx, o.ID)
	st := got.Users[0].Sync
	for _, b := range plan.BaselineFolders {
		if st.SyncStates[b] == "" {
			t.Errorf("user 0 has no baseline of %s: %v", b, st.SyncStates)
		}
	}
	// The inbox state is the end: nothing to sync from it, and a new mail
	// is the one change after it.
	c, err := NewEWSClient(f.cfg, ews.WithHTTPClient(f.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	view := c.With(ews.Impersonate(ews.PrimarySmtpAddress(addr)), ews.AnchorMailbox(addr))
	if _, err := f.srv.DeliverMail(addr, "inbox", scctest.Message{Subject: "after activation"}); err != nil {
		t.Fatal(err)
	}
	resp, err := view.SyncFolderItems(ctx, &ews.SyncFolderItemsRequest{FolderID: ews.DistinguishedFolder(ews.FolderInbox), SyncState: st.SyncStates["inbox"]})
	if err != nil || len(resp.Changes) != 1 || resp.Changes[0].Type != ews.ChangeCreate || !resp.IncludesLastItemInRange {
		t.Fatalf("SyncFolderItems(inbox, baseline) = %+v, %v; want the one new mail", resp, err)
	}

	// Again: verification only.
	f.srv.ResetRequests()
	if _, err := Activate(ctx, store, o.ID, f.options()...); err != nil {
		t.Fatal(err)
	}
	for _, u := range got.Users {
		if diff := cmp.Diff(map[string]int{"GetFolder": 1}, requestsFor(f.srv, u.PrimarySMTP)); diff != "" {
			t.Errorf("Activate(again) requests for %s (-want +got; the check's GetFolder, which carries the verification):\n%s", u.PrimarySMTP, diff)
		}
	}
	again, _ := store.Get(ctx, o.ID)
	if diff := cmp.Diff(st.SyncStates, again.Users[0].Sync.SyncStates); diff != "" {
		t.Errorf("Activate(again) changed the sync states (-before +after):\n%s", diff)
	}

	// The user deletes the tasks folder for good: activation makes a new
	// one and takes its baseline alone.
	if _, err := view.DeleteFolder(ctx, &ews.DeleteFolderRequest{FolderIDs: []ews.FolderID{{ID: st.Folders["tasks"]}}, DeleteType: ews.HardDelete}); err != nil {
		t.Fatal(err)
	}
	f.srv.ResetRequests()
	if _, err := Activate(ctx, store, o.ID, f.options()...); err != nil {
		t.Fatal(err)
	}
	if n := requestsFor(f.srv, addr)["SyncFolderItems"]; n != 1 {
		t.Errorf("Activate(tasks deleted) sent %d SyncFolderItems, want 1 (the new tasks folder)", n)
	}
	after, _ := store.Get(ctx, o.ID)
	ast := after.Users[0].Sync
	if ast.Folders["tasks"] == st.Folders["tasks"] || ast.SyncStates["tasks"] == st.SyncStates["tasks"] || ast.SyncStates["tasks"] == "" {
		t.Errorf("after the tasks folder was deleted: folders %v, states %v; want a new folder and a new baseline", ast.Folders, ast.SyncStates)
	}
	for _, b := range []string{"inbox", "contacts", "mail"} {
		if ast.SyncStates[b] != st.SyncStates[b] {
			t.Errorf("the baseline of %s changed, want it kept", b)
		}
	}
}

// A failed baseline is the user's provisioning failure, with its cause;
// the next run takes it.
func TestActivateBaselineFailure(t *testing.T) {
	ctx := context.Background()
	f, store, o := activationFixture(t, 1)
	o.Provisioning = folderPlan()
	o, err := store.Update(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Inject(scctest.MessageError(ews.ErrorAccessDenied), scctest.ForOperation("SyncFolderItems")); err != nil {
		t.Fatal(err)
	}
	ar, err := Activate(ctx, store, o.ID, f.options()...)
	if err != nil || ar.ProvisionFailed != 1 {
		t.Fatalf("Activate() = %+v, %v; want the provisioning failed", ar, err)
	}
	got, _ := store.Get(ctx, o.ID)
	if st := got.Users[0].Sync; st.Status != org.Failed || st.Code != string(ews.ErrorAccessDenied) || len(st.Folders) != 3 || len(st.SyncStates) != 0 {
		t.Errorf("sync = %+v, want Failed with ErrorAccessDenied, the folders recorded and no states", st)
	}
	f.srv.ClearFaults()
	ar, err = Activate(ctx, store, o.ID, f.options()...)
	if err != nil || ar.Provisioned != 1 {
		t.Fatalf("Activate(again) = %+v, %v; want provisioned", ar, err)
	}
	got, _ = store.Get(ctx, o.ID)
	if st := got.Users[0].Sync; st.Status != org.Active || len(st.SyncStates) != 3 {
		t.Errorf("sync = %+v, want Active with 3 baselines", st)
	}
}
