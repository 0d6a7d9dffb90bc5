// Package impersonation checks, for every user of an organization, that the
// organization's Exchange service account can act for the user's mailbox
// through Exchange Impersonation, and records the outcome: the "Check Users
// Exchange Impersonated Access" and Save buttons of an admin panel.
//
// [Check] validates the email configuration, proves the service account's
// logon once without impersonation (a wrong password is tried exactly once,
// never once per user), then probes every user concurrently with an
// impersonated GetFolder of the inbox. The result is a [Report] with exactly
// one [Result] per user, each with a [Status] an admin understands, the EWS
// code and message verbatim, and a remediation. [Activate] and [Renew] run
// the check and record the outcomes in an org.Store.
//
// For Exchange Online, where Microsoft removed ApplicationImpersonation in
// 2025, configure app-only OAuth (org.OnlineAppOnly) and pass a token source
// with [WithEWSOptions]; [ClientCredentials] fetches tokens from Microsoft
// Entra ID by client secret or certificate. Exchange Online blocks EWS for
// applications that are not allow-listed since October 2026 and ends EWS in
// April 2027; a check reports that as [StatusBlockedByPolicy] with the
// allow-list commands.
//
// Throttling is handled for the service account as a whole: when Exchange
// asks it to back off (ErrorServerBusy with BackOffMilliseconds, HTTP 503),
// every worker pauses until the back-off ends; transient failures are
// retried within a [RetryBudget].
package impersonation
