package autodiscover

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// UserResponse is the answer of GetUserSettings for one mailbox.
type UserResponse struct {
	// Mailbox is the address asked about; Address the one the settings are
	// for (different after RedirectAddress).
	Mailbox, Address string
	// Endpoint is the Autodiscover URL that answered.
	Endpoint string
	// Settings holds the settings the server returned.
	Settings UserSettings
	// SettingErrors lists requested settings the server could not give.
	SettingErrors []SettingError
	// Redirects lists the redirects followed (URLs and mailto: addresses).
	Redirects []string
	// Err is why there are no settings: a [*UserError] with the server's
	// code, a refusal, or the failure of the request that carried the user.
	Err error
}

// UserError is a per-user ErrorCode other than NoError (InvalidUser,
// InvalidRequest, ServerBusy, ...), or a redirect that was not followed.
type UserError struct {
	Mailbox string
	Code    string
	Message string
}

func (e *UserError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("autodiscover: GetUserSettings for %s: %s", e.Mailbox, e.Code)
	}
	return fmt.Sprintf("autodiscover: GetUserSettings for %s: %s: %s", e.Mailbox, e.Code, e.Message)
}

// job is one user to ask at one endpoint.
type job struct {
	idx      int
	addr     string
	endpoint *url.URL
	hops     int
	seen     map[string]bool // addresses and URLs of this user's redirects
}

// GetUserSettings asks the SOAP Autodiscover endpoint (e.g. the Endpoint of
// a [Result] with Protocol SOAP) for settings of many mailboxes, at most
// [MaxUsersPerRequest] per request and [WithConcurrency] requests at once.
// settings default to [DefaultSettings]. The result has one entry per
// mailbox, in order; a failure for some users is in their Err, never a
// dropped user. RedirectAddress is asked again at the same endpoint,
// RedirectUrl at the new one (https and allowed hosts only), up to
// [WithMaxHops] per user; users missing from a short (throttled) answer are
// asked again.
//
// Credentials follow the rules of [Client.Discover], with the registered
// domain of the first mailbox: endpoint must be https on that domain or on
// a host listed with [WithAllowedHosts]. The error is non-nil only when
// nothing could be asked (bad endpoint, no mailboxes, cancelled context).
func (c *Client) GetUserSettings(ctx context.Context, endpoint string, mailboxes []string, settings ...string) ([]UserResponse, error) {
	if len(mailboxes) == 0 {
		return nil, errors.New("autodiscover: GetUserSettings: no mailboxes")
	}
	ep, err := url.Parse(endpoint)
	if err != nil || ep.Host == "" {
		return nil, fmt.Errorf("autodiscover: GetUserSettings: endpoint %q is not a URL", shorten(endpoint))
	}
	if len(settings) == 0 {
		settings = defaultSettings
	}
	for _, s := range settings {
		if s == "" || strings.ContainsAny(s, " <>&\r\n\t") {
			return nil, fmt.Errorf("autodiscover: GetUserSettings: %q is not a setting name", shorten(s))
		}
	}
	dom, err := domainOf(mailboxes[0])
	if err != nil {
		return nil, err
	}
	rd, err := registeredDomain(dom)
	if err != nil {
		return nil, err
	}
	pol := &policy{registered: rd, listed: c.listedHosts()}
	if c.cfg.cred.kind != credNone {
		if err := pol.credentialsAllowed(ep, c.cfg.cred); err != nil {
			return nil, fmt.Errorf("autodiscover: GetUserSettings: refusing endpoint: %v", err)
		}
	} else if ep.Scheme != "https" {
		return nil, fmt.Errorf("autodiscover: GetUserSettings: endpoint %s is not https", ep.Redacted())
	}

	out := make([]UserResponse, len(mailboxes))
	var pending []job
	for i, m := range mailboxes {
		out[i] = UserResponse{Mailbox: m, Address: m}
		if _, err := domainOf(m); err != nil {
			out[i].Err = err
			continue
		}
		pending = append(pending, job{idx: i, addr: m, endpoint: ep, seen: map[string]bool{"mailto:" + strings.ToLower(m): true}})
	}
	var mu sync.Mutex
	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			for _, j := range pending {
				out[j.idx].Err = fmt.Errorf("autodiscover: %w", err)
			}
			return out, fmt.Errorf("autodiscover: GetUserSettings: %w", err)
		}
		// Batches share an endpoint.
		byEP := map[string][]job{}
		var order []string
		for _, j := range pending {
			k := j.endpoint.String()
			if _, ok := byEP[k]; !ok {
				order = append(order, k)
			}
			byEP[k] = append(byEP[k], j)
		}
		var next []job
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(c.cfg.concurrency)
		for _, k := range order {
			js := byEP[k]
			for start := 0; start < len(js); start += MaxUsersPerRequest {
				batch := js[start:min(start+MaxUsersPerRequest, len(js))]
				g.Go(func() error {
					again := c.batch(gctx, pol, batch, settings, out, &mu)
					mu.Lock()
					next = append(next, again...)
					mu.Unlock()
					return nil
				})
			}
		}
		_ = g.Wait()
		pending = next
	}
	return out, nil
}

