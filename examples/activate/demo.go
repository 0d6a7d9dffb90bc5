package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sccsync/scc/examples/internal/demo"
	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/org"
)

// runDemo activates a demo organization on an embedded fake: activate
// (provisioning every mailbox that passes), activate again (one request per
// user, no writes), rotate the service account's password, renew, and
// reopen the store.
func runDemo(ctx context.Context, dir string, w io.Writer) error {
	d, err := demo.Start(demo.Options{Users: 12, Problems: true})
	if err != nil {
		return err
	}
	defer d.Close()

	if dir == "" {
		if dir, err = os.MkdirTemp("", "scc-activate-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	key, err := org.NewFileStoreKey() // encrypts the secrets at rest
	if err != nil {
		return err
	}
	store, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: key})
	if err != nil {
		return err
	}
	d.Org.Provisioning = org.DefaultProvisioningPlan("CRM")
	o, err := store.Create(ctx, d.Org)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Organization %q (%s) with %d users saved in %s\n", o.Name, o.ID, len(o.Users), dir)
	fmt.Fprintf(w, "Provisioning plan: %d folders and the category %q in every mailbox\n\n", len(o.Provisioning.Folders), o.Provisioning.Categories[0].Name)
	opts := d.Options()

	// 1. Activate: check everyone, provision who passes, record the outcome.
	ar, err := impersonation.Activate(ctx, store, o.ID, opts...)
	if err != nil && ar == nil {
		return err
	}
	if err := printRun(ctx, w, store, "Activate", ar); err != nil {
		return err
	}

	// 2. Activate again: one request per user verifies everything is in
	// place; nothing is written.
	if ar, err = impersonation.Activate(ctx, store, o.ID, opts...); err != nil {
		return err
	}
	fmt.Fprintln(w)
	writeSummary(w, "Activate again", ar)
	if _, writes := totals(ar); writes != 0 {
		return fmt.Errorf("the second activation wrote %d times; want none", writes)
	}

	// 3. The service account's password is reset in Active Directory, and
	// the admin saves the new one in the Email Configuration.
	const newPassword = "Rotated-Passw0rd!"
	if err := d.Server.SetPassword(demo.ServiceLogon, newPassword); err != nil {
		return err
	}
	if _, err := org.Modify(ctx, store, o.ID, func(x *org.Organization) error {
		x.Email.Password = org.NewSecret(newPassword)
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nThe service account's password was changed and saved: active users need renewal.\n")

	// 4. Renew: re-check the users that were active under the old
	// configuration.
	if ar, err = impersonation.Renew(ctx, store, o.ID, opts...); err != nil {
		return err
	}
	if err := printRun(ctx, w, store, "Renew", ar); err != nil {
		return err
	}

	// 5. The store is durable: reopen it and read the organization back.
	reopened, err := org.OpenFileStore(dir, org.FileStoreOptions{Key: key})
	if err != nil {
		return err
	}
	back, err := reopened.Get(ctx, o.ID)
	if err != nil {
		return err
	}
	active := 0
	for _, u := range back.Users {
		if u.Sync.Status == org.Active {
			active++
		}
	}
	if active == 0 {
		return errors.New("no active user after reopening the store")
	}
	fmt.Fprintf(w, "\nReopened the store: version %d, %d of %d users active.\n", back.Version, active, len(back.Users))
	return nil
}

// printRun prints the users as the store holds them after the run, and
// the run's summary, as the real-server mode does.
func printRun(ctx context.Context, w io.Writer, store org.Store, verb string, ar *impersonation.ActivationReport) error {
	o, err := store.Get(ctx, ar.OrganizationID)
	if err != nil {
		return err
	}
	writeActivation(w, verb, ar, o)
	return nil
}
