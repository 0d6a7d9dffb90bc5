package ews

import (
	"context"
	"net/http"
	"sync"
)

// BackEndOverrideCookie is the name of the cookie with which Exchange pins
// a group of notification requests to the mailbox server that holds their
// subscriptions.
const BackEndOverrideCookie = "X-BackEndOverrideCookie"

// AffinityGroup keeps the notification traffic of a group of mailboxes on
// one Exchange backend, as Microsoft's affinity recipe asks: every
// Subscribe, GetEvents, GetStreamingEvents and Unsubscribe of the group
// sends X-AnchorMailbox with the group's anchor and X-PreferServerAffinity,
// the first response's X-BackEndOverrideCookie is kept, and every later
// request of the group sends it back. Without that, a request can land on
// a server that does not know the subscription (ErrorSubscriptionNotFound).
//
// Create one group per set of mailboxes that share Autodiscover's
// GroupingInformation and ExternalEwsUrl, at most 200 of them (one
// GetStreamingEvents connection), with the alphabetically first address as
// the anchor, and pass [Affinity] on each call of the group together with
// Impersonate(the mailbox being subscribed) - or, for the group's
// GetStreamingEvents or GetEvents, Impersonate(the anchor).
//
// Until the group has its cookie, its requests go one at a time, so that
// concurrent first Subscribes do not each pick a backend; once it has one
// they run concurrently. An AffinityGroup is safe for concurrent use.
//
// The cookie is kept here, not in the HTTP client's cookie jar: all groups'
// cookies share one name and path, so a shared jar would mix them. Do not
// give the Client (WithHTTPClient) a Jar that stores Exchange's cookies when
// you use affinity groups.
type AffinityGroup struct {
	anchor string
	mu     sync.Mutex
	cookie string
	// probe is held by the one request that goes out while the group has
	// no cookie yet.
	probe chan struct{}
}

// NewAffinityGroup returns a group anchored at the SMTP address anchor.
func NewAffinityGroup(anchor string) (*AffinityGroup, error) {
	if reason := checkAddress(anchor, "an SMTP address like alfred@contoso.com"); reason != "" {
		return nil, invalidf("NewAffinityGroup: anchor %q %s", clip(anchor), reason)
	}
	return &AffinityGroup{anchor: anchor, probe: make(chan struct{}, 1)}, nil
}

// Anchor returns the group's anchor mailbox.
func (g *AffinityGroup) Anchor() string { return g.anchor }

// Cookie returns the X-BackEndOverrideCookie value the group sends, or ""
// before the server has issued one.
func (g *AffinityGroup) Cookie() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cookie
}

// Affinity makes a notification call part of group g: X-AnchorMailbox is
// the group's anchor (whatever mailbox the call impersonates),
// X-PreferServerAffinity is sent, and so is the group's backend cookie
// once known. Only Subscribe, GetEvents, GetStreamingEvents and Unsubscribe
// accept it; other operations route by the impersonated mailbox and fail
// with ErrInvalidRequest when given it.
func Affinity(g *AffinityGroup) CallOption {
	return func(o *callOptions) {
		if g == nil || g.probe == nil {
			o.setErr(invalidf("Affinity: group is nil or not made by NewAffinityGroup"))
			return
		}
		o.group = g
		o.anchor = g.anchor
		o.anchorSet = true
		o.affinity = true
	}
}

// checkAffinity refuses an affinity group on operations that are not
// notification traffic.
func (o *callOptions) checkAffinity(op *operation) error {
	if o.group == nil {
		return nil
	}
	switch op {
	case opSubscribe, opUnsubscribe, opGetEvents, opGetStreamingEvents:
		return nil
	}
	return invalidf("%s: Affinity applies to Subscribe, GetEvents, GetStreamingEvents and Unsubscribe only; other operations route by the impersonated mailbox", op.name)
}

// do sends req through hc, with the affinity group's cookie when the call
// has one, and keeps the cookie the response sets.
func (o *callOptions) do(hc *http.Client, req *http.Request) (*http.Response, error) {
	g := o.group
	if g == nil {
		return hc.Do(req)
	}
	release, err := g.acquire(req.Context())
	if err != nil {
		return nil, err
	}
	defer release()
	if c := g.Cookie(); c != "" {
		req.AddCookie(&http.Cookie{Name: BackEndOverrideCookie, Value: c})
	}
	resp, err := hc.Do(req)
	if resp != nil {
		g.observe(resp)
	}
	return resp, err
}

// acquire returns at once when the group has its cookie; otherwise it waits
// until no other cookie-less request of the group is out, so that only one
// request picks the backend.
func (g *AffinityGroup) acquire(ctx context.Context) (release func(), err error) {
	for {
		if g.Cookie() != "" {
			return func() {}, nil
		}
		select {
		case g.probe <- struct{}{}:
			if g.Cookie() != "" {
				<-g.probe
				return func() {}, nil
			}
			return func() { <-g.probe }, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// observe keeps the X-BackEndOverrideCookie a response sets.
func (g *AffinityGroup) observe(resp *http.Response) {
	for _, c := range resp.Cookies() {
		if c.Name != BackEndOverrideCookie {
			continue
		}
		g.mu.Lock()
		switch {
		case c.MaxAge < 0 || c.Value == "":
			g.cookie = ""
		case validCookieValue(c.Value):
			g.cookie = c.Value
		}
		g.mu.Unlock()
	}
}

// validCookieValue reports whether v consists of RFC 6265 cookie-octets.
func validCookieValue(v string) bool {
	if len(v) > 4096 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}