// batch sends one GetUserSettings request and files its answers; it returns
// the jobs to ask again (redirects, users missing from a short answer).
func (c *Client) batch(ctx context.Context, pol *policy, batch []job, settings []string, out []UserResponse, mu *sync.Mutex) []job {
	ep := batch[0].endpoint
	fail := func(err error) []job {
		if _, ok := err.(*UserError); !ok {
			// Server text may echo a secret; none of these wrap a cause.
			err = errors.New(c.scrub(err.Error()))
		}
		mu.Lock()
		defer mu.Unlock()
		for _, j := range batch {
			out[j.idx].Err = err
			out[j.idx].Endpoint = ep.Redacted()
		}
		return nil
	}
	addrs := make([]string, len(batch))
	for i, j := range batch {
		addrs[i] = j.addr
	}
	body, err := soapRequest(ep.String(), addrs, settings)
	if err != nil {
		return fail(fmt.Errorf("autodiscover: building GetUserSettings: %w", err))
	}
	rep, err := c.send(ctx, pol, http.MethodPost, ep, "text/xml; charset=utf-8", body, true)
	if err != nil {
		return fail(fmt.Errorf("autodiscover: GetUserSettings at %s: %s", ep.Redacted(), describeErr(err)))
	}
	if rep.status != http.StatusOK {
		return fail(fmt.Errorf("autodiscover: GetUserSettings at %s: HTTP %d", ep.Redacted(), rep.status))
	}
	ans, err := parseSOAP(rep.body)
	if err != nil {
		return fail(fmt.Errorf("autodiscover: GetUserSettings at %s: %v", ep.Redacted(), err))
	}
	if ans.code != "NoError" {
		return fail(&UserError{Mailbox: fmt.Sprintf("%d users", len(batch)), Code: ans.code, Message: c.scrub(ans.message)})
	}
	if len(ans.users) > len(batch) {
		return fail(fmt.Errorf("autodiscover: GetUserSettings at %s answered %d users for %d", ep.Redacted(), len(ans.users), len(batch)))
	}
	if len(ans.users) == 0 {
		return fail(fmt.Errorf("autodiscover: GetUserSettings at %s answered no UserResponse", ep.Redacted()))
	}
	mu.Lock()
	defer mu.Unlock()
	var again []job
	for i, j := range batch {
		r := &out[j.idx]
		r.Endpoint = ep.Redacted()
		if i >= len(ans.users) {
			// Short answer (throttled): ask again.
			again = append(again, j)
			continue
		}
		u := ans.users[i]
		switch u.code {
		case "NoError":
			r.Settings, r.SettingErrors, r.Err = u.settings, u.settingErrors, nil
			r.Address = j.addr
			continue
		case "RedirectAddress", "RedirectUrl":
			nj, err := c.redirectJob(pol, j, u.code, u.redirectTarget)
			if err != nil {
				r.Err = err
				continue
			}
			r.Redirects = append(r.Redirects, redirectLabel(u.code, u.redirectTarget))
			again = append(again, nj)
			continue
		}
		r.Err = &UserError{Mailbox: j.addr, Code: u.code, Message: c.scrub(u.message)}
	}
	return again
}

func redirectLabel(code, target string) string {
	if code == "RedirectAddress" {
		return "mailto:" + target
	}
	return target
}

// redirectJob checks a per-user redirect and returns the job that follows it.
func (c *Client) redirectJob(pol *policy, j job, code, target string) (job, error) {
	refuse := func(why string) (job, error) {
		return job{}, &UserError{Mailbox: j.addr, Code: code, Message: "not followed: " + why}
	}
	if j.hops >= c.cfg.maxHops {
		return refuse(fmt.Sprintf("more than %d redirects", c.cfg.maxHops))
	}
	nj := job{idx: j.idx, addr: j.addr, endpoint: j.endpoint, hops: j.hops + 1, seen: j.seen}
	switch code {
	case "RedirectAddress":
		if _, err := domainOf(target); err != nil {
			return refuse("the target is not an email address")
		}
		nj.addr = target
	default:
		u, err := url.Parse(target)
		if err != nil || u.Host == "" {
			return refuse("the target is not a URL")
		}
		if c.cfg.cred.kind != credNone {
			if err := pol.credentialsAllowed(u, c.cfg.cred); err != nil {
				return refuse(err.Error())
			}
		} else if u.Scheme != "https" {
			return refuse("the target is not https")
		}
		nj.endpoint = u
	}
	key := strings.ToLower(redirectLabel(code, target))
	if j.seen[key] {
		return refuse("redirect loop")
	}
	j.seen[key] = true
	return nj, nil
}
