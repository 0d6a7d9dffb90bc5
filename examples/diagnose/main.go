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

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/examples/internal/demo"
	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/org"
)

type flags struct {
	demo         bool
	demoMailbox  string
	ewsURL       string
	logon        string
	password     string
	passFile     string
	mailbox      string
	auth         string
	version      string
	insecureHTTP bool
	skipVerify   bool
	caFile       string
	writeTest    bool
	json         bool
	stepTimeout  time.Duration

	tenant, clientID  string
	secretFile        string
	certFile, keyFile string
	authority         string
}

func main() {
	var f flags
	flag.BoolVar(&f.demo, "demo", false, "run against an embedded fake Exchange server with a demo organization")
	flag.StringVar(&f.demoMailbox, "demo-mailbox", "ok", "with -demo: the mailbox to diagnose, an address or ok, out-of-scope, no-mailbox, proxy-address")
	flag.StringVar(&f.ewsURL, "ews-url", "", "EWS URL, https://<host>/EWS/Exchange.asmx")
	flag.StringVar(&f.logon, "logon", "", `service account logon, DOMAIN\user or user@domain`)
	flag.StringVar(&f.passFile, "password-file", "", "file holding the service account's password (default: $SCC_PASSWORD)")
	flag.StringVar(&f.password, "password", "", "the password itself (UNSAFE: visible in the process list and shell history)")
	flag.StringVar(&f.mailbox, "mailbox", "", "the mailbox to diagnose: its primary SMTP address (or SID)")
	flag.StringVar(&f.auth, "auth", "auto", "authentication: ntlm, basic or auto (what the server offers)")
	flag.StringVar(&f.version, "exchange-version", "", "RequestServerVersion, e.g. Exchange2013_SP1 (default: the client's)")
	flag.BoolVar(&f.insecureHTTP, "insecure-http", false, "allow an http:// EWS URL (lab servers only)")
	flag.BoolVar(&f.skipVerify, "insecure-skip-verify", false, "go on past certificate problems (reported as warnings); never for production")
	flag.StringVar(&f.caFile, "ca-file", "", "PEM file of CA certificates to trust instead of the system's (an internal CA)")
	flag.BoolVar(&f.writeTest, "write-test", false, "also create a test message in the mailbox's Drafts and delete it")
	flag.BoolVar(&f.json, "json", false, "print the diagnosis as JSON")
	flag.DurationVar(&f.stepTimeout, "step-timeout", impersonation.DefaultStepTimeout, "time limit of each network step")
	flag.StringVar(&f.tenant, "tenant", "", "Exchange Online app-only: the Microsoft Entra tenant (GUID or contoso.onmicrosoft.com)")
	flag.StringVar(&f.clientID, "client-id", "", "Exchange Online app-only: the application (client) ID; the secret comes from $SCC_CLIENT_SECRET or -client-secret-file")
	flag.StringVar(&f.secretFile, "client-secret-file", "", "Exchange Online app-only: file holding the client secret")
	flag.StringVar(&f.certFile, "cert-file", "", "Exchange Online app-only: the app's certificate (PEM), instead of a secret")
	flag.StringVar(&f.keyFile, "key-file", "", "Exchange Online app-only: the certificate's RSA private key (PEM)")
	flag.StringVar(&f.authority, "authority", impersonation.DefaultAuthority, "Exchange Online app-only: the Microsoft Entra ID authority")
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
	var opts []impersonation.DiagnoseOption
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
		opts = append(opts, impersonation.WithHTTPClient(d.Server.Client()))
		fmt.Fprintf(stderr, "Demo: fake Exchange at %s, service account %s; try -demo-mailbox out-of-scope, no-mailbox or proxy-address\n", d.Server.EWSURL(), demo.ServiceLogon)
	} else {
		var err error
		if f.tenant != "" || f.clientID != "" {
			if cfg, err = appOnlyConfiguration(f); err != nil {
				return 2, err
			}
			cc, err := impersonation.NewClientCredentials(cfg, f.authority, nil)
			if err != nil {
				return 2, err
			}
			opts = append(opts, impersonation.WithEWSOptions(ews.WithBearerToken(cc.Token)))
		} else if cfg, err = realConfiguration(f, stderr); err != nil {
			return 2, err
		}
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

// realConfiguration builds the email configuration from the flags.
func realConfiguration(f flags, stderr io.Writer) (org.EmailConfiguration, error) {
	if f.ewsURL == "" || f.logon == "" || f.mailbox == "" {
		return org.EmailConfiguration{}, errors.New("need -ews-url, -logon and -mailbox (or -tenant and -client-id for Exchange Online app-only, or -demo); see -help")
	}
	pw, err := password(f, stderr)
	if err != nil {
		return org.EmailConfiguration{}, err
	}
	cfg := org.EmailConfiguration{
		AccessType:        org.Impersonation,
		AccountLogon:      f.logon,
		Password:          org.NewSecret(pw),
		EWSURL:            f.ewsURL,
		ExchangeVersion:   f.version,
		AllowInsecureHTTP: f.insecureHTTP,
	}
	switch strings.ToLower(f.auth) {
	case "ntlm":
		cfg.AuthMethod = org.AuthNTLM
	case "basic":
		cfg.AuthMethod = org.AuthBasic
	case "auto", "":
		cfg.AuthMethod = org.AuthNegotiate
	default:
		return org.EmailConfiguration{}, fmt.Errorf("-auth %q: want ntlm, basic or auto", f.auth)
	}
	return cfg, nil
}

// appOnlyConfiguration is the Exchange Online app-only configuration.
func appOnlyConfiguration(f flags) (org.EmailConfiguration, error) {
	if f.mailbox == "" {
		return org.EmailConfiguration{}, errors.New("need -mailbox; see -help")
	}
	if f.ewsURL == "" {
		f.ewsURL = "https://outlook.office365.com/EWS/Exchange.asmx"
	}
	cfg := org.EmailConfiguration{
		AccessType:      org.OnlineAppOnly,
		EWSURL:          f.ewsURL,
		TenantID:        f.tenant,
		ClientID:        f.clientID,
		ExchangeVersion: f.version,
	}
	switch {
	case f.certFile != "" || f.keyFile != "":
		cert, err := os.ReadFile(f.certFile)
		if err != nil {
			return cfg, err
		}
		key, err := os.ReadFile(f.keyFile)
		if err != nil {
			return cfg, err
		}
		cfg.CertificatePEM, cfg.PrivateKey = string(cert), org.NewSecret(string(key))
	case f.secretFile != "":
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return cfg, err
		}
		cfg.ClientSecret = org.NewSecret(strings.TrimRight(string(b), "\r\n"))
	case os.Getenv("SCC_CLIENT_SECRET") != "":
		cfg.ClientSecret = org.NewSecret(os.Getenv("SCC_CLIENT_SECRET"))
	default:
		return cfg, errors.New("no client secret: set $SCC_CLIENT_SECRET, or use -client-secret-file or -cert-file with -key-file")
	}
	return cfg, nil
}

// password reads the password from -password-file, $SCC_PASSWORD or, with
// a warning, -password.
func password(f flags, stderr io.Writer) (string, error) {
	switch {
	case f.passFile != "":
		b, err := os.ReadFile(f.passFile)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case os.Getenv("SCC_PASSWORD") != "":
		return os.Getenv("SCC_PASSWORD"), nil
	case f.password != "":
		fmt.Fprintln(stderr, "WARNING: -password puts the service account's password in the process list and your shell history; use $SCC_PASSWORD or -password-file.")
		return f.password, nil
	}
	return "", errors.New("no password: set $SCC_PASSWORD or use -password-file")
}
