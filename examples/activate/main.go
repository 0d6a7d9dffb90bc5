// Command activate turns on mailbox sync for an organization: it checks
// every user, provisions the mailboxes that pass (folders of the other
// system's own and a category, by the organization's provisioning plan),
// records who is active (and why the others are not) in a durable
// org.FileStore, and reports per user. Run it again and it sends one request
// per user and writes nothing; -renew re-checks after the configuration
// changed; -deactivate stops sync and, when asked, removes what activation
// created.
//
// Try it without an Exchange server (an embedded fake with a demo
// organization):
//
//	go run ./examples/activate -demo
//
// Against a real server (the password comes from $SCC_PASSWORD or a file;
// the store key from -store-key, created on the first run: keep it outside
// the store directory, without it the stored secrets cannot be read):
//
//	SCC_PASSWORD=... go run ./examples/activate \
//	    -ews-url https://mail.contoso.com/EWS/Exchange.asmx \
//	    -logon 'CONTOSO\svc-sync' -users mailboxes.csv \
//	    -dir /var/lib/scc -store-key ~/.config/scc/store.key -system CRM
//
// A later run may leave out -users (the stored users are used; a CSV given
// again is merged in) and the account flags (the stored configuration is
// used; given again, they replace it, and -renew then re-checks the active
// users with the new one). Undo it:
//
//	go run ./examples/activate -dir /var/lib/scc -store-key ... -deactivate -remove-provisioning
//
// The exit code is 0 when every user is active (or deactivated), 1 when some
// user needs attention, 2 for a usage or setup error.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/sccsync/scc/examples/internal/account"
	"github.com/sccsync/scc/examples/internal/progress"
	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/org"
)

// flags are the command line.
type flags struct {
	account.Flags
	demo        bool
	dir         string
	keyFile     string
	users       string
	orgName     string
	system      string
	renew       bool
	deactivate  bool
	remove      bool
	removeAll   bool
	concurrency int
	verbose     bool
}

func main() {
	var f flags
	flag.BoolVar(&f.demo, "demo", false, "run against an embedded fake Exchange server with a demo organization")
	flag.StringVar(&f.dir, "dir", "", "file store directory (with -demo: default a new temporary directory)")
	flag.StringVar(&f.keyFile, "store-key", "", "file holding the store key, outside -dir; created with a new key when missing")
	flag.StringVar(&f.users, "users", "", "CSV file of users (Get-Mailbox | Export-Csv); needed on the first run, merged in on later ones")
	flag.StringVar(&f.orgName, "org", "activate", "name of the organization in the store")
	flag.StringVar(&f.system, "system", "CRM", "name of the other system: the folders and the category are named for it (first run only)")
	flag.BoolVar(&f.renew, "renew", false, "re-check the active users after a configuration change and repair missing provisioning")
	flag.BoolVar(&f.deactivate, "deactivate", false, "stop sync for every activated user")
	flag.BoolVar(&f.remove, "remove-provisioning", false, "with -deactivate: remove the folders (when empty) and the category activation created")
	flag.BoolVar(&f.removeAll, "remove-content", false, "with -remove-provisioning: also remove folders that hold items (moved to Deleted Items)")
	flag.IntVar(&f.concurrency, "concurrency", impersonation.DefaultConcurrency, fmt.Sprintf("requests in flight (1-%d)", impersonation.MaxConcurrency))
	flag.BoolVar(&f.verbose, "v", false, "log back-offs and stops to stderr")
	f.Register(flag.CommandLine)
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var code int
	var err error
	if f.demo {
		code, err = 0, runDemo(ctx, f.dir, os.Stdout)
		if err != nil {
			code = 1
		}
	} else {
		code, err = run(ctx, f, os.Stdout, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "activate:", err)
	}
	os.Exit(code)
}

