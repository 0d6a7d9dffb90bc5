package impersonation

import (
	"context"
	"errors"
	"strings"
	"sync"
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

// A folder that holds items is kept, with a remediation, and stays
// recorded; the next removal tries it again, and WithRemoveContent moves
// it to Deleted Items with its item.
func TestDeactivateKeepsFolderThatIsNotEmpty(t *testing.T) {
	ctx := context.Background()
	f, store, o, viewOf := activatedFixture(t, 2)
	u := o.Users[0]
	if _, err := f.srv.AddItem(u.PrimarySMTP, u.Sync.Folders["mail"], scctest.Message{Subject: "synced record"}); err != nil {
		t.Fatal(err)
	}
	dr, err := Deactivate(ctx, store, o.ID, f.options(WithRemoveProvisioning())...)
	if err != nil {
		t.Fatalf("Deactivate() error = %v", err)
	}
	if dr.Removed != 1 || dr.RemoveFailed != 1 {
		t.Errorf("Deactivate() = %+v, want 1 removed, 1 failed", dr)
	}
	res := dr.Results[0]
	if res.Status != StatusError || res.Code != codeFolderNotEmpty || !strings.Contains(res.Remediation, "WithRemoveContent") ||
		len(res.KeptFolders) != 1 || res.KeptFolders[0].Key != "mail" || res.KeptFolders[0].Reason != KeptNotEmpty ||
		res.KeptFolders[0].TotalCount != 1 || len(res.RemovedFolders) != 2 || len(res.RemovedCategories) != 1 {
		t.Errorf("result = %+v, want the mail folder kept (1 item), the others and the category removed", res)
	}
	got, _ := store.Get(ctx, o.ID)
	st := got.Users[0].Sync
	if st.Status != org.Deactivated || st.Code != string(codeFolderNotEmpty) || st.Remediation == "" ||
		len(st.Folders) != 1 || st.Folders["mail"] != u.Sync.Folders["mail"] || len(st.Categories) != 0 {
		t.Errorf("sync = %+v, want Deactivated with folder-not-empty, only the mail folder recorded", st)
	}
	view := viewOf(u.PrimarySMTP)
	if n := ourFolders(t, view, o.Provisioning, o.ID); n["mail"] != 1 || n["contacts"]+n["tasks"] != 0 {
		t.Errorf("folders of ours = %v, want the mail folder alone", n)
	}

	// Again: only the user with something left is worked on.
	f.srv.ResetRequests()
	dr, err = Deactivate(ctx, store, o.ID, f.options(WithRemoveProvisioning())...)
	if err != nil || len(dr.Results) != 1 || dr.RemoveFailed != 1 {
		t.Fatalf("Deactivate(again) = %+v, %v; want the one user retried and failing", dr, err)
	}
	if n := len(requestsFor(f.srv, o.Users[1].PrimarySMTP)); n != 0 {
		t.Errorf("Deactivate(again) sent %d requests for the clean user, want none", n)
	}

	// With content: moved to Deleted Items with its item.
	dr, err = Deactivate(ctx, store, o.ID, f.options(WithRemoveContent())...)
	if err != nil || dr.Removed != 1 || dr.RemoveFailed != 0 {
		t.Fatalf("Deactivate(WithRemoveContent) = %+v, %v; want the user removed", dr, err)
	}
	moved := named(children(t, view, ews.FolderDeletedItems), "CRM")
	if len(moved) != 1 || moved[0].FolderID.ID != u.Sync.Folders["mail"] {
		t.Fatalf("Deleted Items holds %v, want the mail folder", moved)
	}
	if items, err := f.srv.Items(u.PrimarySMTP, moved[0].FolderID.ID); err != nil || len(items) != 1 {
		t.Errorf("Items(moved folder) = %v, %v; want the item kept", items, err)
	}
	got, _ = store.Get(ctx, o.ID)
	if st := got.Users[0].Sync; len(st.Folders) != 0 || st.Code != "" {
		t.Errorf("sync = %+v, want nothing recorded and no failure", st)
	}
}

// A folder without this organization's marker is never removed, also when
// the record points at it; a marked folder the record lost (an activation
// that crashed before saving) is found by its marker and removed.
func TestDeactivateRemovesOnlyMarkedFolders(t *testing.T) {
	ctx := context.Background()
	f, store, o, viewOf := activatedFixture(t, 1)
	u := o.Users[0]
	view := viewOf(u.PrimarySMTP)
	// The user replaces the tasks folder with one of their own.
	if _, err := view.DeleteFolder(ctx, &ews.DeleteFolderRequest{FolderIDs: []ews.FolderID{{ID: u.Sync.Folders["tasks"]}}, DeleteType: ews.HardDelete}); err != nil {
		t.Fatal(err)
	}
	resp, err := view.CreateFolder(ctx, &ews.CreateFolderRequest{ParentFolderID: ews.DistinguishedFolder(ews.FolderTasks),
		Folders: []ews.Folder{{Kind: ews.FolderKindTasksFolder, DisplayName: "CRM Tasks"}}})
	if err != nil || resp.Results[0].Err != nil {
		t.Fatalf("CreateFolder = %v, %+v", err, resp)
	}
	hand := resp.Results[0].Folder.FolderID.ID
	// The record points at the hand-made folder, and lost the contacts
	// folder.
	if _, err := org.Modify(ctx, store, o.ID, func(x *org.Organization) error {
		x.Users[0].Sync.Folders["tasks"] = hand
		delete(x.Users[0].Sync.Folders, "contacts")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	dr, err := Deactivate(ctx, store, o.ID, f.options(WithRemoveProvisioning())...)
	if err != nil || dr.Removed != 1 {
		t.Fatalf("Deactivate() = %+v, %v; want the user removed", dr, err)
	}
	res := dr.Results[0]
	if len(res.RemovedFolders) != 2 || len(res.KeptFolders) != 1 || res.KeptFolders[0].Reason != KeptNotOurs || res.KeptFolders[0].FolderID != hand {
		t.Errorf("result = %+v, want contacts and mail removed, the hand-made tasks folder kept as not ours", res)
	}
	got := named(children(t, view, ews.FolderTasks), "CRM Tasks")
	if len(got) != 1 || got[0].FolderID.ID != hand {
		t.Errorf("tasks holds %v, want the hand-made folder untouched", got)
	}
	if n := ourFolders(t, view, o.Provisioning, o.ID); len(n) != 0 {
		t.Errorf("folders of ours left: %v", n)
	}
	after, _ := store.Get(ctx, o.ID)
	if st := after.Users[0].Sync; len(st.Folders) != 0 {
		t.Errorf("record = %v, want nothing (the hand-made folder is not ours to record)", st.Folders)
	}
}

// Exchange refusing the delete (access denied) or the category list's
// write (quota) fails that user with a remediation and keeps what is left
// recorded; the other users are removed, and a rerun finishes the job.
func TestDeactivateRemovalFailuresArePerUser(t *testing.T) {
	ctx := context.Background()
	f, store, o, viewOf := activatedFixture(t, 3)
	denied, full := o.Users[0].PrimarySMTP, o.Users[1].PrimarySMTP
	if err := f.srv.Inject(scctest.MessageError(ews.ErrorAccessDenied), scctest.ForOperation("DeleteFolder"), scctest.ForMailbox(denied)); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Inject(scctest.MessageError(ews.ErrorQuotaExceeded), scctest.ForOperation("UpdateUserConfiguration"), scctest.ForMailbox(full)); err != nil {
		t.Fatal(err)
	}
	dr, err := Deactivate(ctx, store, o.ID, f.options(WithRemoveProvisioning())...)
	if err != nil {
		t.Fatalf("Deactivate() error = %v", err)
	}
	if dr.Deactivated != 3 || dr.Removed != 1 || dr.RemoveFailed != 2 {
		t.Errorf("Deactivate() = %+v, want 3 deactivated, 1 removed, 2 failed", dr)
	}
	got, _ := store.Get(ctx, o.ID)
	tests := []struct {
		user    int
		code    ews.ResponseCode
		fix     string
		folders int
		cats    int
	}{
		{0, ews.ErrorAccessDenied, "delete folders", 3, 0},
		{1, ews.ErrorQuotaExceeded, "quota", 0, 1},
		{2, "", "", 0, 0},
	}
	for _, tt := range tests {
		res, st := dr.Results[tt.user], got.Users[tt.user].Sync
		if res.Code != tt.code || !strings.Contains(res.Remediation, tt.fix) {
			t.Errorf("user %d result = %s %q %q, want %q with a remediation mentioning %q", tt.user, res.Status, res.Code, res.Remediation, tt.code, tt.fix)
		}
		if st.Status != org.Deactivated || st.Code != string(tt.code) || len(st.Folders) != tt.folders || len(st.Categories) != tt.cats {
			t.Errorf("user %d sync = %+v, want Deactivated, code %q, %d folders and %d categories recorded", tt.user, st, tt.code, tt.folders, tt.cats)
		}
	}
	f.srv.ClearFaults()
	dr, err = Deactivate(ctx, store, o.ID, f.options(WithRemoveProvisioning())...)
	if err != nil || dr.Removed != 2 || dr.RemoveFailed != 0 || len(dr.Results) != 2 {
		t.Fatalf("Deactivate(again) = %+v, %v; want the two users finished", dr, err)
	}
	for _, u := range got.Users {
		view := viewOf(u.PrimarySMTP)
		if n := ourFolders(t, view, o.Provisioning, o.ID); len(n) != 0 {
			t.Errorf("%s still holds %v", u.PrimarySMTP, n)
		}
		if names := categoryNames(t, view); len(names) != 0 {
			t.Errorf("%s master category list = %v, want empty", u.PrimarySMTP, names)
		}
	}
}

// A wrong password stops the removal at the preflight: every user is
// deactivated all the same, nothing is removed, and the record says what
// is left for the next run.
func TestDeactivateRemovalStoppedByWrongPassword(t *testing.T) {
	ctx := context.Background()
	f, store, o, _ := activatedFixture(t, 2)
	if err := f.srv.SetPassword(testLogon, "Changed-Elsewhere-1"); err != nil {
		t.Fatal(err)
	}
	dr, err := Deactivate(ctx, store, o.ID, f.options(WithRemoveProvisioning())...)
	var se *StopError
	if !errors.As(err, &se) || se.Status != StatusAuthFailed {
		t.Fatalf("Deactivate() error = %v, want an auth-failed *StopError", err)
	}
	if dr.Deactivated != 2 || dr.NotChecked != 2 || dr.Stopped == nil {
		t.Errorf("Deactivate() = %+v, want 2 deactivated and not checked, stopped", dr)
	}
	if n := f.srv.FailedLogons(testLogon); n != 1 {
		t.Errorf("failed logons = %d, want 1 (the preflight's)", n)
	}
	got, _ := store.Get(ctx, o.ID)
	for _, u := range got.Users {
		if u.Sync.Status != org.Deactivated || len(u.Sync.Folders) != 3 {
			t.Errorf("%s sync = %+v, want Deactivated with its folders recorded", u.PrimarySMTP, u.Sync)
		}
	}
}

// Deactivate and Activate of the same organization at once, repeatedly:
// every mailbox holds at most one folder of each, every folder of ours in
// it is recorded, and a final deactivation (then activation) leaves none
// (then exactly one).
func TestDeactivateConcurrentWithActivate(t *testing.T) {
	ctx := context.Background()
	f, store, o, viewOf := activatedFixture(t, 4)
	check := func(round int) {
		t.Helper()
		got, _ := store.Get(ctx, o.ID)
		for _, u := range got.Users {
			view := viewOf(u.PrimarySMTP)
			for _, pf := range o.Provisioning.Folders {
				for _, fl := range named(children(t, view, ews.DistinguishedFolderName(pf.Parent)), pf.DisplayName) {
					if v, _ := owner(&fl); v != o.ID {
						continue
					}
					if u.Sync.Folders[pf.Key] != fl.FolderID.ID {
						t.Errorf("round %d: %s holds folder %s %s, not recorded (record %v)", round, u.PrimarySMTP, pf.Key, fl.FolderID.ID, u.Sync.Folders)
					}
				}
			}
			for key, n := range ourFolders(t, view, o.Provisioning, o.ID) {
				if n > 1 {
					t.Errorf("round %d: %s holds %d folders %s", round, u.PrimarySMTP, n, key)
				}
			}
			// Failed is possible too: an activation whose folder the
			// concurrent removal deleted under it fails that user, and the
			// next run repairs it (the settle below checks that).
			switch s := u.Sync.Status; {
			case s == org.Failed && (u.Sync.Code == "" || u.Sync.Remediation == ""):
				t.Errorf("round %d: %s Failed without a code and a remediation: %+v", round, u.PrimarySMTP, u.Sync)
			case s != org.Active && s != org.Deactivated && s != org.Failed:
				t.Errorf("round %d: %s status %s, want Active, Deactivated or (raced) Failed: %+v", round, u.PrimarySMTP, s, u.Sync)
			}
		}
	}
	for round := range 6 {
		var wg sync.WaitGroup
		var aerr, derr error
		wg.Add(2)
		go func() { defer wg.Done(); _, aerr = Activate(ctx, store, o.ID, f.options()...) }()
		go func() {
			defer wg.Done()
			_, derr = Deactivate(ctx, store, o.ID, f.options(WithRemoveProvisioning())...)
		}()
		wg.Wait()
		if aerr != nil || derr != nil {
			t.Fatalf("round %d: Activate() error = %v, Deactivate() error = %v", round, aerr, derr)
		}
		check(round)
	}
	// Settle: a deactivation removes everything, an activation makes one
	// of each.
	if _, err := Deactivate(ctx, store, o.ID, f.options(WithRemoveProvisioning(), WithUsers(addresses(o)...))...); err != nil {
		t.Fatal(err)
	}
	got, _ := store.Get(ctx, o.ID)
	for _, u := range got.Users {
		if n := ourFolders(t, viewOf(u.PrimarySMTP), o.Provisioning, o.ID); len(n) != 0 || len(u.Sync.Folders) != 0 {
			t.Errorf("after the last deactivation %s holds %v, records %v", u.PrimarySMTP, n, u.Sync.Folders)
		}
	}
	if ar, err := Activate(ctx, store, o.ID, f.options()...); err != nil || ar.Provisioned != 4 {
		t.Fatalf("Activate() = %+v, %v", ar, err)
	}
	for _, u := range got.Users {
		for _, pf := range o.Provisioning.Folders {
			if n := ourFolders(t, viewOf(u.PrimarySMTP), o.Provisioning, o.ID)[pf.Key]; n != 1 {
				t.Errorf("after the last activation %s holds %d folders %s, want 1", u.PrimarySMTP, n, pf.Key)
			}
		}
	}
}

func addresses(o *org.Organization) []string {
	var out []string
	for _, u := range o.Users {
		out = append(out, u.PrimarySMTP)
	}
	return out
}
