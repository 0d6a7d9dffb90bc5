package impersonation

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// The tests in this file prove issue 9's promise that activation provisions
// every mailbox exactly once, whatever happens to the activating process:
// they inspect the fake's mailboxes through its direct API, not through
// EWS, so that the provisioner's own reads cannot hide a second copy.

// proofFake is a plain-HTTP fake with n mailboxes the service account may
// impersonate (NTLM, so that a child process needs no certificate), a
// FileStore-independent organization for it with the default plan, and
// the configuration that reaches it.
func proofFake(t testing.TB, n int) (*scctest.Server, *org.Organization) {
	t.Helper()
	srv := scctest.NewServer(t)
	if err := srv.AddServiceAccount(testLogon, testPassword, scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	users := make([]org.User, n)
	for i := range users {
		addr := fmt.Sprintf("user%04d@contoso.example", i)
		if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: addr}); err != nil {
			t.Fatal(err)
		}
		users[i] = org.User{PrimarySMTP: addr, ImpersonateBy: org.IdentityPrimarySMTP}
	}
	o := &org.Organization{Name: "Contoso", Domains: []string{"contoso.example"}, Users: users,
		Email: org.EmailConfiguration{
			AccessType: org.Impersonation, AccountLogon: testLogon, Password: org.NewSecret(testPassword),
			EWSURL: srv.EWSURL(), AuthMethod: org.AuthNTLM, AllowInsecureHTTP: true,
		},
		Provisioning: org.DefaultProvisioningPlan("CRM"),
	}
	return srv, o
}

// proofOptions are the options of every activation in these tests: short
// back-offs, the most concurrency Exchange allows.
func proofOptions() []Option {
	return []Option{WithRetryBudget(RetryBudget{BaseDelay: 1}), WithConcurrency(MaxConcurrency)}
}

// assertProvisionedOnce checks, through the fake's direct API, that every
// mailbox of the organization id in store holds exactly one folder of each
// planned name under the planned parent, of the planned class, carrying
// this organization's marker, whose id the store records; that the master
// category list names each planned category once; and that the store
// records every user as Active and provisioned.
func assertProvisionedOnce(t *testing.T, srv *scctest.Server, store org.Store, id string) {
	t.Helper()
	o, err := store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	plan := o.Provisioning
	bad := 0
	fail := func(format string, args ...any) {
		t.Helper()
		if bad++; bad <= 20 {
			t.Errorf(format, args...)
		}
	}
	for _, u := range o.Users {
		addr := u.PrimarySMTP
		st := u.Sync
		if st.Status != org.Active || st.ProvisionedAt.IsZero() || len(st.Folders) != len(plan.Folders) {
			fail("%s: stored sync state %s %q, %d folders, provisioned at %v; want Active and provisioned with %d folders",
				addr, st.Status, st.Code+" "+st.Message, len(st.Folders), st.ProvisionedAt, len(plan.Folders))
		}
		for _, pf := range plan.Folders {
			kids, err := srv.Folders(addr, pf.Parent)
			if err != nil {
				t.Fatalf("Folders(%s, %s): %v", addr, pf.Parent, err)
			}
			var same []scctest.Folder
			for _, f := range kids {
				if strings.EqualFold(f.DisplayName, pf.DisplayName) {
					same = append(same, f)
				}
			}
			if len(same) != 1 {
				fail("%s: %s holds %d folders %q, want 1", addr, pf.Parent, len(same), pf.DisplayName)
				continue
			}
			f := same[0]
			if f.FolderClass != pf.FolderClass || directMarker(f) != o.ID {
				fail("%s: folder %q has class %q and marker %q, want %q and %q", addr, pf.DisplayName, f.FolderClass, directMarker(f), pf.FolderClass, o.ID)
			}
			if st.Folders[pf.Key] != f.ID {
				fail("%s: the store records folder %q as %q, the mailbox holds it as %q", addr, pf.Key, st.Folders[pf.Key], f.ID)
			}
		}
		uc, err := srv.UserConfiguration(addr, "calendar", ews.CategoryListName)
		if err != nil {
			fail("%s: master category list: %v", addr, err)
			continue
		}
		l, err := ews.ParseCategoryList(uc.XMLData)
		if err != nil {
			fail("%s: master category list does not parse: %v", addr, err)
			continue
		}
		for _, pc := range plan.Categories {
			n := 0
			for _, c := range l.Categories() {
				if strings.EqualFold(c.Name, pc.Name) {
					n++
				}
			}
			if n != 1 {
				fail("%s: the master category list names %q %d times, want once", addr, pc.Name, n)
			}
		}
	}
	if bad > 20 {
		t.Errorf("... and %d more problems", bad-20)
	}
}

// directMarker is the provisioning marker's value on a folder read through
// the direct API.
func directMarker(f scctest.Folder) string {
	for _, p := range f.ExtendedProperties {
		if strings.EqualFold(p.PropertySetID, ProvisionMarkerSetID) && p.PropertyName == ProvisionMarkerName && len(p.Values) == 1 {
			return p.Values[0]
		}
	}
	return ""
}

// assertNoWrites runs Activate once more and checks it sends no write.
func assertNoWrites(t *testing.T, srv *scctest.Server, store org.Store, id string) {
	t.Helper()
	srv.ResetRequests()
	ar, err := Activate(context.Background(), store, id, proofOptions()...)
	if err != nil {
		t.Fatalf("Activate(again) error = %v", err)
	}
	counts := opCounts(srv)
	for _, op := range []string{"CreateFolder", "CreateUserConfiguration", "UpdateUserConfiguration"} {
		if counts[op] != 0 {
			t.Errorf("Activate(again) sent %d %s, want none", counts[op], op)
		}
	}
	if ar.Provisioned != ar.Check.Total {
		t.Errorf("Activate(again) provisioned %d of %d users", ar.Provisioned, ar.Check.Total)
	}
}

// Two activations of one organization at once, in two goroutines sharing
// a store: the mailboxes end as after one, each folder and category once.
func TestActivateTwiceAtOnceProvisionsOnce(t *testing.T) {
	ctx := context.Background()
	srv, o := proofFake(t, 60)
	srv.SetLatency(time.Millisecond, time.Millisecond) // interleave the two
	store := org.NewMemoryStore()
	o, err := store.Create(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	reports := make([]*ActivationReport, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i], errs[i] = Activate(ctx, store, o.ID, proofOptions()...)
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("Activate %d error = %v", i, errs[i])
		}
		if reports[i].Provisioned != len(o.Users) || reports[i].ProvisionFailed != 0 {
			t.Errorf("Activate %d = %+v, want all %d provisioned", i, reports[i], len(o.Users))
		}
	}
	srv.SetLatency(0, 0)
	logRaces(t, srv)
	assertProvisionedOnce(t, srv, store, o.ID)
	assertNoWrites(t, srv, store, o.ID)
}

// logRaces logs how often the two activations met: a CreateFolder refused
// with ErrorFolderExists, a master category list created meanwhile.
func logRaces(t *testing.T, srv *scctest.Server) {
	st := srv.Stats()
	t.Logf("CreateFolder %d (ErrorFolderExists %d), CreateUserConfiguration %d (ErrorItemSave %d), UpdateUserConfiguration %d",
		st.Operations["CreateFolder"], st.ResponseCodes[ews.ErrorFolderExists], st.Operations["CreateUserConfiguration"],
		st.ResponseCodes[ews.ErrorItemSave], st.Operations["UpdateUserConfiguration"])
}
