package impersonation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sccsync/scc/ews/autodiscover"
	"github.com/sccsync/scc/org"
)

// ErrEWSURLNotDiscovered is returned (wrapped in a StopError by Check) for
// a configuration that asks for discovery but has no EWS URL yet.
var ErrEWSURLNotDiscovered = errors.New("impersonation: the EWS URL is to be found with Autodiscover and is still empty: run DiscoverEWSURL and save the organization first")

// exchangeOnlineEWSURL is Exchange Online's one EWS endpoint.
const exchangeOnlineEWSURL = "https://outlook.office365.com/EWS/Exchange.asmx"

// Discovery says where Autodiscover found an organization's EWS URL, for
// the admin panel's EWS URL field.
type Discovery struct {
	// EWSURL is the URL found.
	EWSURL string
	// From says where it came from, for people, e.g. "SOAP Autodiscover at
	// https://autodiscover.contoso.com/autodiscover/autodiscover.svc
	// (autodiscover.<domain>) for alice@contoso.com".
	From string
	// Address is the email address discovery ran for.
	Address string
	// Endpoint, Protocol, Source and Via are those of the answering
	// Autodiscover request (see autodiscover.Result); empty for Exchange
	// Online's fixed URL.
	Endpoint string
	Protocol autodiscover.Protocol
	Source   autodiscover.Source
	Via      []string
	// GroupingInformation is the address's, when the answer had it.
	GroupingInformation string
	// Attempts lists every candidate tried, with its outcome and reason;
	// Unconfirmed the hosts that were seen but not trusted (list them with
	// autodiscover.WithAllowedHosts to confirm them).
	Attempts    []autodiscover.Attempt
	Unconfirmed []autodiscover.Unconfirmed
}

