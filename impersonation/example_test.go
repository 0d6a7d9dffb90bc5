package impersonation_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// fakeExchange starts a fake Exchange server with three mailboxes and a
// service account that may impersonate two of them.
func fakeExchange() *scctest.Server {
	srv, err := scctest.New()
	if err != nil {
		panic(err)
	}
	for _, a := range []string{"anna@contoso.example", "ben@contoso.example", "carla@contoso.example"} {
		if _, err := srv.AddMailbox(scctest.Mailbox{PrimarySMTP: a}); err != nil {
			panic(err)
		}
	}
	scope := scctest.ImpersonateScope("anna@contoso.example", "carla@contoso.example")
	if err := srv.AddServiceAccount(`CONTOSO\svc-sync`, "Sync-Secret-42!", scope); err != nil {
		panic(err)
	}
	srv.StartTLS()
	return srv
}

func organization(srv *scctest.Server) *org.Organization {
	return &org.Organization{
		Name:    "Contoso",
		Domains: []string{"contoso.example"},
		Users: []org.User{
			{PrimarySMTP: "anna@contoso.example"},
			{PrimarySMTP: "ben@contoso.example"},
			{PrimarySMTP: "carla@contoso.example"},
			{PrimarySMTP: "dave@contoso.example"}, // no such mailbox
		},
		Email: org.EmailConfiguration{
			AccessType:   org.Impersonation,
			AccountLogon: `CONTOSO\svc-sync`,
			Password:     org.NewSecret("Sync-Secret-42!"),
			EWSURL:       srv.EWSURL(),
			AuthMethod:   org.AuthBasic,
		},
	}
}

func ExampleCheck() {
	srv := fakeExchange()
	defer srv.Close()

	rep, err := impersonation.Check(context.Background(), organization(srv),
		// Trust the fake's certificate; against a real server, leave it out.
		impersonation.WithHTTPClient(srv.Client()))
	if err != nil {
		fmt.Println("check stopped:", err)
	}
	for _, r := range rep.Results { // problems first
		fmt.Println(strings.TrimSpace(fmt.Sprint(r.Status, " ", r.Address, " ", r.Code)))
	}
	fmt.Println(rep.Counts[impersonation.StatusOK], "of", rep.Total, "users can be synced")
	// Output:
	// out-of-scope ben@contoso.example ErrorImpersonateUserDenied
	// no-mailbox dave@contoso.example ErrorNonExistentMailbox
	// ok anna@contoso.example
	// ok carla@contoso.example
	// 2 of 4 users can be synced
}

func ExampleReport_WriteCSV() {
	srv := fakeExchange()
	defer srv.Close()

	rep, _ := impersonation.Check(context.Background(), organization(srv),
		impersonation.WithHTTPClient(srv.Client()))
	// One row per user; also WriteTable for a terminal and WriteJSON.
	var buf bytes.Buffer
	if err := rep.WriteCSV(&buf); err != nil {
		panic(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		panic(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, row := range rows { // a few columns; the others hold times and texts
		fmt.Println(strings.TrimSpace(strings.Join([]string{row[col["address"]], row[col["status"]], row[col["code"]]}, " ")))
	}
	// Output:
	// address status code
	// ben@contoso.example out-of-scope ErrorImpersonateUserDenied
	// dave@contoso.example no-mailbox ErrorNonExistentMailbox
	// anna@contoso.example ok
	// carla@contoso.example ok
}

func ExampleActivate() {
	srv := fakeExchange()
	defer srv.Close()
	ctx := context.Background()

	store := org.NewMemoryStore() // or org.OpenFileStore for a durable one
	o, err := store.Create(ctx, organization(srv))
	if err != nil {
		panic(err)
	}
	ar, err := impersonation.Activate(ctx, store, o.ID,
		impersonation.WithHTTPClient(srv.Client()))
	if err != nil {
		fmt.Println("activation stopped:", err)
	}
	fmt.Printf("%d activated, %d failed\n", ar.Activated, ar.Failed)

	saved, _ := store.Get(ctx, o.ID)
	for _, u := range saved.Users {
		fmt.Println(strings.TrimSpace(fmt.Sprint(u.PrimarySMTP, " ", u.Sync.Status, " ", u.Sync.Code)))
	}
	// Output:
	// 2 activated, 2 failed
	// anna@contoso.example Active
	// ben@contoso.example Failed ErrorImpersonateUserDenied
	// carla@contoso.example Active
	// dave@contoso.example Failed ErrorNonExistentMailbox
}

// ProvisionMailbox provisions one mailbox; Activate does it for every user
// of an organization with a plan.
func ExampleProvisionMailbox() {
	ctx := context.Background()
	cfg := org.EmailConfiguration{
		AccessType: org.Impersonation, AccountLogon: `CONTOSO\svc-sync`, Password: org.NewSecret("…"),
		EWSURL: "https://mail.contoso.com/EWS/Exchange.asmx",
	}
	c, err := impersonation.NewEWSClient(cfg)
	if err != nil {
		panic(err)
	}
	const addr = "anna@contoso.com"
	view := c.With(ews.Impersonate(ews.PrimarySmtpAddress(addr)), ews.AnchorMailbox(addr))
	res, err := impersonation.ProvisionMailbox(ctx, view, "contoso", org.DefaultProvisioningPlan("CRM"), org.SyncState{})
	var conflict *impersonation.FolderConflictError
	switch {
	case errors.As(err, &conflict):
		fmt.Println(conflict, conflict.Remediation())
	case err != nil:
		fmt.Println("provisioning failed:", err)
	default:
		// Keep these for the next run: it then only verifies them.
		fmt.Println(res.FolderIDs(), res.Requests, "requests")
	}
}
