// Command diagnose runs the "Service Account Access" connectivity test for
// one mailbox, step by step (configuration, DNS, TCP, TLS, EWS endpoint,
// auth schemes, logon, Exchange version, impersonation, inbox, optional
// write test), and prints what failed and what to do.
//
// Try it without an Exchange server (an embedded fake with a demo
// organization):
//
//	go run ./examples/diagnose -demo
//	go run ./examples/diagnose -demo -demo-mailbox out-of-scope
//
// -demo-mailbox takes an address of the demo organization or one of the
// keywords ok, out-of-scope, no-mailbox and proxy-address.
//
// Against a real server (the password comes from $SCC_PASSWORD or a file):
//
//	SCC_PASSWORD=... go run ./examples/diagnose \
//	    -ews-url https://mail.contoso.com/EWS/Exchange.asmx \
//	    -logon 'CONTOSO\svc-sync' -mailbox anna@contoso.com -write-test
//
// Exchange Online app-only OAuth (the client secret comes from
// $SCC_CLIENT_SECRET or a file, or use -cert-file and -key-file):
//
//	SCC_CLIENT_SECRET=... go run ./examples/diagnose \
//	    -tenant contoso.onmicrosoft.com -client-id <application id> -mailbox anna@contoso.com
//
// The exit code is 0 when no step failed (warnings allowed), 1 when one
// did, 2 for usage errors.
package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sccsync/scc/examples/internal/account"
	"github.com/sccsync/scc/examples/internal/demo"
	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/org"
)

type flags struct {
	account.Flags
	demo        bool
	demoMailbox string
	mailbox     string
	skipVerify  bool
	caFile      string
	writeTest   bool
	json        bool
	stepTimeout time.Duration
}

func main() {
	var f flags
	flag.BoolVar(&f.demo, "demo", false, "run against an embedded fake Exchange server with a demo organization")
	flag.StringVar(&f.demoMailbox, "demo-mailbox", "ok", "with -demo: the mailbox to diagnose, an address or ok, out-of-scope, no-mailbox, proxy-address")
	f.Register(flag.CommandLine)
	flag.StringVar(&f.mailbox, "mailbox", "", "the mailbox to diagnose: its primary SMTP address (or SID)")
	flag.BoolVar(&f.skipVerify, "insecure-skip-verify", false, "go on past certificate problems (reported as warnings); never for production")
	flag.StringVar(&f.caFile, "ca-file", "", "PEM file of CA certificates to trust instead of the system's (an internal CA)")
	flag.BoolVar(&f.writeTest, "write-test", false, "also create a test message in the mailbox's Drafts and delete it")
	flag.BoolVar(&f.json, "json", false, "print the diagnosis as JSON")
	flag.DurationVar(&f.stepTimeout, "step-timeout", impersonation.DefaultStepTimeout, "time limit of each network step")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, f, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "diagnose:", err)
	}
	os.Exit(code)
}

// run returns the exit code: 0 no step failed, 1 a step failed, 2 usage
// or setup error.
func run(ctx context.Context, f flags, stdout, stderr io.Writer) (int, error) {
	var opts []impersonation.Option
	if f.writeTest {
		opts = append(opts, impersonation.WithWriteTest())
	}
	if f.stepTimeout > 0 {
		opts = append(opts, impersonation.WithStepTimeout(f.stepTimeout))
	}
	var cfg org.EmailConfiguration
	var mailbox string
	if f.demo {
		d, err := demo.Start(demo.Options{Problems: true})
		if err != nil {
			return 2, err
		}
		defer d.Close()
		if mailbox, err = demoMailbox(d, f.demoMailbox); err != nil {
			return 2, err
		}
		cfg = d.Org.Email
		opts = append(opts, d.Options()...)
		fmt.Fprintf(stderr, "Demo: fake Exchange at %s, service account %s; try -demo-mailbox out-of-scope, no-mailbox or proxy-address\n", d.Server.EWSURL(), demo.ServiceLogon)
	} else {
		if f.mailbox == "" {
			return 2, errors.New("need -ews-url, -logon and -mailbox (or -tenant, -client-id and -mailbox for Exchange Online app-only, or -demo); see -help")
		}
		var more []impersonation.Option
		var err error
		if cfg, more, err = f.Configuration(stderr); err != nil {
			return 2, err
		}
		opts = append(opts, more...)
		mailbox = f.mailbox
		if f.caFile != "" {
			pem, err := os.ReadFile(f.caFile)
			if err != nil {
				return 2, err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return 2, fmt.Errorf("%s holds no PEM certificate", f.caFile)
			}
			opts = append(opts, impersonation.WithRootCAs(pool))
		}
	}
	if f.skipVerify {
		fmt.Fprintln(stderr, "WARNING: -insecure-skip-verify: certificate problems are reported as warnings and the EWS requests do not verify the server; use it only to look behind a broken certificate.")
		opts = append(opts, impersonation.WithInsecureSkipVerify())
	}

	d, err := impersonation.Diagnose(ctx, cfg, mailbox, opts...)
	if d == nil {
		return 2, err
	}
	if f.json {
		if werr := d.WriteJSON(stdout); werr != nil {
			return 2, werr
		}
	} else if werr := d.WriteText(stdout); werr != nil {
		return 2, werr
	}
	if err != nil {
		return 1, err // cancelled
	}
	if !d.OK() {
		return 1, nil
	}
	return 0, nil
}

// demoMailbox maps a keyword or address to a mailbox of the demo.
func demoMailbox(d *demo.Demo, which string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(which)) {
	case "", "ok":
		return d.Org.Users[0].PrimarySMTP, nil
	case "out-of-scope":
		if len(d.OutOfScope) == 0 {
			return "", errors.New("the demo has no out-of-scope mailbox")
		}
		return d.OutOfScope[0], nil
	case "no-mailbox":
		return "former.employee@" + demo.Domain, nil
	case "proxy-address":
		// The demo's user list holds one alias typed as if it were the
		// primary address.
		for _, u := range d.Org.Users {
			if local, _, _ := strings.Cut(u.PrimarySMTP, "@"); !strings.Contains(local, ".") {
				return u.PrimarySMTP, nil
			}
		}
		return "", errors.New("the demo has no proxy address")
	}
	return which, nil
}
