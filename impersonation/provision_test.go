package impersonation

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// provisionFixture is a fake with n mailboxes the service account may
// impersonate, and a client per mailbox that impersonates it.
func provisionFixture(t *testing.T, n int) (*fake, []org.User, func(addr string) *ews.Client) {
	t.Helper()
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, n)
	c, err := NewEWSClient(f.cfg, ews.WithHTTPClient(f.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	view := func(addr string) *ews.Client {
		return c.With(ews.Impersonate(ews.PrimarySmtpAddress(addr)), ews.AnchorMailbox(addr))
	}
	return f, users, view
}

// folderPlan is the default plan without its category: the folder tests
// do not depend on the fake's user configuration.
func folderPlan() *org.ProvisioningPlan {
	p := org.DefaultProvisioningPlan("CRM")
	p.Categories = nil
	return p
}

// opCounts counts the fake's logged requests by operation.
func opCounts(srv *scctest.Server) map[string]int {
	m := map[string]int{}
	for _, r := range srv.Requests() {
		if r.Operation != "" {
			m[r.Operation]++
		}
	}
	return m
}

// children lists the folders of parent in the mailbox view impersonates,
// with their marker.
func children(t *testing.T, view *ews.Client, parent ews.DistinguishedFolderName) []ews.Folder {
	t.Helper()
	resp, err := view.FindFolder(context.Background(), &ews.FindFolderRequest{
		ParentFolderIDs:      []ews.FolderID{ews.DistinguishedFolder(parent)},
		AdditionalProperties: []ews.FieldURI{ews.FieldFolderDisplayName, ews.FieldFolderClass},
		ExtendedProperties:   []ews.ExtendedFieldURI{ProvisionMarker()},
	})
	if err != nil || resp.Results[0].Err != nil {
		t.Fatalf("FindFolder(%s) = %v, %v", parent, err, resp)
	}
	return resp.Results[0].Folders
}

func named(fs []ews.Folder, name string) []ews.Folder {
	var out []ews.Folder
	for _, f := range fs {
		if strings.EqualFold(f.DisplayName, name) {
			out = append(out, f)
		}
	}
	return out
}

func TestProvisionMailboxCreatesOnceThenVerifies(t *testing.T) {
	ctx := context.Background()
	f, users, viewOf := provisionFixture(t, 1)
	addr := users[0].PrimarySMTP
	view := viewOf(addr)
	plan := folderPlan()

	first, err := ProvisionMailbox(ctx, view, "contoso", plan, org.SyncState{})
	if err != nil {
		t.Fatalf("ProvisionMailbox(first) error = %v", err)
	}
	if len(first.Folders) != 3 || first.Verified || first.Writes != 3 {
		t.Fatalf("ProvisionMailbox(first) = %+v, want 3 folders created with writes", first)
	}
	for _, pf := range first.Folders {
		if !pf.Created || pf.FolderID == "" {
			t.Errorf("ProvisionMailbox(first) folder %+v, want created with an id", pf)
		}
	}
	// The mailbox holds each folder once, of the plan's class, marked.
	for _, pf := range plan.Folders {
		got := named(children(t, view, ews.DistinguishedFolderName(pf.Parent)), pf.DisplayName)
		if len(got) != 1 {
			t.Fatalf("%s has %d folders %q, want 1", pf.Parent, len(got), pf.DisplayName)
		}
		if got[0].FolderClass != pf.FolderClass {
			t.Errorf("folder %q has class %q, want %q", pf.DisplayName, got[0].FolderClass, pf.FolderClass)
		}
		if v, ok := owner(&got[0]); !ok || v != "contoso" {
			t.Errorf("folder %q has marker %q, %v; want contoso", pf.DisplayName, v, ok)
		}
	}
	// The plan's three baselines were taken, one SyncFolderItems each (the
	// new folders are empty).
	if len(first.SyncStates) != 3 || first.SyncStates["contacts"] == "" || first.SyncStates["tasks"] == "" || first.SyncStates["mail"] == "" {
		t.Errorf("ProvisionMailbox(first).SyncStates = %v, want the baselines of contacts, tasks and mail", first.SyncStates)
	}
	// A second run with the record: one request, no writes, no sync.
	recorded := org.SyncState{Folders: first.FolderIDs(), Categories: first.Categories, SyncStates: first.SyncStates}
	f.srv.ResetRequests()
	second, err := ProvisionMailbox(ctx, view, "contoso", plan, recorded)
	if err != nil {
		t.Fatalf("ProvisionMailbox(second) error = %v", err)
	}
	if !second.Verified || second.Requests != 1 || second.Writes != 0 {
		t.Errorf("ProvisionMailbox(second) = Verified %v, %d requests, %d writes; want verified with 1 request and no writes", second.Verified, second.Requests, second.Writes)
	}
	if diff := cmp.Diff(map[string]int{"GetFolder": 1}, opCounts(f.srv)); diff != "" {
		t.Errorf("second run's requests mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(first.FolderIDs(), second.FolderIDs()); diff != "" {
		t.Errorf("second run's folder ids mismatch (-want +got):\n%s", diff)
	}
	// The first run had no request to carry the parents; the second read
	// them, so that the next verification asks for the 3 folders alone.
	if first.ParentFolders != nil || len(second.ParentFolders) != 3 {
		t.Errorf("ParentFolders = %v, then %v; want none, then the 3 parents", first.ParentFolders, second.ParentFolders)
	}
	recorded.ParentFolders = second.ParentFolders
	var asked folderIDsAsked
	counted, err := NewEWSClient(f.cfg, ews.WithHTTPClient(f.srv.Client()), ews.WithTransportMiddleware(asked.middleware))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(counted.CloseIdleConnections)
	fourth, err := ProvisionMailbox(ctx, counted.With(ews.Impersonate(ews.PrimarySmtpAddress(addr)), ews.AnchorMailbox(addr)), "contoso", plan, recorded)
	if err != nil || !fourth.Verified || fourth.Requests != 1 {
		t.Errorf("ProvisionMailbox(parents recorded) = %+v, %v; want verified with 1 request", fourth, err)
	}
	if diff := cmp.Diff(map[string][]int{addr: {3}}, asked.take()); diff != "" {
		t.Errorf("ProvisionMailbox(parents recorded) GetFolder ids mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(second.ParentFolders, fourth.ParentFolders); diff != "" {
		t.Errorf("ProvisionMailbox(parents recorded) parents mismatch (-want +got):\n%s", diff)
	}

	// Without the record (lost, or another process), folders are found by
	// name and marker: no writes, no second copy.
	f.srv.ResetRequests()
	third, err := ProvisionMailbox(ctx, view, "contoso", plan, org.SyncState{})
	if err != nil {
		t.Fatalf("ProvisionMailbox(no record) error = %v", err)
	}
	if counts := opCounts(f.srv); counts["CreateFolder"] != 0 {
		t.Errorf("ProvisionMailbox(no record) sent writes: %v", counts)
	}
	if diff := cmp.Diff(first.FolderIDs(), third.FolderIDs()); diff != "" {
		t.Errorf("ProvisionMailbox(no record) folder ids mismatch (-want +got):\n%s", diff)
	}
}

func TestProvisionMailboxRecreatesDeletedKeepsRenamed(t *testing.T) {
	ctx := context.Background()
	_, users, viewOf := provisionFixture(t, 1)
	view := viewOf(users[0].PrimarySMTP)
	plan := folderPlan()
	first, err := ProvisionMailbox(ctx, view, "contoso", plan, org.SyncState{})
	if err != nil {
		t.Fatal(err)
	}
	ids := first.FolderIDs()
	// The user deletes the tasks folder (Outlook moves it to Deleted Items).
	if _, err := view.MoveFolder(ctx, &ews.MoveFolderRequest{
		ToFolderID: ews.DistinguishedFolder(ews.FolderDeletedItems), FolderIDs: []ews.FolderID{{ID: ids["tasks"]}}}); err != nil {
		t.Fatalf("MoveFolder: %v", err)
	}
	// And renames the contacts folder: still ours, by its marker.
	if _, err := view.RenameFolder(ctx, ews.Folder{Kind: ews.FolderKindContactsFolder, FolderID: ews.FolderID{ID: ids["contacts"]}}, "My CRM people"); err != nil {
		t.Fatalf("RenameFolder: %v", err)
	}
	again, err := ProvisionMailbox(ctx, view, "contoso", plan, org.SyncState{Folders: ids, Categories: first.Categories})
	if err != nil {
		t.Fatalf("ProvisionMailbox(after delete) error = %v", err)
	}
	got := again.FolderIDs()
	if got["tasks"] == ids["tasks"] || got["tasks"] == "" || got["contacts"] != ids["contacts"] || got["mail"] != ids["mail"] {
		t.Errorf("ProvisionMailbox(after delete) ids = %v, want a new tasks folder and the others kept (%v)", got, ids)
	}
	if n := len(named(children(t, view, ews.FolderContacts), "CRM Contacts")); n != 0 {
		t.Errorf("contacts has %d folders CRM Contacts, want none (the renamed one is kept)", n)
	}
	if n := len(named(children(t, view, ews.FolderTasks), "CRM Tasks")); n != 1 {
		t.Errorf("tasks has %d folders CRM Tasks, want 1", n)
	}
}

func TestProvisionMailboxConflicts(t *testing.T) {
	tests := []struct {
		name   string
		folder ews.Folder // made before provisioning, in contacts
		kind   ConflictKind
	}{
		{"other class", ews.Folder{Kind: ews.FolderKindFolder, FolderClass: "IPF.Note", DisplayName: "CRM Contacts"}, ConflictOtherClass},
		{"made by hand", ews.Folder{Kind: ews.FolderKindContactsFolder, DisplayName: "crm contacts"}, ConflictNotOurs},
		{"other organization", ews.Folder{Kind: ews.FolderKindContactsFolder, DisplayName: "CRM Contacts",
			ExtendedProperties: []ews.ExtendedProperty{{Field: ProvisionMarker(), Value: "fabrikam"}}}, ConflictOtherOrganization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			_, users, viewOf := provisionFixture(t, 1)
			view := viewOf(users[0].PrimarySMTP)
			if _, err := view.CreateFolder(ctx, &ews.CreateFolderRequest{ParentFolderID: ews.DistinguishedFolder(ews.FolderContacts), Folders: []ews.Folder{tt.folder}}); err != nil {
				t.Fatal(err)
			}
			res, err := ProvisionMailbox(ctx, view, "contoso", folderPlan(), org.SyncState{})
			var ce *FolderConflictError
			if !errors.As(err, &ce) || ce.Kind != tt.kind || ce.Key != "contacts" {
				t.Fatalf("ProvisionMailbox() error = %v, want a %s conflict on contacts", err, tt.kind)
			}
			if ce.Remediation() == "" {
				t.Errorf("conflict %v has no remediation", ce)
			}
			// The other folders are provisioned all the same; the user's
			// folder is left alone and not copied.
			if ids := res.FolderIDs(); ids["tasks"] == "" || ids["mail"] == "" || ids["contacts"] != "" {
				t.Errorf("ProvisionMailbox() ids = %v, want tasks and mail only", ids)
			}
			if n := len(named(children(t, view, ews.FolderContacts), "CRM Contacts")); n != 1 {
				t.Errorf("contacts has %d folders CRM Contacts, want the user's 1", n)
			}
		})
	}
}

// Provisioners racing on one mailbox (two activations at once) end with one
// folder of each name: the losers' ErrorFolderExists makes them look again.
func TestProvisionMailboxConcurrentCreatorsMakeOneCopy(t *testing.T) {
	ctx := context.Background()
	_, users, viewOf := provisionFixture(t, 1)
	view := viewOf(users[0].PrimarySMTP)
	plan := folderPlan()
	const n = 4
	results := make([]*ProvisionResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = ProvisionMailbox(ctx, view, "contoso", plan, org.SyncState{})
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("ProvisionMailbox #%d error = %v", i, errs[i])
		}
		if diff := cmp.Diff(results[0].FolderIDs(), results[i].FolderIDs()); diff != "" {
			t.Errorf("ProvisionMailbox #%d ids mismatch (-#0 +#%d):\n%s", i, i, diff)
		}
	}
	for _, pf := range plan.Folders {
		if got := len(named(children(t, view, ews.DistinguishedFolderName(pf.Parent)), pf.DisplayName)); got != 1 {
			t.Errorf("%s has %d folders %q, want 1", pf.Parent, got, pf.DisplayName)
		}
	}
}

func TestProvisionMailboxRejectsBadInput(t *testing.T) {
	_, users, viewOf := provisionFixture(t, 1)
	view := viewOf(users[0].PrimarySMTP)
	bad := org.DefaultProvisioningPlan("CRM")
	bad.Folders[0].Parent = "root"
	tests := []struct {
		name  string
		view  *ews.Client
		orgID string
		plan  *org.ProvisioningPlan
		want  string
	}{
		{"nil client", nil, "contoso", org.DefaultProvisioningPlan("CRM"), "client is nil"},
		{"empty org", view, " ", org.DefaultProvisioningPlan("CRM"), "empty organization ID"},
		{"invalid plan", view, "contoso", bad, "Provisioning Folders row 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ProvisionMailbox(context.Background(), tt.view, tt.orgID, tt.plan, org.SyncState{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ProvisionMailbox() error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestActivateProvisionsAndVerifies(t *testing.T) {
	ctx := context.Background()
	f, store, o := activationFixture(t, 5, 4)
	o.Provisioning = folderPlan()
	o, err := store.Update(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	// User 2 has a hand-made folder in the way.
	hand := o.Users[2].PrimarySMTP
	c, err := NewEWSClient(f.cfg, ews.WithHTTPClient(f.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.With(ews.Impersonate(ews.PrimarySmtpAddress(hand))).CreateFolder(ctx, &ews.CreateFolderRequest{
		ParentFolderID: ews.DistinguishedFolder(ews.FolderMsgFolderRoot),
		Folders:        []ews.Folder{{Kind: ews.FolderKindContactsFolder, DisplayName: "CRM"}}}); err != nil {
		t.Fatal(err)
	}

	ar, err := Activate(ctx, store, o.ID, f.options()...)
	if err != nil {
		t.Fatalf("Activate() error = %v", err)
	}
	if ar.Activated != 3 || ar.Failed != 2 || ar.Provisioned != 3 || ar.ProvisionFailed != 1 {
		t.Errorf("Activate() = %+v, want 3 activated and provisioned, 2 failed (1 out of scope, 1 provisioning)", ar)
	}
	got, _ := store.Get(ctx, o.ID)
	for i, u := range got.Users {
		switch i {
		case 2:
			if u.Sync.Status != org.Failed || u.Sync.Code != string(codeFolderConflict) || !strings.Contains(u.Sync.Remediation, "CRM") ||
				u.Sync.Folders["contacts"] == "" || u.Sync.Folders["mail"] != "" {
				t.Errorf("user %d sync = %+v, want Failed with folder-conflict, a remediation, and the folders that were made", i, u.Sync)
			}
		case 4:
			if u.Sync.Status != org.Failed || len(u.Sync.Folders) != 0 {
				t.Errorf("user %d (out of scope) sync = %+v, want Failed without folders", i, u.Sync)
			}
		default:
			if u.Sync.Status != org.Active || len(u.Sync.Folders) != 3 || u.Sync.ProvisionedAt.IsZero() {
				t.Errorf("user %d sync = %+v, want Active with 3 folders", i, u.Sync)
			}
		}
	}

	// Again: the check's GetFolder carries each provisioned user's
	// verification, so it costs no request on top, and nothing is written.
	f.srv.ResetRequests()
	ar2, err := Activate(ctx, store, o.ID, f.options()...)
	if err != nil {
		t.Fatalf("Activate(again) error = %v", err)
	}
	if ar2.Provisioned != 3 || ar2.ProvisionFailed != 1 {
		t.Errorf("Activate(again) = %+v, want 3 provisioned, 1 failed", ar2)
	}
	counts := opCounts(f.srv)
	for _, op := range []string{"CreateFolder", "CreateUserConfiguration", "UpdateUserConfiguration"} {
		if counts[op] != 0 {
			t.Errorf("Activate(again) sent %d %s, want none", counts[op], op)
		}
	}
	// Each provisioned user: the check's GetFolder, which verifies the
	// record too. User 2 is provisioned again (a GetFolder of its recorded
	// folders and a FindFolder); user 4 is refused before impersonation
	// resolves, so the fake logs no mailbox for it.
	var byUser = map[string]int{}
	for _, r := range f.srv.Requests() {
		if r.Impersonated != "" {
			byUser[r.Impersonated]++
		}
	}
	for i, u := range got.Users {
		want := 1
		if i == 2 || i == 4 {
			continue
		}
		if n := byUser[u.PrimarySMTP]; n != want {
			t.Errorf("Activate(again) sent %d requests for user %d, want %d", n, i, want)
		}
	}
	t.Logf("second activation: %v", counts)
}

// The plan's categories go into the master category list once; a run with
// the record reads nothing more for them.
func TestProvisionMailboxEnsuresCategories(t *testing.T) {
	ctx := context.Background()
	f, users, viewOf := provisionFixture(t, 1)
	view := viewOf(users[0].PrimarySMTP)
	if _, err := view.Categories(ctx); err != nil {
		var fe *ews.FaultError
		if errors.As(err, &fe) && fe.Code == ews.ErrorInvalidOperation && strings.Contains(fe.Message, "does not implement") {
			t.Skipf("the fake does not serve user configuration yet: %v", err)
		}
		t.Fatalf("Categories() error = %v", err)
	}
	plan := org.DefaultProvisioningPlan("CRM")
	first, err := ProvisionMailbox(ctx, view, "contoso", plan, org.SyncState{})
	if err != nil {
		t.Fatalf("ProvisionMailbox(first) error = %v", err)
	}
	if diff := cmp.Diff([]string{"CRM"}, first.Added); diff != "" {
		t.Errorf("ProvisionMailbox(first).Added mismatch (-want +got):\n%s", diff)
	}
	cats, err := view.Categories(ctx)
	if err != nil || len(cats) != 1 || cats[0].Name != "CRM" || cats[0].Color != 7 {
		t.Errorf("Categories() = %+v, %v; want CRM, blue", cats, err)
	}
	f.srv.ResetRequests()
	second, err := ProvisionMailbox(ctx, view, "contoso", plan, org.SyncState{Folders: first.FolderIDs(), Categories: first.Categories, SyncStates: first.SyncStates})
	if err != nil || !second.Verified || second.Requests != 1 || second.Writes != 0 {
		t.Errorf("ProvisionMailbox(second) = %+v, %v; want verified with 1 request", second, err)
	}
	// Without the record the list is read, and not written again.
	f.srv.ResetRequests()
	if _, err := ProvisionMailbox(ctx, view, "contoso", plan, org.SyncState{Folders: first.FolderIDs()}); err != nil {
		t.Fatal(err)
	}
	if counts := opCounts(f.srv); counts["UpdateUserConfiguration"]+counts["CreateUserConfiguration"] != 0 || counts["GetUserConfiguration"] != 1 {
		t.Errorf("ProvisionMailbox(categories not recorded) sent %v, want one GetUserConfiguration and no write", counts)
	}
}

// Provisioning failures are per user, with the cause and a remediation;
// a back-off asked for during provisioning is waited out at the check's
// gate and the user is provisioned.
func TestActivateProvisionFailuresArePerUser(t *testing.T) {
	ctx := context.Background()
	f, store, o := activationFixture(t, 4)
	o.Provisioning = folderPlan()
	o, err := store.Update(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	faults := []struct {
		fault scctest.Fault
		when  []scctest.Condition
	}{
		{scctest.ServerBusy(time.Millisecond), []scctest.Condition{scctest.ForOperation("CreateFolder"), scctest.ForMailbox(o.Users[0].PrimarySMTP), scctest.OnCall(1)}},
		{scctest.MessageError(ews.ErrorQuotaExceeded), []scctest.Condition{scctest.ForOperation("CreateFolder"), scctest.ForMailbox(o.Users[1].PrimarySMTP)}},
		{scctest.MessageError(ews.ErrorAccessDenied), []scctest.Condition{scctest.ForOperation("CreateFolder"), scctest.ForMailbox(o.Users[2].PrimarySMTP)}},
	}
	for _, fl := range faults {
		if err := f.srv.Inject(fl.fault, fl.when...); err != nil {
			t.Fatal(err)
		}
	}
	ar, err := Activate(ctx, store, o.ID, f.options()...)
	if err != nil {
		t.Fatalf("Activate() error = %v", err)
	}
	if ar.Provisioned != 2 || ar.ProvisionFailed != 2 || ar.Activated != 2 || ar.Failed != 2 {
		t.Errorf("Activate() = %+v, want users 0 and 3 provisioned, 1 and 2 failed", ar)
	}
	got, _ := store.Get(ctx, o.ID)
	tests := []struct {
		user   int
		status org.SyncStatus
		code   string
		fix    string
	}{
		{0, org.Active, "", ""},
		{1, org.Failed, string(ews.ErrorQuotaExceeded), "quota"},
		{2, org.Failed, string(ews.ErrorAccessDenied), "create folders"},
		{3, org.Active, "", ""},
	}
	for _, tt := range tests {
		st := got.Users[tt.user].Sync
		if st.Status != tt.status || st.Code != tt.code || !strings.Contains(st.Remediation, tt.fix) {
			t.Errorf("user %d sync = %s %q %q, want %s %q with a remediation mentioning %q", tt.user, st.Status, st.Code, st.Remediation, tt.status, tt.code, tt.fix)
		}
		if tt.status == org.Active && len(st.Folders) != 3 {
			t.Errorf("user %d folders = %v, want 3", tt.user, st.Folders)
		}
	}
}

// Another writer creates the folder between the provisioner's look-up and
// its CreateFolder: Exchange answers ErrorFolderExists, the provisioner
// looks again and takes that folder (it carries this organization's
// marker), making no second copy.
func TestProvisionMailboxFolderCreatedMeanwhile(t *testing.T) {
	ctx := context.Background()
	f, users, viewOf := provisionFixture(t, 1)
	addr := users[0].PrimarySMTP
	view := viewOf(addr)
	plan := folderPlan()
	plan.Folders = plan.Folders[2:] // the mail folder alone
	plan.BaselineFolders = nil
	var raced atomic.Bool
	var otherID string
	var otherErr error
	f.srv.React("CreateFolder", addr, func(scctest.Call) scctest.Reaction {
		if raced.CompareAndSwap(false, true) {
			// The other writer: a second activation of the same organization.
			resp, err := view.CreateFolder(ctx, &ews.CreateFolderRequest{
				ParentFolderID: ews.DistinguishedFolder(ews.FolderMsgFolderRoot),
				Folders: []ews.Folder{{DisplayName: "CRM", FolderClass: "IPF.Note",
					ExtendedProperties: []ews.ExtendedProperty{{Field: ProvisionMarker(), Value: "contoso"}}}}})
			if otherErr = err; err == nil {
				otherErr = resp.Results[0].Err
				otherID = resp.Results[0].Folder.FolderID.ID
			}
		}
		return scctest.Reaction{}
	})
	res, err := ProvisionMailbox(ctx, view, "contoso", plan, org.SyncState{})
	if otherErr != nil {
		t.Fatalf("the other writer's CreateFolder error = %v", otherErr)
	}
	if err != nil {
		t.Fatalf("ProvisionMailbox() error = %v", err)
	}
	if got := res.FolderIDs()["mail"]; got != otherID || res.Folders[0].Created {
		t.Errorf("ProvisionMailbox() = %+v, want the other writer's folder %s, not created here", res.Folders, otherID)
	}
	if n := len(named(children(t, view, ews.FolderMsgFolderRoot), "CRM")); n != 1 {
		t.Errorf("msgfolderroot has %d folders CRM, want 1", n)
	}
	// Looked up, tried to create, looked up again.
	if diff := cmp.Diff(map[string]int{"FindFolder": 3, "CreateFolder": 2}, opCounts(f.srv)); diff != "" {
		t.Errorf("requests mismatch (-want +got; the other writer's CreateFolder and the test's FindFolder included):\n%s", diff)
	}
}

// A JSON report carries each user's provisioning, and reads back.
func TestReportJSONCarriesProvision(t *testing.T) {
	in := &Report{Total: 1, Results: []Result{{Index: 0, Address: "a@contoso.example", Status: StatusOK,
		Provision: &Provision{Status: StatusError, Code: codeFolderConflict, Message: "in the way", Remediation: "rename it",
			ProvisionResult: &ProvisionResult{Folders: []ProvisionedFolder{{Key: "mail", FolderID: "AAMk", DisplayName: "CRM", FolderClass: "IPF.Note", Created: true}}, Requests: 4, Writes: 3}}}}}
	b, err := in.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"provision":{"status":"error","code":"folder-conflict"`) {
		t.Errorf("MarshalJSON() = %s, want the provision", b)
	}
	var out Report
	if err := out.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	got, want := out.Results[0].Provision, in.Results[0].Provision
	if got == nil || got.Code != want.Code || got.Remediation != want.Remediation || got.Err == nil ||
		!cmp.Equal(got.Folders, want.Folders) || got.Requests != 4 || got.Writes != 3 {
		t.Errorf("UnmarshalJSON(MarshalJSON()) provision = %+v, want %+v", got, want)
	}
}

// TestActivateAgainSendsOneRequestPerUser: a second Activate with the
// default plan (folders, a category, baselines) all in place sends exactly
// one request per user, the check's GetFolder that verifies the record
// too, and writes nothing; the record is unchanged and every user is
// counted provisioned and unchanged.
func TestActivateAgainSendsOneRequestPerUser(t *testing.T) {
	ctx := context.Background()
	const n = 6
	f, store, before, _ := activatedFixture(t, n)
	f.srv.ResetRequests()
	ar, err := Activate(ctx, store, before.ID, f.options()...)
	if err != nil {
		t.Fatalf("Activate(again) error = %v", err)
	}
	if ar.Unchanged != n || ar.Provisioned != n || ar.Repaired != 0 || ar.ProvisionFailed != 0 {
		t.Errorf("Activate(again) = %+v, want %d unchanged and provisioned, none repaired", ar, n)
	}
	byUser := map[string]map[string]int{}
	for _, r := range f.srv.Requests() {
		if r.Impersonated == "" {
			continue // the preflight
		}
		if byUser[r.Impersonated] == nil {
			byUser[r.Impersonated] = map[string]int{}
		}
		byUser[r.Impersonated][r.Operation]++
	}
	for _, u := range before.Users {
		if diff := cmp.Diff(map[string]int{"GetFolder": 1}, byUser[u.PrimarySMTP]); diff != "" {
			t.Errorf("Activate(again) requests for %s mismatch (-want +got):\n%s", u.PrimarySMTP, diff)
		}
	}
	for _, res := range ar.Check.Results {
		if p := res.Provision; p == nil || !p.Verified || p.Requests != 0 || p.Writes != 0 {
			t.Errorf("Activate(again) provision of %s = %+v, want verified by the check's request, with none of its own", res.Address, p)
		}
	}
	after, _ := store.Get(ctx, before.ID)
	for i := range after.Users {
		a, b := after.Users[i].Sync, before.Users[i].Sync
		if !maps.Equal(a.Folders, b.Folders) || !maps.Equal(a.SyncStates, b.SyncStates) || !slices.Equal(a.Categories, b.Categories) {
			t.Errorf("user %d record changed: %+v, was %+v", i, a, b)
		}
	}
}
