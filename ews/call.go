package ews

// CallOption adjusts one call, or every call of a Client returned by
// [Client.With]: the mailbox to impersonate, HTTP routing headers.
type CallOption func(*callOptions)

// callOptions is the resolved set of CallOptions of one call.
type callOptions struct{}

// With returns a view of c whose calls all apply opts (before any options
// given to the call itself). The view shares c's connections and
// configuration; creating one is cheap.
func (c *Client) With(opts ...CallOption) *Client {
	v := *c
	v.bound = append(append([]CallOption(nil), c.bound...), opts...)
	return &v
}
