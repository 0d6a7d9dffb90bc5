// Command fakeexchange serves the scctest fake Exchange server for non-Go
// clients and manual tries. Its first line on stdout is
//
//	EWS endpoint: <URL>
//
// which scripts may parse; with -control a second line follows,
//
//	control API: http://127.0.0.1:<PORT>/v1/
//
// the JSON control API of scctest.ControlHandler (change passwords, add
// mailboxes and items, inject faults, read the request log; documented in
// scctest/README.md). Nothing else goes to stdout. After it, stderr tells a human how to use the
// fake: the service account's logon names and password (the demo default
// "Passw0rd!" is printed; a -password you chose is not echoed), the auth
// schemes offered, the mailboxes and which of them the service account may
// not impersonate, and "Ctrl-C to stop". It serves until SIGINT or SIGTERM,
// then shuts down cleanly, prints "fakeexchange: stopped" on stderr and
// exits with status 0.
//
//	go run ./examples/fakeexchange -auth ntlm -service 'CONTOSO\svc' -password pw \
//	    -mailboxes alice@contoso.example,bob@contoso.example -deny bob@contoso.example
//
// The fake is the Windows domain CONTOSO (DNS contoso.example). As in Active
// Directory, a service account of that domain answers to both of its names,
// CONTOSO\user and user@contoso.example, whichever -service gives; a UPN of
// another domain is that one logon only.
//
// Flags:
//
//	-addr ADDR        listen address (default a free loopback port)
//	-auth SCHEMES     basic, ntlm, bearer or a comma list (default ntlm,basic)
//	-service LOGON    service account logon, DOMAIN\user or UPN (default CONTOSO\svc-sync)
//	-password PW      its password (default "Passw0rd!"); with -auth bearer also the app-only token
//	-mailboxes LIST   comma-separated mailbox addresses
//	-users N          generate N mailboxes user1@contoso.example ... userN@...
//	-deny LIST        mailboxes outside the service account's impersonation scope (created
//	                  if no other flag or the seed makes them; all others are in scope)
//	-latency DUR      delay every request (e.g. 50ms)
//	-tls              serve HTTPS with a self-signed certificate
//	-seed FILE        load a JSON seed (format: scctest.SeedFile)
//	-version NAME     Exchange2019 (default), Exchange2016, Exchange2013SP1, Exchange2010SP3, ExchangeOnline
//	-lockout N        lock an account after N failed logons
//	-control ADDR     serve the JSON control API on ADDR (loopback only, e.g. 127.0.0.1:0)
//	-control-any-address  allow a -control address that is not loopback (no authentication!)
//	-backends LIST    backend (mailbox) server names, also the GroupingInformation (default SCCGRP0..SCCGRP3)
//	-hanging-connection-limit N  open GetStreamingEvents connections per budget (default 10; 3 for Exchange2013SP1)
//	-subscription-limit N        subscriptions per mailbox
//	-stream-lifetime DUR         how long a streaming subscription lives without a connection
//	-max-attachment-size N       largest attachment in bytes
//
// Every flag is validated at start; a bad one exits with status 2 and an
// error naming it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sccsync/scc/scctest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fakeexchange:", err)
		os.Exit(2)
	}
}

// The fake's Windows domain.
const (
	netbiosDomain = "CONTOSO"
	dnsDomain     = "contoso.example"
)

// defaultPassword is the demo password, printed on stderr unless -password
// replaces it.
const defaultPassword = "Passw0rd!"

// controlReadTimeout bounds how long the control API waits for one
// request, headers and body together.
const controlReadTimeout = 5 * time.Second

