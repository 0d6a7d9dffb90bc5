// Command checkaccess checks, for every user of an organization, that the
// Exchange service account can impersonate the user's mailbox, and prints a
// table with what to do about every problem.
//
// Try it without an Exchange server (an embedded fake with a demo
// organization):
//
//	go run ./examples/checkaccess -demo
//
// Against a real server (the password comes from $SCC_PASSWORD or a file):
//
//	SCC_PASSWORD=... go run ./examples/checkaccess \
//	    -ews-url https://mail.contoso.com/EWS/Exchange.asmx \
//	    -logon 'CONTOSO\svc-sync' -users mailboxes.csv
//
// where mailboxes.csv is the output of
// Get-Mailbox -ResultSize Unlimited | Select-Object PrimarySmtpAddress,UserPrincipalName,Sid | Export-Csv mailboxes.csv.
//
// Let Autodiscover find the EWS URL (from -logon when it is user@domain,
// else from the first user's address), and record each user's
// GroupingInformation:
//
//	SCC_PASSWORD=... go run ./examples/checkaccess -discover \
//	    -logon svc-sync@contoso.com -users mailboxes.csv
//
// Exchange Online with app-only OAuth (an Entra app with full_access_as_app;
// the secret comes from $SCC_CLIENT_SECRET, or use -cert-file and -key-file):
//
//	SCC_CLIENT_SECRET=... go run ./examples/checkaccess \
//	    -tenant contoso.onmicrosoft.com -client-id <application id> -users mailboxes.csv
//
// Benchmark mode (fake server, no demo problems):
//
//	go run ./examples/checkaccess -demo -users 10000 -latency 20ms -concurrency 27
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/ews/autodiscover"
	"github.com/sccsync/scc/examples/internal/account"
	"github.com/sccsync/scc/examples/internal/demo"
	"github.com/sccsync/scc/examples/internal/progress"
	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/org"
)

type flags struct {
	account.Flags
	demo        bool
	users       string
	latency     time.Duration
	concurrency int
	writeProbe  bool
	json, csv   bool
	verbose     bool
	allowHosts  string
	// adOptions and ewsOptions route a test's host names; nil otherwise.
	adOptions  []autodiscover.Option
	ewsOptions []ews.Option
}

func main() {
	var f flags
	flag.BoolVar(&f.demo, "demo", false, "run against an embedded fake Exchange server with a demo organization")
	flag.StringVar(&f.users, "users", "", "CSV file of users (Get-Mailbox | Export-Csv); with -demo: a number of generated users (benchmark mode)")
	flag.DurationVar(&f.latency, "latency", 0, "with -demo: latency the fake adds to every request")
	flag.IntVar(&f.concurrency, "concurrency", impersonation.DefaultConcurrency, fmt.Sprintf("requests in flight (1-%d)", impersonation.MaxConcurrency))
	f.Register(flag.CommandLine)
	flag.BoolVar(&f.writeProbe, "write-probe", false, "also create and delete a test message in each user's Drafts")
	flag.BoolVar(&f.json, "json", false, "print the report as JSON")
	flag.BoolVar(&f.csv, "csv", false, "print the report as CSV")
	flag.BoolVar(&f.verbose, "v", false, "log back-offs and stops to stderr")
	flag.BoolVar(&f.Discover, "discover", false, "find the EWS URL with Autodiscover (from -logon when it is user@domain, else the first user's address); -ews-url may be empty. Also records each user's GroupingInformation")
	flag.StringVar(&f.allowHosts, "autodiscover-allow", "", "with -discover: hosts outside the email domain that may get the credentials, comma-separated (only after you checked them)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, f, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkaccess:", err)
	}
	os.Exit(code)
}

