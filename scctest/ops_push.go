package scctest

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/sccsync/scc/ews"
)

// maxPushURL is the longest push URL Exchange takes.
const maxPushURL = 2082

// pushRequest reads the push part of a PushSubscriptionRequest
// (t:StatusFrequency, t:URL, t:CallerData) into sub. A refusal comes back
// as resp (ErrorInvalidPushSubscriptionUrl) or f (schema faults).
func (x *exchange) pushRequest(req *node, sub *subscription) (resp *opResponse, f *soapFault) {
	sf := req.child(nsTypes, "StatusFrequency")
	if sf == nil {
		// The schema requires it, although the docs call it optional.
		return nil, schemaFault(req, "The element 'PushSubscriptionRequest' has incomplete content. List of possible elements expected: 'StatusFrequency'.")
	}
	n, err := strconv.Atoi(sf.trimmed())
	if err != nil || n < 1 || n > 1440 {
		return nil, schemaFault(sf, "The 'StatusFrequency' element is invalid - The value '"+sf.trimmed()+"' is invalid according to its datatype 'http://schemas.microsoft.com/exchange/services/2006/types:SubscriptionStatusFrequencyType' - The MaxInclusive or MinInclusive constraint failed.")
	}
	un := req.child(nsTypes, "URL")
	if un == nil {
		return nil, schemaFault(req, "The element 'PushSubscriptionRequest' has incomplete content. List of possible elements expected: 'URL'.")
	}
	raw := un.trimmed()
	if !validPushURL(raw) {
		resp, _ := x.one(failure(ews.ErrorInvalidPushSubscriptionUrl))
		return resp, nil
	}
	version := x.version
	if version == "" {
		version = "Exchange2007_SP1" // what EWS assumes without RequestServerVersion
	}
	sub.push = &pushSub{url: raw, freq: n, version: version, caller: req.child(nsTypes, "CallerData").value(), stop: make(chan struct{})}
	return nil, nil
}

// validPushURL applies Exchange's rules for t:URL: 1 to 2082 characters,
// an absolute http or https URL with a host.
func validPushURL(s string) bool {
	if s == "" || len(s) > maxPushURL || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Hostname() != ""
}
