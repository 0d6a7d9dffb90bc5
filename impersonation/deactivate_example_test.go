package impersonation_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// Deactivate stops sync for an organization's users and, with
// WithRemoveProvisioning, takes out of their mailboxes what activation
// put in: the plan's folders (empty ones; see WithRemoveContent) and
// categories.
func ExampleDeactivate() {
	srv := fakeExchange()
	defer srv.Close()
	ctx := context.Background()
	store := org.NewMemoryStore()
	o := organization(srv)
	o.Provisioning = org.DefaultProvisioningPlan("CRM")
	o, err := store.Create(ctx, o)
	if err != nil {
		panic(err)
	}
	ar, err := impersonation.Activate(ctx, store, o.ID, impersonation.WithHTTPClient(srv.Client()))
	if err != nil {
		panic(err)
	}
	fmt.Printf("activated %d, provisioned %d\n", ar.Activated, ar.Provisioned)

	dr, err := impersonation.Deactivate(ctx, store, o.ID,
		impersonation.WithRemoveProvisioning(),
		impersonation.WithHTTPClient(srv.Client()))
	if err != nil {
		fmt.Println("removal stopped:", err)
	}
	fmt.Printf("deactivated %d, removed from %d mailboxes\n", dr.Deactivated, dr.Removed)
	for _, r := range dr.Results {
		// ben and dave were never provisioned: the removal's check shows why.
		fmt.Println(r.Address, r.Status, "removed:", len(r.RemovedFolders), "folders", len(r.RemovedCategories), "categories")
	}
	saved, _ := store.Get(ctx, o.ID)
	for _, u := range saved.Users {
		fmt.Println(u.PrimarySMTP, u.Sync.Status, len(u.Sync.Folders), "folders recorded")
	}
	// Output:
	// activated 2, provisioned 2
	// deactivated 4, removed from 2 mailboxes
	// anna@contoso.example ok removed: 3 folders 1 categories
	// ben@contoso.example out-of-scope removed: 0 folders 0 categories
	// carla@contoso.example ok removed: 3 folders 1 categories
	// dave@contoso.example no-mailbox removed: 0 folders 0 categories
	// anna@contoso.example Deactivated 0 folders recorded
	// ben@contoso.example Deactivated 0 folders recorded
	// carla@contoso.example Deactivated 0 folders recorded
	// dave@contoso.example Deactivated 0 folders recorded
}

// Renew re-checks the users whose activation was proven with another
// configuration, here after the service account changed.
func ExampleRenew() {
	srv := fakeExchange()
	defer srv.Close()
	ctx := context.Background()
	store := org.NewMemoryStore()
	o, err := store.Create(ctx, organization(srv))
	if err != nil {
		panic(err)
	}
	if _, err := impersonation.Activate(ctx, store, o.ID, impersonation.WithHTTPClient(srv.Client())); err != nil {
		panic(err)
	}
	// Sync moves to a new service account, which may impersonate ben too.
	scope := scctest.ImpersonateScope("anna@contoso.example", "ben@contoso.example", "carla@contoso.example")
	if err := srv.AddServiceAccount(`CONTOSO\svc-sync2`, "Rotated-Secret-7", scope); err != nil {
		panic(err)
	}
	if _, err := org.Modify(ctx, store, o.ID, func(o *org.Organization) error {
		o.Email.AccountLogon, o.Email.Password = `CONTOSO\svc-sync2`, org.NewSecret("Rotated-Secret-7")
		return nil
	}); err != nil {
		panic(err)
	}
	rr, err := impersonation.Renew(ctx, store, o.ID, impersonation.WithHTTPClient(srv.Client()))
	if err != nil {
		fmt.Println("renewal stopped:", err)
	}
	fmt.Printf("renewed %d, activated %d, failed %d\n", rr.Renewed, rr.Activated, rr.Failed)
	saved, _ := store.Get(ctx, o.ID)
	for _, u := range saved.Users {
		fmt.Println(strings.TrimSpace(fmt.Sprint(u.PrimarySMTP, " ", u.Sync.Status, " ", u.Sync.Code)))
	}
	// Output:
	// renewed 2, activated 1, failed 1
	// anna@contoso.example Active
	// ben@contoso.example Active
	// carla@contoso.example Active
	// dave@contoso.example Failed ErrorNonExistentMailbox
}
