// Package autodiscover finds an Exchange mailbox's EWS URL and settings
// (ExternalEwsUrl, InternalEwsUrl, GroupingInformation, EwsSupportedSchemas,
// display name, ...) with Autodiscover, as Outlook does, and cannot leak
// credentials while doing so.
//
// # Protocols and candidates
//
// [Client.Discover] speaks SOAP Autodiscover (GetUserSettings at
// autodiscover.svc), POX Autodiscover (autodiscover.xml) and Autodiscover v2
// JSON (autodiscover.json, Exchange Online and Exchange 2019), in the order
// [WithProtocols] gives (default SOAP, POX, JSON), at each candidate of the
// documented order:
//
//  1. https://<domain>/autodiscover/...
//  2. https://autodiscover.<domain>/autodiscover/...
//  3. the Location of an unauthenticated GET to
//     http://autodiscover.<domain>/autodiscover/autodiscover.xml
//  4. the target of the DNS SRV record _autodiscover._tcp.<domain> (port
//     443; lowest priority value, then highest weight)
//
// It follows RedirectAddress / redirectAddr (a new address: the chain
// starts again), RedirectUrl / redirectUrl and HTTP redirects, at most
// [WithMaxHops] (default 10) and never twice to the same URL or address.
// The [Result] says which URL answered ([Result.Endpoint], [Result.Protocol]),
// how its chain started ([Result.Source]) and through which redirects
// ([Result.Via]), and lists every attempt with its outcome and the reason
// ([Attempt]), for an admin panel or a diagnosis. A failed discovery returns
// an [*Error] with the same attempts.
//
// [Client.GetUserSettings] asks one SOAP endpoint for many mailboxes,
// [MaxUsersPerRequest] per request (Microsoft documents no limit; the EWS
// Managed API sends 100), following per-user redirects; every mailbox gets
// an answer or an error.
//
// # Safety rules
//
// Guardicore's "Autodiscovering the Great Leak" (2021) collected 372,072
// Windows credentials from clients that backed off to
// autodiscover.<top-level-domain> and that downgraded to Basic when a rogue
// server asked. This package is built so that it cannot:
//
//   - Candidates are derived only from the full domain after '@'; a domain
//     that is a public suffix (co.uk, github.io; golang.org/x/net/publicsuffix)
//     is refused before anything is sent.
//   - Credentials go only over https with a verified certificate, and only
//     to the address's registered domain (eTLD+1) and its subdomains, or to
//     hosts listed with [WithAllowedHosts]. Bearer tokens go only to listed
//     hosts (a token has one audience). One function sets every
//     Authorization header and checks this rule against the request's own
//     URL.
//   - A target outside those hosts (from a redirect, the HTTP probe or SRV)
//     is not contacted at all; it is reported in [Result.Unconfirmed] /
//     [Error.Unconfirmed] for an admin to confirm by listing it.
//   - No downgrade: a Client uses exactly one scheme ([Basic], [NTLM],
//     [Bearer]). NTLM and Bearer credentials are never sent as Basic; Basic
//     is sent only to a host that offers Basic and has never offered NTLM,
//     Negotiate or Bearer to this Client.
//   - The EWS URL of a result is https and on an allowed host too, since the
//     service account's credentials go there next.
//   - Responses are bounded ([WithMaxResponseBytes]), parsed with a depth
//     limit, and what a server says is shortened before it reaches an error,
//     an attempt or a result, with the password, the Basic header value and
//     any token sent replaced by [redacted], also when a server echoes them.
//
// # Tests
//
// Routing host names to local servers needs no DNS: [WithDialer] and
// [WithSRVLookup] take github.com/sccsync/scc/scctest's Hosts.DialContext
// and Hosts.LookupSRV, and [WithTLSConfig] its TLSConfig, which trusts the
// certificates of the fake servers it starts.
package autodiscover
