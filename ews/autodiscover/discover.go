package autodiscover

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// domainOf returns the lower-case domain of an email address.
func domainOf(email string) (string, error) {
	if strings.ContainsAny(email, " \t\r\n\x00/\\?#<>\"") {
		return "", fmt.Errorf("autodiscover: %q is not an email address", shorten(email))
	}
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return "", fmt.Errorf("autodiscover: %q is not an email address (want user@domain)", shorten(email))
	}
	d := strings.ToLower(strings.TrimSuffix(email[at+1:], "."))
	if !strings.Contains(d, ".") {
		return "", fmt.Errorf("autodiscover: the domain of %q has no dot", shorten(email))
	}
	return d, nil
}

// listedHosts returns the caller's allow list as a set.
func (c *Client) listedHosts() map[string]bool {
	m := map[string]bool{}
	for _, h := range c.cfg.allowed {
		m[h] = true
	}
	return m
}

// run is the state of one discovery.
type run struct {
	c           *Client
	pol         *policy
	hops        int
	visitedURL  map[string]bool
	visitedAddr map[string]bool
	attempts    []Attempt
	unconfirmed []Unconfirmed
}

// Discover finds the EWS URL and settings of email, trying in the
// documented order: https://<domain>, https://autodiscover.<domain>, the
// unauthenticated GET to http://autodiscover.<domain> and its redirect, and
// the SRV record _autodiscover._tcp.<domain>; at each https candidate the
// protocols of [WithProtocols]. It follows RedirectAddress / redirectAddr,
// RedirectUrl / redirectUrl and HTTP redirects up to [WithMaxHops], never
// twice to the same URL or address.
//
// Credentials go only over https to the registered domain of email (and its
// subdomains) and to hosts listed with [WithAllowedHosts]; a target outside
// them is not contacted and is reported in Unconfirmed. The EWS URL of the
// result is https and on an allowed host too. A failed discovery returns an
// [*Error] that lists every attempt and matches [ErrNotFound] (and
// [ErrNeedsConfirmation] when a target awaits confirmation).
func (c *Client) Discover(ctx context.Context, email string) (*Result, error) {
	email = strings.TrimSpace(email)
	domain, err := domainOf(email)
	if err != nil {
		return nil, &Error{Email: email, Err: err}
	}
	rd, err := registeredDomain(domain)
	if err != nil {
		return nil, &Error{Email: email, Err: err}
	}
	r := &run{
		c:           c,
		pol:         &policy{registered: rd, listed: c.listedHosts()},
		visitedURL:  map[string]bool{},
		visitedAddr: map[string]bool{},
	}
	res := r.address(ctx, email, nil)
	if res != nil {
		res.Email = email
		res.Attempts = r.attempts
		res.Unconfirmed = r.unconfirmed
		return res, nil
	}
	e := &Error{Email: email, Attempts: r.attempts, Unconfirmed: r.unconfirmed}
	if err := ctx.Err(); err != nil {
		e.Err = fmt.Errorf("autodiscover: %w", err)
	}
	return nil, e
}

func (r *run) record(a Attempt) {
	a.Reason, a.URL = r.c.scrub(a.Reason), r.c.scrub(a.URL)
	r.attempts = append(r.attempts, a)
	switch a.Outcome {
	case Refused, NeedsConfirmation:
		r.c.logWarn("autodiscover refused a candidate", "url", a.URL, "source", string(a.Source), "reason", a.Reason)
	default:
		r.c.logDebug("autodiscover attempt", "url", a.URL, "outcome", string(a.Outcome), "reason", a.Reason)
	}
}

func (r *run) confirm(host, u string, src Source, why string) {
	r.unconfirmed = append(r.unconfirmed, Unconfirmed{Host: strings.ToLower(host), URL: r.c.scrub(u), Source: src, Reason: r.c.scrub(why)})
}

// hop counts one redirect; false when the limit is reached.
func (r *run) hop() bool {
	r.hops++
	return r.hops <= r.c.cfg.maxHops
}