// run is the real-server mode; it returns the exit code.
func run(ctx context.Context, f flags, stdout, stderr io.Writer) (int, error) {
	if err := f.validate(); err != nil {
		return 2, err
	}
	store, err := openStore(f.dir, f.keyFile, stderr)
	if err != nil {
		return 2, err
	}
	o, err := prepare(ctx, store, f, stderr)
	if err != nil {
		return 2, err
	}
	opts := []impersonation.Option{impersonation.WithConcurrency(f.concurrency)}
	if f.verbose {
		opts = append(opts, impersonation.WithLogger(slog.New(slog.NewTextHandler(stderr, nil))))
	}
	// The stored configuration does not hold the authority, so it comes
	// from the flag on every run.
	if f.Authority != "" && f.Authority != impersonation.DefaultAuthority {
		opts = append(opts, impersonation.WithAuthority(f.Authority))
	}

	if f.deactivate {
		if f.remove {
			opts = append(opts, impersonation.WithRemoveProvisioning())
		}
		if f.removeAll {
			opts = append(opts, impersonation.WithRemoveContent())
		}
		dr, err := impersonation.Deactivate(ctx, store, o.ID, opts...)
		if dr == nil {
			return 2, err
		}
		writeDeactivation(stdout, dr)
		if err != nil {
			return 1, err
		}
		if dr.RemoveFailed > 0 || dr.NotChecked > 0 {
			return 1, nil
		}
		return 0, nil
	}

	bar := progress.New(stderr)
	opts = append(opts, impersonation.WithProgress(bar.Update))
	verb, do := "Activate", impersonation.Activate
	if f.renew {
		verb, do = "Renew", impersonation.Renew
	}
	ar, err := do(ctx, store, o.ID, opts...)
	bar.Done()
	if ar == nil {
		return 2, err
	}
	after, gerr := store.Get(ctx, o.ID)
	if gerr != nil {
		return 2, gerr
	}
	writeActivation(stdout, verb, ar, after)
	if err != nil {
		return 1, err
	}
	for _, u := range after.Users {
		if u.Sync.Status != org.Active {
			return 1, nil // for scripts: some users need attention
		}
	}
	return 0, nil
}

func (f flags) validate() error {
	switch {
	case f.dir == "":
		return errors.New("need -dir, the store directory (or -demo); see -help")
	case f.keyFile == "":
		return errors.New("need -store-key, the file holding the store key (created when missing; keep it outside -dir)")
	case f.renew && f.deactivate:
		return errors.New("choose one of -renew and -deactivate")
	case f.remove && !f.deactivate:
		return errors.New("-remove-provisioning goes with -deactivate")
	case f.removeAll && !f.remove:
		return errors.New("-remove-content goes with -remove-provisioning")
	}
	return nil
}

// accountGiven reports whether the command line describes the server and
// credentials (then they replace the stored configuration).
func (f flags) accountGiven() bool {
	return f.EWSURL != "" || f.Logon != "" || f.AppOnly()
}