type options struct {
	addr, auth, service, password, mailboxes, deny, seed, version string
	users, lockout                                                int
	latency                                                       time.Duration
	tls                                                           bool
	// control is the -control listen address ("" for none); controlAny
	// allows one that is not loopback.
	control    string
	controlAny bool
	// autodiscoverCA, when set, serves HTTPS with a certificate for the
	// domain's Autodiscover host names, signed by a fresh CA written here.
	autodiscoverCA string
	// schemaDir, when set, holds Microsoft's EWS schema files, served
	// under /EWS/ (scctest.WithSchemaDir).
	schemaDir string
	// backends names the backend servers (scctest.WithBackends), "" for
	// the default; the limits and the lifetime are scctest's defaults when 0.
	backends                                       string
	hangingLimit, subscriptionLimit, maxAttachment int
	streamLifetime                                 time.Duration
	// passwordGiven is set when -password was on the command line: the
	// password is then the user's and is not echoed.
	passwordGiven bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("fakeexchange", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "listen address")
	fs.StringVar(&o.auth, "auth", "ntlm,basic", "auth schemes: basic, ntlm, bearer (comma-separated)")
	fs.StringVar(&o.service, "service", `CONTOSO\svc-sync`, "service account logon")
	fs.StringVar(&o.password, "password", defaultPassword, "service account password (and bearer token)")
	fs.StringVar(&o.mailboxes, "mailboxes", "", "comma-separated mailbox addresses")
	fs.IntVar(&o.users, "users", 0, "generate N mailboxes userN@contoso.example")
	fs.StringVar(&o.deny, "deny", "", "comma-separated mailboxes outside the impersonation scope")
	fs.DurationVar(&o.latency, "latency", 0, "latency per request")
	fs.BoolVar(&o.tls, "tls", false, "serve HTTPS with a self-signed certificate")
	fs.StringVar(&o.seed, "seed", "", "JSON seed file (scctest.SeedFile)")
	fs.StringVar(&o.version, "version", "Exchange2019", "Exchange release")
	fs.IntVar(&o.lockout, "lockout", 0, "lock accounts after N failed logons")
	fs.StringVar(&o.control, "control", "", "serve the JSON control API on this loopback address, e.g. 127.0.0.1:0")
	fs.BoolVar(&o.controlAny, "control-any-address", false, "allow -control on an address that is not loopback (the API has no authentication)")
	fs.StringVar(&o.autodiscoverCA, "autodiscover-ca", "", "serve HTTPS for "+dnsDomain+", autodiscover."+dnsDomain+" and mail."+dnsDomain+
		" with a certificate from a fresh CA, write the CA (PEM) to this file, and announce https://mail."+dnsDomain+"/EWS/Exchange.asmx in Autodiscover")
	fs.StringVar(&o.schemaDir, "schema-dir", "", "serve services.wsdl, messages.xsd and types.xsd from this directory under /EWS/ (e.g. ../shared/ews-schema; scc does not ship them)")
	fs.StringVar(&o.backends, "backends", "", "comma-separated backend (mailbox) server names, also the GroupingInformation (default SCCGRP0..SCCGRP3)")
	fs.IntVar(&o.hangingLimit, "hanging-connection-limit", 0, "open GetStreamingEvents connections per budget (HangingConnectionLimit; default 10, 3 for Exchange2013SP1)")
	fs.IntVar(&o.subscriptionLimit, "subscription-limit", 0, "subscriptions per mailbox (EWSMaxSubscriptions; default scctest's)")
	fs.DurationVar(&o.streamLifetime, "stream-lifetime", 0, "how long a streaming subscription lives without a connection (default scctest's)")
	fs.IntVar(&o.maxAttachment, "max-attachment-size", 0, "largest attachment in bytes (default scctest's, as Exchange's)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "password" {
			o.passwordGiven = true
		}
	})
	return o, o.validate()
}

// maxUsers bounds -users: each generated mailbox costs memory, and a
// typo of a few zeros should fail at once rather than eat the machine.
const maxUsers = 1000000

// validate checks the flags that setup does not check itself, naming the
// flag in each error.
func (o options) validate() error {
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return fmt.Errorf("-addr %q: want host:port, e.g. 127.0.0.1:8080 (%v)", o.addr, err)
	}
	if len(splitList(o.auth)) == 0 {
		return fmt.Errorf("-auth %q: want basic, ntlm, bearer or a comma list of them", o.auth)
	}
	if o.users < 0 || o.users > maxUsers {
		return fmt.Errorf("-users %d: want 0 to %d", o.users, maxUsers)
	}
	if o.lockout < 0 {
		return fmt.Errorf("-lockout %d: want 0 (never lock) or a positive number of failed logons", o.lockout)
	}
	if o.latency < 0 {
		return fmt.Errorf("-latency %v: want a duration of 0 or more, e.g. 50ms", o.latency)
	}
	for _, n := range []struct {
		flag string
		v    int
	}{{"-hanging-connection-limit", o.hangingLimit}, {"-subscription-limit", o.subscriptionLimit}, {"-max-attachment-size", o.maxAttachment}} {
		if n.v < 0 {
			return fmt.Errorf("%s %d: want a positive number (or leave it out for the default)", n.flag, n.v)
		}
	}
	if o.streamLifetime < 0 {
		return fmt.Errorf("-stream-lifetime %v: want a positive duration, e.g. 10m (or leave it out for the default)", o.streamLifetime)
	}
	if o.backends != "" && len(splitList(o.backends)) == 0 {
		return fmt.Errorf("-backends %q: want a comma list of server names", o.backends)
	}
	if o.control != "" {
		if err := checkControlAddr(o.control, o.controlAny); err != nil {
			return err
		}
	} else if o.controlAny {
		return errors.New("-control-any-address needs -control ADDR")
	}
	if o.service != "" && o.password == "" {
		return errors.New("-password is empty: the service account needs one (or give -service '' for none)")
	}
	for _, l := range []struct{ flag, list string }{{"-mailboxes", o.mailboxes}, {"-deny", o.deny}} {
		for _, a := range splitList(l.list) {
			if u, d, ok := strings.Cut(a, "@"); !ok || u == "" || d == "" || strings.ContainsAny(a, " <>\"") {
				return fmt.Errorf("%s: %q is not an SMTP address", l.flag, a)
			}
		}
	}
	return nil
}

