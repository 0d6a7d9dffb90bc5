package ews

// CallOption adjusts one call, or every call of a Client returned by
// [Client.With]: the mailbox to impersonate, HTTP routing headers, the retry
// policy. Options are applied in order, bound ones first, so a later option
// overrides an earlier one. A bad value (an empty anchor mailbox, a malformed
// ConnectingSID) fails the call before anything is sent.
type CallOption func(*callOptions)

// callOptions is the resolved set of CallOptions of one call.
type callOptions struct {
	sid         ConnectingSID
	impersonate bool
	anchor      string
	anchorSet   bool
	affinity    bool
	group       *AffinityGroup
	retry       *RetryPolicy
	err         error
}

// With returns a view of c whose calls all apply opts (before any options
// given to the call itself). The view shares c's connections and
// configuration; creating one is cheap, so a bulk job can make one view per
// mailbox:
//
//	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.com")))
func (c *Client) With(opts ...CallOption) *Client {
	v := *c
	v.bound = append(append([]CallOption(nil), c.bound...), opts...)
	return &v
}

// Impersonate makes the call act for the mailbox sid names: the request
// carries t:ExchangeImpersonation, and the X-AnchorMailbox header is set to
// the impersonated SMTP address or UPN unless [AnchorMailbox] overrides it.
//
// For a [SID] no address can be derived, so no X-AnchorMailbox header is sent
// unless AnchorMailbox gives one. On-premises Exchange then routes by the
// service account, which works but is slower; Exchange Online with app-only
// OAuth requires the header, so pass AnchorMailbox there.
//
// The service account needs the ApplicationImpersonation role on-premises,
// or the full_access_as_app application permission in Exchange Online.
func Impersonate(sid ConnectingSID) CallOption {
	return func(o *callOptions) {
		o.sid = sid
		o.impersonate = true
	}
}

// AnchorMailbox sets the X-AnchorMailbox header, which tells Exchange 2013
// and later (and Exchange Online) which mailbox's server should handle the
// request. It overrides the value [Impersonate] derives. addr is an SMTP
// address (or a UPN); an empty or malformed value fails the call.
func AnchorMailbox(addr string) CallOption {
	return func(o *callOptions) {
		if reason := checkAddress(addr, "an SMTP address like alice@contoso.com"); reason != "" {
			o.setErr(invalidf("AnchorMailbox %q %s", clip(addr), reason))
			return
		}
		o.anchor = addr
		o.anchorSet = true
	}
}

// PreferServerAffinity sends X-PreferServerAffinity: true, which Exchange
// uses together with X-AnchorMailbox to keep a group of notification
// subscriptions on one backend server.
func PreferServerAffinity() CallOption {
	return func(o *callOptions) { o.affinity = true }
}

// UseRetryPolicy replaces the Client's retry policy (see [WithRetryPolicy])
// for the call or view. UseRetryPolicy(NoRetries()) makes a call return
// throttling errors at once, so that a bulk job can pause all its workers.
func UseRetryPolicy(p RetryPolicy) CallOption {
	return func(o *callOptions) {
		if err := p.validate(); err != nil {
			o.setErr(err)
			return
		}
		o.retry = &p
	}
}

func (o *callOptions) setErr(err error) {
	if o.err == nil {
		o.err = err
	}
}

// Impersonating reports the mailbox the view c impersonates, if any (the
// last [Impersonate] among its bound options).
func (c *Client) Impersonating() (ConnectingSID, bool) {
	var o callOptions
	for _, opt := range c.bound {
		if opt != nil {
			opt(&o)
		}
	}
	return o.sid, o.impersonate
}

// resolve applies the bound options, then opts, and checks the result.
func (c *Client) resolve(opts []CallOption) (callOptions, error) {
	var o callOptions
	for _, opt := range c.bound {
		if opt == nil {
			return o, invalidf("nil CallOption bound with Client.With")
		}
		opt(&o)
	}
	for i, opt := range opts {
		if opt == nil {
			return o, invalidf("CallOption %d is nil", i)
		}
		opt(&o)
	}
	if o.err != nil {
		return o, o.err
	}
	if o.impersonate {
		if err := o.sid.Validate(); err != nil {
			return o, err
		}
		if !o.anchorSet {
			o.anchor = o.sid.anchor()
		}
	}
	return o, nil
}
