// Package demo builds the demo organization the examples run against: an
// embedded fake Exchange server (scctest) with a service account, a few
// dozen mailboxes, and the usual things that go wrong in a real
// organization — mailboxes outside the service account's management scope,
// an address without a mailbox, a proxy address used as if it were primary,
// and throttling.
package demo

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sccsync/scc/impersonation"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// Service account of the demo organization.
const (
	ServiceLogon    = `CONTOSO\svc-sync`
	ServicePassword = "Demo-Passw0rd!"
	Domain          = "contoso.example"
)

// Options shape the demo organization. The zero value is the README demo.
type Options struct {
	// Users is the number of users (default 40). Up to 50 get readable
	// names; more are numbered (for benchmarks).
	Users int
	// Latency is added to every request the fake serves.
	Latency time.Duration
	// Throttle is the fraction of requests answered ErrorServerBusy with
	// BackOff (default 0: none). The README demo uses 0.05 and 200ms.
	Throttle float64
	BackOff  time.Duration
	// Problems adds the usual problems: users outside the management scope
	// (every 13th), an address without a mailbox and a proxy address.
	Problems bool
	// Seed makes the fake's random choices reproducible (default 1).
	Seed uint64
}

// README returns the options of the README demo.
func README() Options {
	return Options{Users: 40, Throttle: 0.05, BackOff: 200 * time.Millisecond, Problems: true}
}

// Demo is a running demo organization.
type Demo struct {
	// Server is the fake Exchange server (HTTPS with a self-signed
	// certificate).
	Server *scctest.Server
	// Org is the organization: users and an email configuration pointing at
	// Server.
	Org *org.Organization
	// HTTPClient trusts the fake's certificate; [Demo.Options] hands it
	// to the library.
	HTTPClient *http.Client
	// OutOfScope are the addresses outside the service account's scope.
	OutOfScope []string
}

// Start builds and starts the demo. Call Close when done.
func Start(o Options) (*Demo, error) {
	if o.Users == 0 {
		o.Users = 40
	}
	if o.Users < 0 {
		return nil, errors.New("demo: Users must not be negative")
	}
	seed := o.Seed
	if seed == 0 {
		seed = 1
	}
	srv, err := scctest.New(scctest.WithSeed(seed), scctest.WithDomain("CONTOSO", Domain))
	if err != nil {
		return nil, err
	}
	d := &Demo{Server: srv}
	ok := false
	defer func() {
		if !ok {
			srv.Close()
		}
	}()

	users := make([]org.User, 0, o.Users+2)
	var scope []string
	for i := 0; i < o.Users; i++ {
		first, last := name(i, o.Users)
		addr := fmt.Sprintf("%s.%s@%s", first, last, Domain)
		if o.Users > len(firstNames)*len(lastNames)/4 {
			addr = fmt.Sprintf("user%06d@%s", i, Domain)
		}
		m := scctest.Mailbox{PrimarySMTP: addr, DisplayName: title(first) + " " + title(last)}
		proxy := o.Problems && i == 7
		if proxy {
			// The admin typed the short alias, a proxy address.
			m.ProxyAddresses = []string{first + "@" + Domain}
		}
		stored, err := srv.AddMailbox(m)
		if err != nil {
			return nil, fmt.Errorf("demo: adding %s: %w", addr, err)
		}
		if i < demoMailboxesWithMail {
			if err := addDemoMail(srv, addr, i); err != nil {
				return nil, err
			}
		}
		u := org.User{PrimarySMTP: addr, UPN: stored.UPN, SID: stored.SID, DisplayName: stored.DisplayName}
		switch {
		case proxy:
			u = org.User{PrimarySMTP: m.ProxyAddresses[0], DisplayName: stored.DisplayName, ImpersonateBy: org.IdentityPrimarySMTP}
		case i%3 == 1:
			u.ImpersonateBy = org.IdentityPrimarySMTP
		}
		if o.Problems && i%13 == 5 {
			d.OutOfScope = append(d.OutOfScope, addr)
		} else {
			scope = append(scope, addr)
		}
		users = append(users, u)
	}
	if o.Problems {
		// Left the company; the mailbox is gone but the user is still listed.
		users = append(users, org.User{PrimarySMTP: "former.employee@" + Domain, DisplayName: "Former Employee", ImpersonateBy: org.IdentityPrimarySMTP})
	}
	if err := srv.AddServiceAccount(ServiceLogon, ServicePassword, scctest.ImpersonateScope(scope...)); err != nil {
		return nil, err
	}
	if o.Latency > 0 {
		srv.SetLatency(o.Latency, 0)
	}
	if o.Throttle > 0 {
		backOff := o.BackOff
		if backOff == 0 {
			backOff = 200 * time.Millisecond
		}
		srv.InjectFraction(o.Throttle, scctest.ServerBusy(backOff))
	}
	srv.StartTLS()

	d.Org = &org.Organization{
		Name:    "Contoso (demo)",
		Domains: []string{Domain},
		Users:   users,
		Email: org.EmailConfiguration{
			AccessType:   org.Impersonation,
			AccountLogon: ServiceLogon,
			Password:     org.NewSecret(ServicePassword),
			EWSURL:       srv.EWSURL(),
			AuthMethod:   org.AuthNegotiate, // NTLM, as the fake offers it like on-premises Exchange
		},
	}
	// The fake's client trusts its certificate and keeps an idle
	// connection per worker.
	d.HTTPClient = srv.Client()
	ok = true
	return d, nil
}

// Options are the options that point Check, Activate, Renew and Diagnose
// at the fake: its HTTP client.
func (d *Demo) Options() []impersonation.Option {
	return []impersonation.Option{impersonation.WithHTTPClient(d.HTTPClient)}
}

// Close stops the fake server.
func (d *Demo) Close() { d.Server.Close() }

var firstNames = []string{"alex", "anna", "ben", "carla", "david", "elena", "felix", "grace", "hugo", "iris",
	"jonas", "katherine", "liam", "maria", "noah", "olivia", "paul", "quinn", "rosa", "samir"}

var lastNames = []string{"adams", "becker", "chen", "diaz", "evans", "fischer", "garcia", "hansen", "ito", "jones"}

// name returns a readable name for user i.
func name(i, n int) (string, string) {
	f := firstNames[i%len(firstNames)]
	l := lastNames[(i/len(firstNames)+i)%len(lastNames)]
	return f, l
}

func title(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// demoMailboxesWithMail is how many of the demo's mailboxes get a few
// messages in their Inbox, so that Diagnose has something to count; the
// benchmark-sized demos keep the rest empty.
const demoMailboxesWithMail = 50

// addDemoMail puts a few messages in the Inbox of mailbox number i.
func addDemoMail(srv *scctest.Server, addr string, i int) error {
	subjects := []string{"Quarterly report", "Team lunch on Friday", "Your password expires soon", "Project kickoff"}
	for k := 0; k <= i%len(subjects); k++ {
		msg := scctest.Message{Subject: subjects[k], Body: "Demo message.", From: "it@" + Domain, To: []string{addr}, IsRead: k%2 == 1}
		if _, err := srv.AddItem(addr, "inbox", msg); err != nil {
			return fmt.Errorf("demo: adding mail to %s: %w", addr, err)
		}
	}
	return nil
}