// address runs the candidate chain for addr.
func (r *run) address(ctx context.Context, addr string, via []string) *Result {
	key := strings.ToLower(addr)
	if r.visitedAddr[key] {
		r.record(Attempt{URL: "mailto:" + addr, Source: SourceRedirectAddress, Address: addr, Outcome: Refused, Reason: "redirect loop: this address was already asked about"})
		return nil
	}
	r.visitedAddr[key] = true
	domain, err := domainOf(addr)
	if err != nil {
		r.record(Attempt{URL: "mailto:" + addr, Source: SourceRedirectAddress, Address: addr, Outcome: Failed, Reason: err.Error()})
		return nil
	}
	for _, cand := range []struct {
		host string
		src  Source
	}{{domain, SourceDomain}, {"autodiscover." + domain, SourceAutodiscoverHost}} {
		if res, stop := r.host(ctx, addr, cand.host, "", cand.src, via); res != nil || stop {
			return res
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	if res, stop := r.httpRedirect(ctx, addr, domain, via); res != nil || stop || ctx.Err() != nil {
		return res
	}
	res, _ := r.srv(ctx, addr, domain, via)
	return res
}

// host tries every protocol at an https host (hostport may carry a port).
// stop is true when the chain must end here (a redirect to another address
// has been followed, whatever its result).
func (r *run) host(ctx context.Context, addr, host, port string, src Source, via []string) (*Result, bool) {
	hostport := host
	if port != "" && port != "443" {
		hostport = net.JoinHostPort(host, port)
	}
	if r.pol.classify(host) == hostForeign {
		u := "https://" + hostport + "/autodiscover/"
		why := fmt.Sprintf("%s is outside %s and not listed with WithAllowedHosts; not contacted", host, r.pol.registered)
		r.record(Attempt{URL: u, Source: src, Address: addr, Outcome: NeedsConfirmation, Reason: why})
		r.confirm(host, u, src, why)
		return nil, false
	}
	for _, p := range r.c.cfg.protocols {
		var u *url.URL
		if p == JSON {
			u = jsonURL(hostport, addr)
		} else {
			u = &url.URL{Scheme: "https", Host: hostport, Path: p.path()}
		}
		res, next := r.endpoint(ctx, addr, u, p, src, via)
		if res != nil {
			return res, true
		}
		if next != "" {
			return r.address(ctx, next, append(via, "mailto:"+addr)), true
		}
		if ctx.Err() != nil {
			return nil, true
		}
	}
	return nil, false
}

// endpoint asks one endpoint over p, following URL redirects. It returns a
// result, or the address of a RedirectAddress to restart with, or neither.
func (r *run) endpoint(ctx context.Context, addr string, u *url.URL, p Protocol, src Source, via []string) (*Result, string) {
	origin := src
	for {
		a := Attempt{URL: u.Redacted(), Protocol: p, Source: src, Address: addr}
		key := string(p) + " " + strings.ToLower(u.String()) + " " + strings.ToLower(addr)
		if r.visitedURL[key] {
			a.Outcome, a.Reason = Refused, "redirect loop: this URL was already tried for this address"
			r.record(a)
			return nil, ""
		}
		r.visitedURL[key] = true
		if u.Scheme != "https" {
			a.Outcome, a.Reason = Refused, "not https: Autodiscover requests go only over https"
			r.record(a)
			return nil, ""
		}
		if r.pol.classify(u.Hostname()) == hostForeign {
			why := fmt.Sprintf("%s is outside %s and not listed with WithAllowedHosts; not contacted", u.Hostname(), r.pol.registered)
			a.Outcome, a.Reason = NeedsConfirmation, why
			r.record(a)
			r.confirm(u.Hostname(), u.Redacted(), src, why)
			return nil, ""
		}
		var (
			body   []byte
			err    error
			method = http.MethodPost
			ctype  = "text/xml; charset=utf-8"
		)
		switch p {
		case SOAP:
			body, err = soapRequest(u.String(), []string{addr}, defaultSettings)
		case POX:
			body, err = poxRequest(addr)
		case JSON:
			method, ctype = http.MethodGet, ""
		}
		if err != nil {
			a.Outcome, a.Reason = Failed, "building the request: "+err.Error()
			r.record(a)
			return nil, ""
		}
		rep, err := r.c.send(ctx, r.pol, method, u, ctype, body, p != JSON)
		if err != nil {
			var ref *refusal
			if errors.As(err, &ref) {
				a.Outcome, a.Reason = Refused, ref.why
			} else {
				a.Outcome, a.Reason = Failed, describeErr(err)
			}
			r.record(a)
			return nil, ""
		}
		a.HTTPStatus, a.AuthSent = rep.status, rep.authSent
		switch {
		case isRedirect(rep.status):
			loc, err := u.Parse(rep.header.Get("Location"))
			if err != nil || rep.header.Get("Location") == "" {
				a.Outcome, a.Reason = Failed, "HTTP redirect without a usable Location"
				r.record(a)
				return nil, ""
			}
			a.Outcome, a.Reason = Redirected, "HTTP redirect to "+loc.Redacted()
			r.record(a)
			if !r.hop() {
				r.record(Attempt{URL: loc.Redacted(), Protocol: p, Source: SourceHTTPStatus, Address: addr, Outcome: Refused, Reason: fmt.Sprintf("more than %d redirects", r.c.cfg.maxHops)})
				return nil, ""
			}
			via = append(via, u.Redacted())
			u, src = loc, SourceHTTPStatus
			continue
		case rep.status == http.StatusUnauthorized:
			a.Outcome = Failed
			if r.c.cfg.cred.kind == credNone {
				a.Reason = "HTTP 401: the endpoint needs credentials and none are configured"
			} else {
				a.Reason = "HTTP 401: the credentials were rejected (offers: " + offerList(rep.offers) + ")"
			}
			r.record(a)
			return nil, ""
		case rep.status != http.StatusOK:
			a.Outcome, a.Reason = Failed, fmt.Sprintf("HTTP %d", rep.status)
			r.record(a)
			return nil, ""
		}
		settings, next, err := r.interpret(p, rep.body)
		if err != nil {
			a.Outcome, a.Reason = Failed, err.Error()
			r.record(a)
			return nil, ""
		}
		if next.addr != "" || next.url != "" {
			if !r.hop() {
				a.Outcome, a.Reason = Refused, fmt.Sprintf("redirect beyond the limit of %d hops", r.c.cfg.maxHops)
				r.record(a)
				return nil, ""
			}
			if next.addr != "" {
				if _, err := domainOf(next.addr); err != nil {
					a.Outcome, a.Reason = Failed, "redirect to an invalid address: "+err.Error()
					r.record(a)
					return nil, ""
				}
				a.Outcome, a.Reason = Redirected, "redirect to address "+next.addr
				r.record(a)
				return nil, next.addr
			}
			nu, err := url.Parse(next.url)
			if err != nil || nu.Host == "" {
				a.Outcome, a.Reason = Failed, "redirect to an invalid URL "+shorten(next.url)
				r.record(a)
				return nil, ""
			}
			a.Outcome, a.Reason = Redirected, "redirect to URL "+nu.Redacted()
			r.record(a)
			via = append(via, u.Redacted())
			u, src = nu, SourceRedirectURL
			continue
		}
		ews := settings.EWSURL()
		eu, err := url.Parse(ews)
		switch {
		case ews == "":
			a.Outcome, a.Reason = Failed, "the answer has no EWS URL"
		case err != nil || eu.Host == "":
			a.Outcome, a.Reason = Failed, "the answer's EWS URL "+shorten(ews)+" does not parse"
		case eu.Scheme != "https":
			a.Outcome, a.Reason = Refused, "the answer's EWS URL "+eu.Redacted()+" is not https; credentials would cross the network readable"
		case r.pol.classify(eu.Hostname()) == hostForeign:
			why := fmt.Sprintf("the answer's EWS URL is on %s, outside %s and not listed with WithAllowedHosts", eu.Hostname(), r.pol.registered)
			a.Outcome, a.Reason = NeedsConfirmation, why
			r.confirm(eu.Hostname(), eu.Redacted(), src, why)
		default:
			why := "the email's registered domain " + r.pol.registered
			if r.pol.classify(eu.Hostname()) == hostListed {
				why = "a host listed with WithAllowedHosts"
			}
			a.Outcome, a.Reason = Answered, "EWS URL "+eu.Redacted()+", accepted: https on "+why
			r.record(a)
			address := addr
			if v := settings[SettingAutoDiscoverSMTPAddress]; v != "" {
				address = v
			}
			for k, v := range settings {
				settings[k] = r.c.scrub(v)
			}
			return &Result{Address: address, EWSURL: eu.String(), Settings: settings, Endpoint: u.Redacted(), Protocol: p, Source: origin, Via: via}, ""
		}
		r.record(a)
		return nil, ""
	}
}

// redirect is where an answer sends us.
type redirect struct{ addr, url string }

// interpret parses an answer of protocol p.
func (r *run) interpret(p Protocol, body []byte) (UserSettings, redirect, error) {
	switch p {
	case SOAP:
		ans, err := parseSOAP(body)
		if err != nil {
			return nil, redirect{}, err
		}
		if ans.code != "NoError" {
			return nil, redirect{}, fmt.Errorf("GetUserSettings failed: %s: %s", shorten(ans.code), ans.message)
		}
		if len(ans.users) != 1 {
			return nil, redirect{}, fmt.Errorf("GetUserSettings answered %d UserResponses for 1 user", len(ans.users))
		}
		u := ans.users[0]
		switch u.code {
		case "NoError":
			return u.settings, redirect{}, nil
		case "RedirectAddress":
			return nil, redirect{addr: u.redirectTarget}, nonEmpty(u.redirectTarget, "RedirectAddress")
		case "RedirectUrl":
			return nil, redirect{url: u.redirectTarget}, nonEmpty(u.redirectTarget, "RedirectUrl")
		}
		return nil, redirect{}, fmt.Errorf("GetUserSettings for the user: %s: %s", shorten(u.code), u.message)
	case POX:
		ans, err := parsePOX(body)
		if err != nil {
			return nil, redirect{}, err
		}
		return ans.settings, redirect{addr: ans.redirectAddr, url: ans.redirectURL}, nil
	}
	ews, err := parseJSON(body)
	if err != nil {
		return nil, redirect{}, err
	}
	return UserSettings{SettingExternalEwsURL: ews}, redirect{}, nil
}

func nonEmpty(target, code string) error {
	if target == "" {
		return fmt.Errorf("GetUserSettings answered %s without a RedirectTarget", code)
	}
	return nil
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// describeErr turns a transport error into a reason without secrets.
func describeErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return shorten(err.Error())
}

// httpRedirect is phase 3: an unauthenticated GET to
// http://autodiscover.<domain>/autodiscover/autodiscover.xml whose redirect
// may name the Autodiscover host.
func (r *run) httpRedirect(ctx context.Context, addr, domain string, via []string) (*Result, bool) {
	u := &url.URL{Scheme: "http", Host: "autodiscover." + domain, Path: "/autodiscover/autodiscover.xml"}
	a := Attempt{URL: u.String(), Source: SourceHTTPRedirect, Address: addr}
	rep, err := r.c.send(ctx, r.pol, http.MethodGet, u, "", nil, false)
	if err != nil {
		a.Outcome, a.Reason = Failed, describeErr(err)
		r.record(a)
		return nil, false
	}
	a.HTTPStatus = rep.status
	loc, lerr := u.Parse(rep.header.Get("Location"))
	if !isRedirect(rep.status) || lerr != nil || rep.header.Get("Location") == "" {
		a.Outcome, a.Reason = Failed, fmt.Sprintf("no redirect (HTTP %d)", rep.status)
		r.record(a)
		return nil, false
	}
	a.Outcome, a.Reason = Redirected, "unauthenticated redirect to "+loc.Redacted()
	r.record(a)
	if loc.Scheme != "https" {
		r.record(Attempt{URL: loc.Redacted(), Source: SourceHTTPRedirect, Address: addr, Outcome: Refused, Reason: "the redirect target is not https"})
		return nil, false
	}
	if !r.hop() {
		r.record(Attempt{URL: loc.Redacted(), Source: SourceHTTPRedirect, Address: addr, Outcome: Refused, Reason: fmt.Sprintf("more than %d redirects", r.c.cfg.maxHops)})
		return nil, false
	}
	return r.host(ctx, addr, loc.Hostname(), loc.Port(), SourceHTTPRedirect, append(via, u.String()))
}

// srv is phase 4: the SRV record _autodiscover._tcp.<domain>. Of the
// records for port 443 it takes the one of lowest priority value and, among
// those, highest weight (RFC 2782 order).
func (r *run) srv(ctx context.Context, addr, domain string, via []string) (*Result, bool) {
	name := "_autodiscover._tcp." + domain
	a := Attempt{URL: "dns:" + name, Source: SourceSRV, Address: addr}
	_, recs, err := r.c.cfg.lookupSRV(ctx, "autodiscover", "tcp", domain)
	if err != nil {
		a.Outcome, a.Reason = Failed, "SRV lookup: "+describeErr(err)
		r.record(a)
		return nil, false
	}
	var best []*net.SRV
	for _, s := range recs {
		if s != nil && s.Port == 443 && strings.Trim(s.Target, ".") != "" {
			best = append(best, s)
		}
	}
	if len(best) == 0 {
		a.Outcome, a.Reason = Failed, fmt.Sprintf("no SRV record for port 443 (%d records)", len(recs))
		r.record(a)
		return nil, false
	}
	sort.SliceStable(best, func(i, j int) bool {
		if best[i].Priority != best[j].Priority {
			return best[i].Priority < best[j].Priority
		}
		return best[i].Weight > best[j].Weight
	})
	target := strings.ToLower(strings.TrimSuffix(best[0].Target, "."))
	a.Outcome, a.Reason = Redirected, "SRV record points to "+target
	r.record(a)
	if !r.hop() {
		r.record(Attempt{URL: "https://" + target, Source: SourceSRV, Address: addr, Outcome: Refused, Reason: fmt.Sprintf("more than %d redirects", r.c.cfg.maxHops)})
		return nil, false
	}
	return r.host(ctx, addr, target, "", SourceSRV, append(via, "dns:"+name))
}
