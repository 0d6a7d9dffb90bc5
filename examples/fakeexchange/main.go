// Command fakeexchange serves the scctest fake Exchange server for non-Go
// clients and manual tries. It prints one line "EWS endpoint: <URL>" and
// serves until interrupted (SIGINT or SIGTERM), then shuts down cleanly.
//
//	go run ./examples/fakeexchange -auth ntlm -service 'CONTOSO\svc' -password pw \
//	    -mailboxes alice@contoso.example,bob@contoso.example -deny bob@contoso.example
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
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
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

type options struct {
	addr, auth, service, password, mailboxes, deny, seed, version string
	users, lockout                                                int
	latency                                                       time.Duration
	tls                                                           bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("fakeexchange", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "listen address")
	fs.StringVar(&o.auth, "auth", "ntlm,basic", "auth schemes: basic, ntlm, bearer (comma-separated)")
	fs.StringVar(&o.service, "service", `CONTOSO\svc-sync`, "service account logon")
	fs.StringVar(&o.password, "password", "Passw0rd!", "service account password (and bearer token)")
	fs.StringVar(&o.mailboxes, "mailboxes", "", "comma-separated mailbox addresses")
	fs.IntVar(&o.users, "users", 0, "generate N mailboxes userN@contoso.example")
	fs.StringVar(&o.deny, "deny", "", "comma-separated mailboxes outside the impersonation scope")
	fs.DurationVar(&o.latency, "latency", 0, "latency per request")
	fs.BoolVar(&o.tls, "tls", false, "serve HTTPS with a self-signed certificate")
	fs.StringVar(&o.seed, "seed", "", "JSON seed file (scctest.SeedFile)")
	fs.StringVar(&o.version, "version", "Exchange2019", "Exchange release")
	fs.IntVar(&o.lockout, "lockout", 0, "lock accounts after N failed logons")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
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

// setup builds the server from the options.
func setup(o options) (*scctest.Server, error) {
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
	s, err := scctest.New(scctest.WithAuth(schemes...), scctest.WithVersion(ver), scctest.WithLockout(o.lockout))
	if err != nil {
		return nil, err
	}
	mailboxes := splitList(o.mailboxes)
	for i := 1; i <= o.users; i++ {
		mailboxes = append(mailboxes, fmt.Sprintf("user%d@contoso.example", i))
	}
	for _, m := range mailboxes {
		if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: m}); err != nil {
			s.Close()
			return nil, err
		}
	}
	if o.seed != "" {
		f, err := os.Open(o.seed)
		if err != nil {
			s.Close()
			return nil, err
		}
		err = s.Seed(f)
		f.Close()
		if err != nil {
			s.Close()
			return nil, err
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
		if !existing[strings.ToLower(d)] {
			if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: d}); err != nil {
				s.Close()
				return nil, err
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
			return nil, err
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
	return s, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	s, err := setup(o)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		s.Close()
		return err
	}
	s.SetListener(l)
	if o.tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	fmt.Fprintf(stdout, "EWS endpoint: %s\n", s.EWSURL())
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	s.Close()
	return nil
}