// checkControlAddr refuses a -control address that is not loopback, unless
// any is set: the control API changes passwords and has no authentication.
func checkControlAddr(addr string, allowAny bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-control %q: want host:port, e.g. 127.0.0.1:8081 (%v)", addr, err)
	}
	if allowAny {
		return nil
	}
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost") {
		return nil
	}
	return fmt.Errorf("-control %q: not a loopback address; the control API has no authentication, so serve it on 127.0.0.1 or [::1] (or add -control-any-address)", addr)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// fakeSetup is the server setup builds and what the usage block reports.
type fakeSetup struct {
	srv     *scctest.Server
	schemes []scctest.AuthScheme
	denied  []string // -deny, as given
	seeded  []string // service account logons from -seed
}

// setup builds the server from the options.
func setup(o options) (*fakeSetup, error) {
	var schemes []scctest.AuthScheme
	for _, a := range splitList(o.auth) {
		switch strings.ToLower(a) {
		case "basic":
			schemes = append(schemes, scctest.AuthBasic)
		case "ntlm":
			schemes = append(schemes, scctest.AuthNTLM)
		case "bearer":
			schemes = append(schemes, scctest.AuthBearer)
		default:
			return nil, fmt.Errorf("-auth %q: want basic, ntlm or bearer", a)
		}
	}
	var ver scctest.ServerVersion = -1
	for _, v := range []scctest.ServerVersion{scctest.Exchange2019, scctest.Exchange2016, scctest.Exchange2013SP1, scctest.Exchange2010SP3, scctest.ExchangeOnline} {
		if strings.EqualFold(v.String(), o.version) {
			ver = v
		}
	}
	if ver < 0 {
		return nil, fmt.Errorf("-version %q: want Exchange2019, Exchange2016, Exchange2013SP1, Exchange2010SP3 or ExchangeOnline", o.version)
	}
	opts := []scctest.Option{scctest.WithAuth(schemes...), scctest.WithVersion(ver), scctest.WithLockout(o.lockout),
		scctest.WithDomain(netbiosDomain, dnsDomain)}
	if o.schemaDir != "" {
		opts = append(opts, scctest.WithSchemaDir(o.schemaDir))
	}
	limits := []struct {
		flag string
		set  bool
		opt  scctest.Option
	}{
		{"-backends", o.backends != "", scctest.WithBackends(splitList(o.backends)...)},
		{"-hanging-connection-limit", o.hangingLimit > 0, scctest.WithHangingConnectionLimit(o.hangingLimit)},
		{"-subscription-limit", o.subscriptionLimit > 0, scctest.WithSubscriptionLimit(o.subscriptionLimit)},
		{"-stream-lifetime", o.streamLifetime > 0, scctest.WithStreamingSubscriptionLifetime(o.streamLifetime)},
		{"-max-attachment-size", o.maxAttachment > 0, scctest.WithMaxAttachmentSize(o.maxAttachment)},
	}
	for _, f := range limits {
		if f.set {
			opts = append(opts, f.opt)
		}
	}
	s, err := scctest.New(opts...)
	if err != nil {
		// Name the flag: the first whose option fails alone.
		for _, f := range limits {
			if !f.set {
				continue
			}
			probe, perr := scctest.New(f.opt)
			if perr != nil {
				return nil, fmt.Errorf("%s: %w", f.flag, perr)
			}
			probe.Close()
		}
		if o.schemaDir != "" {
			return nil, fmt.Errorf("-schema-dir: %w", err)
		}
		return nil, err
	}
	mailboxes := splitList(o.mailboxes)
	for i := 1; i <= o.users; i++ {
		mailboxes = append(mailboxes, fmt.Sprintf("user%d@%s", i, dnsDomain))
	}
	for _, m := range mailboxes {
		if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: m}); err != nil {
			s.Close()
			return nil, fmt.Errorf("-mailboxes/-users: %w", err)
		}
	}
	fsu := &fakeSetup{srv: s, schemes: schemes}
	if o.seed != "" {
		raw, err := os.ReadFile(o.seed)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("-seed: %w", err)
		}
		if err := s.Seed(bytes.NewReader(raw)); err != nil {
			s.Close()
			return nil, fmt.Errorf("-seed %s: %w", o.seed, err)
		}
		// Seed accepted the file, so it is a valid SeedFile.
		var sf scctest.SeedFile
		if err := json.Unmarshal(raw, &sf); err == nil {
			for _, a := range sf.ServiceAccounts {
				fsu.seeded = append(fsu.seeded, a.Logon)
			}
		}
	}
	// -deny names mailboxes that exist outside the scope: create the ones
	// no other flag or the seed made. The scope is every other mailbox,
	// seeded ones included.
	denied := map[string]bool{}
	existing := map[string]bool{}
	for _, m := range s.Mailboxes() {
		existing[strings.ToLower(m.PrimarySMTP)] = true
	}
	for _, d := range splitList(o.deny) {
		denied[strings.ToLower(d)] = true
		fsu.denied = append(fsu.denied, d)
		if !existing[strings.ToLower(d)] {
			if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: d}); err != nil {
				s.Close()
				return nil, fmt.Errorf("-deny: %w", err)
			}
			existing[strings.ToLower(d)] = true
		}
	}
	var scope []string
	for _, m := range s.Mailboxes() {
		if !denied[strings.ToLower(m.PrimarySMTP)] {
			scope = append(scope, m.PrimarySMTP)
		}
	}
	grant := scctest.ImpersonateAll()
	if len(denied) > 0 {
		grant = scctest.ImpersonateScope(scope...)
	}
	if o.service != "" {
		if err := s.AddServiceAccount(o.service, o.password, grant); err != nil {
			s.Close()
			return nil, fmt.Errorf("-service %s: %w", o.service, err)
		}
	}
	for _, sc := range schemes {
		if sc == scctest.AuthBearer {
			tok := scctest.Token{Kind: scctest.AppOnly, AppID: "fakeexchange-app"}
			if len(denied) > 0 {
				tok.Scope = scope
			}
			if err := s.AddToken(o.password, tok); err != nil {
				s.Close()
				return nil, err
			}
		}
	}
	if o.latency > 0 {
		s.SetLatency(o.latency, 0)
	}
	return fsu, nil
}