// openStore opens the file store in dir with the key from keyFile, creating
// the key file (mode 0600, never overwritten) on the first run.
func openStore(dir, keyFile string, stderr io.Writer) (*org.FileStore, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	absKey, err := filepath.Abs(keyFile)
	if err != nil {
		return nil, err
	}
	if rel, err := filepath.Rel(absDir, absKey); err == nil && !strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("-store-key %s is inside -dir %s: whoever reads the store would read its key; keep it elsewhere", keyFile, dir)
	}
	var key org.FileStoreKey
	b, err := os.ReadFile(keyFile)
	switch {
	case err == nil:
		if key, err = org.ParseFileStoreKey(strings.TrimSpace(string(b))); err != nil {
			return nil, fmt.Errorf("-store-key %s: %w", keyFile, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		if key, err = org.NewFileStoreKey(); err != nil {
			return nil, err
		}
		kf, err := os.OpenFile(keyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("creating -store-key: %w", err)
		}
		_, werr := fmt.Fprintln(kf, key.Encode())
		if cerr := kf.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("writing -store-key: %w", werr)
		}
		fmt.Fprintf(stderr, "New store key written to %s: keep it; without it the stored secrets cannot be read.\n", keyFile)
	default:
		return nil, fmt.Errorf("-store-key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return org.OpenFileStore(dir, org.FileStoreOptions{Key: key})
}

// prepare finds the organization named f.orgName in the store, or creates
// it (with the users of -users, the account of the flags and the default
// provisioning plan for -system), and applies what the command line
// changes: users merged in from -users, the account flags replacing the
// stored configuration.
func prepare(ctx context.Context, store org.Store, f flags, stderr io.Writer) (*org.Organization, error) {
	all, err := store.List(ctx)
	if err != nil {
		return nil, err
	}
	var found *org.Organization
	for _, o := range all {
		if o.Name == f.orgName {
			if found != nil {
				return nil, fmt.Errorf("the store holds two organizations named %q (%s and %s); remove one", f.orgName, found.ID, o.ID)
			}
			found = o
		}
	}
	var cfg org.EmailConfiguration
	if f.accountGiven() {
		if cfg, _, err = f.Configuration(stderr); err != nil {
			return nil, err
		}
	}
	var csvData []byte
	if f.users != "" {
		if csvData, err = os.ReadFile(f.users); err != nil {
			return nil, err
		}
	}
	// apply merges the CSV and the configuration into o.
	apply := func(o *org.Organization) error {
		if f.accountGiven() {
			o.Email = cfg
		}
		if csvData == nil {
			return nil
		}
		res, err := o.ImportCSV(bytes.NewReader(csvData))
		if err != nil {
			return fmt.Errorf("reading %s: %w", f.users, err)
		}
		for _, r := range res.Rejected {
			fmt.Fprintf(stderr, "%s: %v (row skipped)\n", f.users, r)
		}
		fmt.Fprintf(stderr, "%s: %s\n", f.users, res)
		return nil
	}

	if found == nil {
		if f.deactivate {
			return nil, fmt.Errorf("no organization %q in %s to deactivate", f.orgName, f.dir)
		}
		if csvData == nil || !f.accountGiven() {
			return nil, fmt.Errorf("no organization %q in %s yet: the first run needs -users FILE.csv and -ews-url with -logon (or -tenant and -client-id)", f.orgName, f.dir)
		}
		o := &org.Organization{Name: f.orgName, Provisioning: org.DefaultProvisioningPlan(f.system)}
		if err := apply(o); err != nil {
			return nil, err
		}
		if err := o.Validate(); err != nil {
			return nil, err
		}
		created, err := store.Create(ctx, o)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "Organization %q created in %s with %d users.\n", created.Name, f.dir, len(created.Users))
		return created, nil
	}
	if csvData == nil && !f.accountGiven() {
		return found, nil
	}
	updated, err := org.Modify(ctx, store, found.ID, func(o *org.Organization) error {
		if err := apply(o); err != nil {
			return err
		}
		return o.Validate()
	})
	if err != nil {
		return nil, err
	}
	return updated, nil
}

// writeActivation prints one line per user and the summary.
func writeActivation(w io.Writer, verb string, ar *impersonation.ActivationReport, o *org.Organization) {
	byAddr := map[string]*impersonation.Result{}
	if ar.Check != nil {
		for i := range ar.Check.Results {
			r := &ar.Check.Results[i]
			byAddr[strings.ToLower(r.Address)] = r
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tSYNC\tCODE\tFOLDERS\tWRITES\tWHAT TO DO")
	for _, u := range o.Users {
		code, folders, nwrites, fix := u.Sync.Code, "-", "-", u.Sync.Remediation
		if code == "" {
			code = "-"
		}
		if len(u.Sync.Folders) > 0 {
			folders = fmt.Sprint(len(u.Sync.Folders))
		}
		if r := byAddr[strings.ToLower(u.PrimarySMTP)]; r != nil {
			if r.Provision != nil && r.Provision.ProvisionResult != nil {
				nwrites = fmt.Sprint(r.Provision.Writes)
			}
			if fix == "" {
				fix = r.Remediation
			}
		}
		if fix == "" {
			fix = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.PrimarySMTP, u.Sync.Status, code, folders, nwrites, oneLine(fix))
	}
	tw.Flush()
	fmt.Fprintln(w)
	writeSummary(w, verb, ar)
}

// writeSummary prints the counts of an activation and its requests and
// writes.
func writeSummary(w io.Writer, verb string, ar *impersonation.ActivationReport) {
	requests, writes := totals(ar)
	fmt.Fprintf(w, "%s: %s\n", verb, summary(ar))
	fmt.Fprintf(w, "%s: %d requests, %d writes\n", verb, requests, writes)
}

// totals counts the EWS requests of an activation (each check try, and
// what provisioning sent) and its writes (CreateFolder, category list
// writes).
func totals(ar *impersonation.ActivationReport) (requests, writes int) {
	if ar.Check == nil {
		return 0, 0
	}
	for _, r := range ar.Check.Results {
		requests += r.Attempts
		if r.Provision != nil && r.Provision.ProvisionResult != nil {
			requests += r.Provision.Requests
			writes += r.Provision.Writes
		}
	}
	return requests, writes
}

// writeDeactivation prints one line per deactivated user and the summary.
func writeDeactivation(w io.Writer, dr *impersonation.DeactivationReport) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tSTATUS\tCODE\tREMOVED\tKEPT\tWHAT TO DO")
	requests, writes := 0, 0
	for _, r := range dr.Results {
		requests += r.Requests
		writes += r.Writes
		code, fix := string(r.Code), r.Remediation
		if code == "" {
			code = "-"
		}
		if fix == "" {
			fix = "-"
		}
		removed := make([]string, 0, len(r.RemovedFolders)+len(r.RemovedCategories))
		for _, rf := range r.RemovedFolders {
			removed = append(removed, rf.DisplayName)
		}
		for _, c := range r.RemovedCategories {
			removed = append(removed, "category "+c)
		}
		kept := make([]string, 0, len(r.KeptFolders))
		for _, k := range r.KeptFolders {
			kept = append(kept, fmt.Sprintf("%s (%s)", k.DisplayName, k.Reason))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Address, r.Status, code, list(removed), list(kept), oneLine(fix))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nDeactivate: %d deactivated, %d removed, %d remove failed, %d not checked, %d unchanged (version %d, saved %v)\n",
		dr.Deactivated, dr.Removed, dr.RemoveFailed, dr.NotChecked, dr.Unchanged, dr.Version, dr.Saved)
	if len(dr.Unknown) > 0 {
		sort.Strings(dr.Unknown)
		fmt.Fprintf(w, "Not users of the organization: %s\n", strings.Join(dr.Unknown, ", "))
	}
	if dr.Stopped != nil {
		fmt.Fprintf(w, "Stopped: %s: %s\n", dr.Stopped.Reason, dr.Stopped.Remediation)
	}
	fmt.Fprintf(w, "Deactivate: %d requests, %d writes\n", requests, writes)
}

func list(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ", ")
}

// oneLine keeps a table row on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func summary(ar *impersonation.ActivationReport) string {
	return fmt.Sprintf("%d activated, %d renewed, %d failed, %d need renewal, %d unchanged, %d not checked, %d skipped; %d provisioned (%d repaired), %d provisioning failed (version %d, saved %v)",
		ar.Activated, ar.Renewed, ar.Failed, ar.NeedsRenewal, ar.Unchanged, ar.NotChecked, ar.Skipped,
		ar.Provisioned, ar.Repaired, ar.ProvisionFailed, ar.Version, ar.Saved)
}
