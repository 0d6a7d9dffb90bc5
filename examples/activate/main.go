// Command activate shows bulk activation: it checks every user of an
// organization, records who is active (and why the others are not) in a
// durable org.FileStore, then renews after the email configuration changed.
//
//	go run ./examples/activate -demo
//
// The demo runs against an embedded fake Exchange server; the file store
// lives in a temporary directory (or -dir), with its secrets encrypted by a
// key generated for the run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/sccsync/scc/examples/internal/demo"
	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/org"
)

func main() {
	demoFlag := flag.Bool("demo", false, "run against an embedded fake Exchange server with a demo organization")
	dir := flag.String("dir", "", "file store directory (default: a new temporary directory)")
	flag.Parse()
	if !*demoFlag {
		fmt.Fprintln(os.Stderr, "activate: only -demo is supported; see examples/checkaccess for checking a real server")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "activate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string, w io.Writer) error {
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
	o, err := store.Create(ctx, d.Org)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Organization %q (%s) with %d users saved in %s\n\n", o.Name, o.ID, len(o.Users), dir)
	opts := d.Options()

	// 1. Activate: check everyone, record the outcome.
	ar, err := impersonation.Activate(ctx, store, o.ID, opts...)
	if err != nil && ar == nil {
		return err
	}
	fmt.Fprintf(w, "Activate: %s\n", summary(ar))
	if err := printUsers(ctx, w, store, o.ID); err != nil {
		return err
	}

	// 2. Activate again: nothing changes but the check times.
	if ar, err = impersonation.Activate(ctx, store, o.ID, opts...); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nActivate again: %s\n", summary(ar))

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
	fmt.Fprintf(w, "Renew: %s\n", summary(ar))
	if err := printUsers(ctx, w, store, o.ID); err != nil {
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

func summary(ar *impersonation.ActivationReport) string {
	return fmt.Sprintf("%d activated, %d renewed, %d failed, %d need renewal, %d unchanged, %d not checked, %d skipped (version %d, saved %v)",
		ar.Activated, ar.Renewed, ar.Failed, ar.NeedsRenewal, ar.Unchanged, ar.NotChecked, ar.Skipped, ar.Version, ar.Saved)
}

func printUsers(ctx context.Context, w io.Writer, store org.Store, id string) error {
	o, err := store.Get(ctx, id)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tSYNC\tCODE\tCHECKED")
	for _, u := range o.Users {
		code := u.Sync.Code
		if code == "" {
			code = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.PrimarySMTP, u.Sync.Status, code, u.Sync.CheckedAt.Format("15:04:05.000"))
	}
	return tw.Flush()
}