// logonNames returns the names the service account logon answers to: in
// the fake's own domain both DOMAIN\user and user@dnsdomain (as in Active
// Directory, and as scctest accepts them), otherwise logon alone.
func logonNames(logon string) []string {
	user := ""
	if dom, u, ok := strings.Cut(logon, `\`); ok {
		if strings.EqualFold(dom, netbiosDomain) || strings.EqualFold(dom, dnsDomain) {
			user = u
		}
	} else if u, dom, ok := strings.Cut(logon, "@"); ok {
		if strings.EqualFold(dom, dnsDomain) {
			user = u
		}
	} else {
		user = logon
	}
	if user == "" || strings.ContainsAny(user, `@\`) {
		return []string{logon}
	}
	return []string{netbiosDomain + `\` + user, user + "@" + dnsDomain}
}

// listFirst joins the first n items and says how many more there are.
func listFirst(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s, ... (%d more)", strings.Join(items[:n], ", "), len(items)-n)
}

// printUsage tells a human on w how to use the running fake. It never
// echoes a password the user chose.
func printUsage(w io.Writer, o options, f *fakeSetup) {
	pw := o.password
	if o.passwordGiven {
		pw = "(the -password you gave)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "fakeexchange: a fake %s (domain %s, %s), all state in memory\n", f.srv.Version(), netbiosDomain, dnsDomain)
	if o.service != "" {
		fmt.Fprintf(&b, "  logon:        %s\n", strings.Join(logonNames(o.service), " or "))
		fmt.Fprintf(&b, "  password:     %s\n", pw)
	} else {
		fmt.Fprintf(&b, "  logon:        none (-service is empty)\n")
	}
	if len(f.seeded) > 0 {
		fmt.Fprintf(&b, "  seeded:       %s (passwords as in %s)\n", listFirst(f.seeded, 5), o.seed)
	}
	names := make([]string, len(f.schemes))
	bearer := false
	for i, sc := range f.schemes {
		names[i] = string(sc)
		bearer = bearer || sc == scctest.AuthBearer
	}
	fmt.Fprintf(&b, "  auth:         %s\n", strings.Join(names, ", "))
	if bearer {
		fmt.Fprintf(&b, "  bearer token: %s (app-only; send ExchangeImpersonation and X-AnchorMailbox)\n", pw)
	}
	var addrs []string
	for _, m := range f.srv.Mailboxes() {
		addrs = append(addrs, m.PrimarySMTP)
	}
	switch len(addrs) {
	case 0:
		fmt.Fprintf(&b, "  mailboxes:    none (add some with -mailboxes, -users or -seed)\n")
	case 1:
		fmt.Fprintf(&b, "  mailboxes:    1 (%s)\n", addrs[0])
	default:
		fmt.Fprintf(&b, "  mailboxes:    %d (%s)\n", len(addrs), listFirst(addrs, 5))
	}
	if len(f.denied) > 0 {
		fmt.Fprintf(&b, "  denied:       %s (outside the impersonation scope)\n", listFirst(f.denied, 5))
	} else {
		fmt.Fprintf(&b, "  denied:       none (every mailbox may be impersonated)\n")
	}
	if o.tls && o.autodiscoverCA == "" {
		fmt.Fprintf(&b, "  tls:          self-signed certificate; let your client skip verification\n")
	}
	if o.autodiscoverCA != "" {
		fmt.Fprintf(&b, "  autodiscover: SOAP, POX and JSON for %s, autodiscover.%s and mail.%s (port 443): point those names at this\n", dnsDomain, dnsDomain, dnsDomain)
		fmt.Fprintf(&b, "                server and trust the CA in %s\n", o.autodiscoverCA)
	}
	b.WriteString("Ctrl-C to stop.\n")
	_, _ = io.WriteString(w, b.String())
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	// Catch signals before anything else: a SIGTERM that arrives while the
	// mailboxes are being made (or just after the endpoint line is read)
	// still ends in a clean shutdown, and a start with SIGTERM ignored
	// (inherited by background jobs in some CI shells) still obeys it.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	f, err := setup(o)
	if err != nil {
		return err
	}
	s := f.srv
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		s.Close()
		return err
	}
	s.SetListener(l)
	if o.autodiscoverCA != "" {
		if err := startAutodiscover(s, o.autodiscoverCA); err != nil {
			s.Close()
			return err
		}
	} else if o.tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	var control *http.Server
	controlDone := make(chan error, 1)
	if o.control != "" {
		cl, err := net.Listen("tcp", o.control)
		if err != nil {
			s.Close()
			return fmt.Errorf("-control: %w", err)
		}
		// Control requests are small: a client that stalls mid-request
		// (headers or body) is cut after controlReadTimeout instead of
		// holding a connection and a goroutine for ever.
		control = &http.Server{Handler: scctest.ControlHandler(s), ReadHeaderTimeout: controlReadTimeout, ReadTimeout: controlReadTimeout, WriteTimeout: 2 * controlReadTimeout, IdleTimeout: 2 * time.Minute}
		go func() { controlDone <- control.Serve(cl) }()
		fmt.Fprintf(stdout, "EWS endpoint: %s\ncontrol API: http://%s/v1/\n", s.EWSURL(), cl.Addr())
	} else {
		fmt.Fprintf(stdout, "EWS endpoint: %s\n", s.EWSURL())
	}
	if o.autodiscoverCA != "" {
		fmt.Fprintf(stdout, "Autodiscover: https://autodiscover.%s/autodiscover/autodiscover.svc at %s (CA in %s)\n", dnsDomain, l.Addr(), o.autodiscoverCA)
	}
	printUsage(stderr, o, f)
	<-ctx.Done()
	if control != nil {
		// Control requests are short; give them a moment, then cut.
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if control.Shutdown(sctx) != nil {
			_ = control.Close()
		}
		cancel()
		<-controlDone
	}
	s.Close()
	fmt.Fprintln(stderr, "fakeexchange: stopped")
	return nil
}

// startAutodiscover starts s over HTTPS with a certificate for the domain's
// Autodiscover names from a fresh CA, which it writes to caFile, and makes
// Autodiscover announce the EWS URL on mail.<domain> (port 443: a client
// maps the names to the listener itself, e.g. by patching its resolver).
func startAutodiscover(s *scctest.Server, caFile string) error {
	h, err := scctest.NewHosts()
	if err != nil {
		return err
	}
	if err := os.WriteFile(caFile, h.CAPEM(), 0o644); err != nil {
		return fmt.Errorf("writing the Autodiscover CA: %w", err)
	}
	s.SetAutodiscoverEWSURL("https://mail."+dnsDomain+scctest.EWSPath, "")
	return h.StartTLS(s, dnsDomain, "autodiscover."+dnsDomain, "mail."+dnsDomain)
}