// run returns the exit code: 0 all users OK (or the demo ran), 1 some
// users failed or the check stopped, 2 usage or setup error.
func run(ctx context.Context, f flags, stdout, stderr io.Writer) (int, error) {
	if f.json && f.csv {
		return 2, errors.New("choose one of -json and -csv")
	}
	if f.demo && f.Discover {
		return 2, errors.New("-discover needs a real server: the demo's fake has no Autodiscover host names")
	}
	opts := []impersonation.Option{}
	if f.writeProbe {
		opts = append(opts, impersonation.WithWriteProbe())
	}
	if f.verbose {
		opts = append(opts, impersonation.WithLogger(slog.New(slog.NewTextHandler(stderr, nil))))
	}
	opts = append(opts, impersonation.WithConcurrency(f.concurrency))

	var o *org.Organization
	var err error
	bench := false
	if f.demo {
		d, n, err := startDemo(f)
		if err != nil {
			return 2, err
		}
		defer d.Close()
		bench = n > 0
		o = d.Org
		opts = append(opts, d.Options()...)
		if !bench {
			fmt.Fprintf(stderr, "Demo: fake Exchange at %s, %d users, service account %s\n", d.Server.EWSURL(), len(o.Users), demo.ServiceLogon)
		}
	} else {
		var extra []impersonation.Option
		if o, extra, err = realOrganization(f, stderr); err != nil {
			return 2, err
		}
		opts = append(opts, extra...)
		if f.Discover {
			more, err := discover(ctx, f, o, stderr)
			if err != nil {
				return 2, err
			}
			opts = append(opts, more...)
		}
	}

	if bench {
		return benchmark(ctx, o, f, opts, stdout)
	}
	p := progress.New(stderr)
	opts = append(opts, impersonation.WithProgress(p.Update))
	rep, err := impersonation.Check(ctx, o, opts...)
	p.Done()
	if rep == nil {
		return 2, err
	}
	switch {
	case f.json:
		err = rep.WriteJSON(stdout)
	case f.csv:
		err = rep.WriteCSV(stdout)
	default:
		err = rep.WriteTable(stdout)
	}
	if err != nil {
		return 2, err
	}
	if !f.demo && (rep.Stopped != nil || !rep.OK()) {
		return 1, nil // for scripts: some users need attention
	}
	return 0, nil
}

// startDemo starts the fake; n > 0 is the benchmark's user count.
func startDemo(f flags) (*demo.Demo, int, error) {
	o := demo.README()
	n := 0
	if f.users != "" {
		if _, err := fmt.Sscan(f.users, &n); err != nil || n < 1 {
			return nil, 0, fmt.Errorf("with -demo, -users is a number of users, not %q", f.users)
		}
		o = demo.Options{Users: n}
	}
	o.Latency = f.latency
	d, err := demo.Start(o)
	return d, n, err
}

// realOrganization builds the organization from the flags, and the options
// it needs (the Entra ID authority for Exchange Online app-only access, when not the default).
func realOrganization(f flags, stderr io.Writer) (*org.Organization, []impersonation.Option, error) {
	if f.users == "" {
		return nil, nil, errors.New("need -ews-url, -logon (or -tenant and -client-id) and -users FILE.csv, or -demo; see -help")
	}
	cfg, opts, err := f.Configuration(stderr)
	if err != nil {
		return nil, nil, err
	}
	o := &org.Organization{Name: "checkaccess", Email: cfg}
	file, err := os.Open(f.users)
	if err != nil {
		return nil, nil, err
	}
	defer file.Close()
	res, err := o.ImportCSV(file)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", f.users, err)
	}
	for _, r := range res.Rejected {
		fmt.Fprintf(stderr, "%s: %v (row skipped)\n", f.users, r)
	}
	fmt.Fprintf(stderr, "%s: %d users\n", f.users, len(o.Users))
	return o, opts, nil
}

// discover fills in o's EWS URL with Autodiscover and says from where on
// stderr; it returns the options that record GroupingInformation.
func discover(ctx context.Context, f flags, o *org.Organization, stderr io.Writer) ([]impersonation.Option, error) {
	adOpts := append([]autodiscover.Option(nil), f.adOptions...)
	if f.allowHosts != "" {
		adOpts = append(adOpts, autodiscover.WithAllowedHosts(strings.Split(f.allowHosts, ",")...))
	}
	var opts []impersonation.Option
	if len(f.ewsOptions) > 0 {
		opts = append(opts, impersonation.WithEWSOptions(f.ewsOptions...))
	}
	if o.Email.EWSURL != "" {
		fmt.Fprintf(stderr, "EWS URL: %s (given with -ews-url; Autodiscover only for GroupingInformation)\n", o.Email.EWSURL)
		return append(opts, impersonation.WithGroupingInformation(adOpts...)), nil
	}
	addr, err := impersonation.DiscoveryAddress(o)
	if err != nil {
		return nil, err
	}
	d, err := impersonation.DiscoverEWSURL(ctx, &o.Email, addr, adOpts...)
	if err != nil {
		fmt.Fprintf(stderr, "Autodiscover for %s found no EWS URL. Candidates:\n", addr)
		if d != nil {
			for _, a := range d.Attempts {
				fmt.Fprintf(stderr, "  %s\n", a)
			}
		}
		return nil, fmt.Errorf("%w; give -ews-url, or -autodiscover-allow for a host you trust", err)
	}
	fmt.Fprintf(stderr, "EWS URL: %s (from %s)\n", d.EWSURL, d.From)
	return append(opts, impersonation.WithGroupingInformation(adOpts...)), nil
}