// DiscoveryAddress returns the address to run Autodiscover for: the service
// account's when Account Logon is a UPN (user@domain), otherwise the first
// user's primary SMTP address.
func DiscoveryAddress(o *org.Organization) (string, error) {
	if o == nil {
		return "", errors.New("impersonation: DiscoveryAddress: organization is nil")
	}
	if l := strings.TrimSpace(o.Email.AccountLogon); strings.Contains(l, "@") && !strings.Contains(l, `\`) {
		return l, nil
	}
	for _, u := range o.Users {
		if a := strings.TrimSpace(u.PrimarySMTP); a != "" {
			return a, nil
		}
	}
	return "", errors.New("impersonation: no address to run Autodiscover for: Account Logon is not user@domain and the organization has no users; add a user or enter the EWS URL")
}

// NewAutodiscoverClient returns an Autodiscover client with cfg's service
// account: NTLM for Microsoft Exchange Impersonation (Basic when the auth
// method is Basic; Autodiscover sends Basic only to a host that offers
// nothing stronger, so choose NTLM or Negotiate for servers that offer NTLM
// too). opts follow (tests route host names with
// autodiscover.WithDialer; an admin confirms a host with
// autodiscover.WithAllowedHosts).
func NewAutodiscoverClient(cfg org.EmailConfiguration, opts ...autodiscover.Option) (*autodiscover.Client, error) {
	var ao []autodiscover.Option
	switch cfg.AccessType {
	case org.Impersonation:
		if cfg.AccountLogon == "" || cfg.Password.IsZero() {
			return nil, errors.New("impersonation: the email configuration has no Account Logon or Password for the service account")
		}
		if cfg.AuthMethod == org.AuthBasic {
			ao = append(ao, autodiscover.WithCredentials(autodiscover.Basic(cfg.AccountLogon, cfg.Password.Reveal())))
		} else {
			ao = append(ao, autodiscover.WithCredentials(autodiscover.NTLM(cfg.AccountLogon, cfg.Password.Reveal())))
		}
	case org.OnlineAppOnly:
		// Autodiscover v2 needs no credentials.
		ao = append(ao, autodiscover.WithProtocols(autodiscover.JSON), autodiscover.WithAllowedHosts("outlook.office365.com"))
	case org.DirectLogon:
		return nil, ErrDirectLogon
	default:
		return nil, fmt.Errorf("impersonation: unknown Mailbox Access Type %v", cfg.AccessType)
	}
	c, err := autodiscover.New(append(ao, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("impersonation: building the Autodiscover client: %w", err)
	}
	return c, nil
}

// DiscoverEWSURL finds the EWS URL for address with Autodiscover and cfg's
// service account, and on success fills in cfg.EWSURL; save the
// organization afterwards. For Exchange Online app-only OAuth it sets the
// one Exchange Online URL without asking anything. On failure cfg is
// unchanged and the Discovery (non-nil whenever Autodiscover ran) lists
// every attempt; the error matches autodiscover.ErrNotFound, and
// autodiscover.ErrNeedsConfirmation when a host awaits an admin's
// confirmation.
func DiscoverEWSURL(ctx context.Context, cfg *org.EmailConfiguration, address string, opts ...autodiscover.Option) (*Discovery, error) {
	if cfg == nil {
		return nil, errors.New("impersonation: DiscoverEWSURL: configuration is nil")
	}
	if cfg.AccessType == org.OnlineAppOnly {
		cfg.EWSURL = exchangeOnlineEWSURL
		return &Discovery{EWSURL: exchangeOnlineEWSURL, Address: address,
			From: "Exchange Online's one EWS endpoint (app-only OAuth); nothing was asked"}, nil
	}
	c, err := NewAutodiscoverClient(*cfg, opts...)
	if err != nil {
		return nil, err
	}
	defer c.CloseIdleConnections()
	res, err := c.Discover(ctx, address)
	if err != nil {
		d := &Discovery{Address: address}
		var ae *autodiscover.Error
		if errors.As(err, &ae) {
			d.Attempts, d.Unconfirmed = ae.Attempts, ae.Unconfirmed
		}
		return d, fmt.Errorf("impersonation: %w", err)
	}
	cfg.EWSURL = res.EWSURL
	return &Discovery{
		EWSURL:              res.EWSURL,
		From:                describeFrom(res),
		Address:             res.Email,
		Endpoint:            res.Endpoint,
		Protocol:            res.Protocol,
		Source:              res.Source,
		Via:                 res.Via,
		GroupingInformation: res.Settings.GroupingInformation(),
		Attempts:            res.Attempts,
		Unconfirmed:         res.Unconfirmed,
	}, nil
}

// describeFrom is where a result came from, for people.
func describeFrom(res *autodiscover.Result) string {
	how := map[autodiscover.Source]string{
		autodiscover.SourceDomain:           "the email domain",
		autodiscover.SourceAutodiscoverHost: "autodiscover.<domain>",
		autodiscover.SourceHTTPRedirect:     "the redirect of http://autodiscover.<domain>",
		autodiscover.SourceSRV:              "the DNS SRV record _autodiscover._tcp.<domain>",
	}[res.Source]
	if how == "" {
		how = string(res.Source)
	}
	s := fmt.Sprintf("%s Autodiscover at %s (found via %s) for %s", res.Protocol, res.Endpoint, how, res.Email)
	if len(res.Via) > 0 {
		s += fmt.Sprintf(", after %d redirect(s)", len(res.Via))
	}
	return s
}

// recordGrouping fills in each result's GroupingInformation from SOAP
// Autodiscover ([WithGroupingInformation]). Failures are recorded in
// Report.Autodiscover; they never stop the check.
func (r *run) recordGrouping(ctx context.Context) {
	addrs := make([]string, len(r.users))
	for i, u := range r.users {
		addrs[i] = strings.TrimSpace(u.PrimarySMTP)
	}
	info, note := groupingInformation(ctx, r.cfg, addrs, r.s.groupingOpt)
	for i, g := range info {
		if g != "" {
			r.report.Results[i].GroupingInformation = g
		}
	}
	r.report.Autodiscover = note
}

// groupingInformation asks SOAP Autodiscover for the GroupingInformation
// of addrs (one Discover for the first address, then GetUserSettings at
// the endpoint that answered): one value per address, "" where none came,
// and a note saying where they came from or why not.
func groupingInformation(ctx context.Context, cfg org.EmailConfiguration, addrs []string, opts []autodiscover.Option) ([]string, string) {
	if len(addrs) == 0 {
		return nil, "no users"
	}
	c, err := NewAutodiscoverClient(cfg, opts...)
	if err != nil {
		return nil, "GroupingInformation not available: " + err.Error()
	}
	defer c.CloseIdleConnections()
	first := ""
	for _, a := range addrs {
		if a != "" {
			first = a
			break
		}
	}
	res, err := c.Discover(ctx, first)
	if err != nil {
		return nil, "GroupingInformation not available: " + err.Error()
	}
	if res.Protocol != autodiscover.SOAP {
		return nil, fmt.Sprintf("GroupingInformation not available: %s answered over %s, and only SOAP Autodiscover serves many users", res.Endpoint, res.Protocol)
	}
	answers, err := c.GetUserSettings(ctx, res.Endpoint, addrs, autodiscover.SettingExternalEwsURL, autodiscover.SettingGroupingInformation)
	if err != nil {
		return nil, "GroupingInformation not available: " + err.Error()
	}
	out := make([]string, len(addrs))
	n := 0
	for i, a := range answers {
		if i < len(out) && a.Err == nil && a.Settings.GroupingInformation() != "" {
			out[i] = a.Settings.GroupingInformation()
			n++
		}
	}
	return out, fmt.Sprintf("GroupingInformation for %d of %d users from %s", n, len(answers), res.Endpoint)
}
