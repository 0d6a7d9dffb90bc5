// Package impersonation checks, for every user of an organization, that the
// organization's Exchange service account can act for the user's mailbox
// through Exchange Impersonation, records the outcome, and diagnoses a
// service account step by step: the "Check Users Exchange Impersonated
// Access" and Save buttons of an admin panel, and Microsoft's "Service
// Account Access" connectivity test.
//
// # Check
//
// [Check] (or [CheckUsers] for an email configuration and a user list)
// validates the email configuration, proves the service account's logon
// once without impersonation (a wrong password is tried exactly once, never
// once per user), then probes every user concurrently ([WithConcurrency],
// default 10) with an impersonated GetFolder of the inbox, and optionally a
// test message created and deleted in Drafts ([WithWriteProbe]). The result
// is a [Report] with exactly one [Result] per user, each with a [Status] an
// admin understands, the EWS code and message verbatim, and a remediation;
// it renders as a table, JSON and CSV. Progress is reported as it goes
// ([WithProgress]); cancelling the context returns the partial report with
// the rest [StatusNotChecked].
//
//	go run ./examples/checkaccess -demo
//
// # Activate and renew
//
// [Activate] and [Renew] run the check and record the outcomes in an
// org.Store (Active with the configuration's fingerprint, or Failed with the
// reason), safely against concurrent edits. Renew re-checks the users a
// configuration change may affect (active or failed with another
// fingerprint, and NeedsRenewal), and a renewal that cannot prove access
// (a wrong new password stops it at the first 401) marks those users
// NeedsRenewal with the cause instead of leaving them Active.
//
//	go run ./examples/activate -demo
//
// # Provisioning
//
// With a provisioning plan (org.Organization.Provisioning, e.g.
// org.DefaultProvisioningPlan("CRM")), Activate and Renew also provision
// every user that passes the check, through the same back-off gate,
// concurrency limit and retry budget: the plan's folders (a contacts, a
// tasks and a mail folder of the other system's own) and categories in the
// master category list, as [ProvisionMailbox] does for one mailbox. A
// folder is looked up by name and class under its parent before it is
// created, and is recognised as ours by a marker property
// ([ProvisionMarker], value the organization's ID); a same-named folder of
// another class, made by hand (no marker) or by another organization is a
// [*FolderConflictError] and fails that user with a remediation, and is
// never adopted. ErrorFolderExists from a concurrent creator makes it look
// again, never make a second copy. The folder ids are recorded in the
// user's org.SyncState.Folders by plan key; the next activation verifies
// them with one GetFolder per user and writes nothing. Quota, access and
// other server refusals fail the user with a remediation
// (ActivationReport.ProvisionFailed); the check's own counts still show
// the access check's outcome. Activation also takes the baseline sync
// state of each of the plan's BaselineFolders and records it in
// org.SyncState.SyncStates; a recorded state is reused. [Deactivate] stops
// sync and, with [WithRemoveProvisioning], removes what activation made
// (only our own, empty folders unless [WithRemoveContent]). [Renew]
// repairs missing provisioning. [NewWatcher] follows the changes of the
// activated mailboxes.
//
// # Diagnose
//
// [Diagnose] runs the Service Account Access test for one mailbox:
// configuration, Autodiscover (when the EWS URL is to be discovered, or
// with [WithAutodiscover]; it lists every candidate tried), DNS, TCP, TLS,
// EWS endpoint, auth schemes, logon, Exchange version, impersonation, inbox
// and an optional write test ([WithWriteTest]), each step passed, warned,
// failed or skipped with what to do. It stops at the first failure. It
// diagnoses the path Check takes: through the HTTP proxy (HTTPS_PROXY, or
// the transport's) when there is one.
//
//	go run ./examples/diagnose -demo
//
// # Autodiscover
//
// An organization's EWS URL may be left empty with
// org.EmailConfiguration.DiscoverEWSURL: [DiscoverEWSURL] fills it in with
// the service account's credentials and says where it came from (for the
// admin panel's field), from the address [DiscoveryAddress] picks; the
// rules of github.com/sccsync/scc/ews/autodiscover keep the credentials on
// the email domain and hosts the admin confirmed. [WithGroupingInformation]
// makes a check record each user's GroupingInformation.
//
//	go run ./examples/checkaccess -discover -logon svc-sync@contoso.com -users mailboxes.csv
//
// # Exchange Online
//
// Microsoft removed ApplicationImpersonation from Exchange Online in 2025:
// configure app-only OAuth (org.OnlineAppOnly: tenant, client id, client
// secret or certificate). The configuration alone is enough: Check,
// Activate, Renew and Diagnose fetch the tokens from Microsoft Entra ID
// themselves ([ClientCredentials]; [WithAuthority] for sovereign clouds,
// [WithBearerToken] to supply tokens another way). Exchange Online blocks EWS for applications that
// are not allow-listed since October 2026 and ends EWS in April 2027; a
// check reports that as [StatusBlockedByPolicy] with the allow-list
// commands.
//
// # Options
//
// One [Option] type serves every entry point. [WithHTTPClient] is the one
// way to hand the library an HTTP client (EWS requests, token requests and
// Diagnose's network steps all use it); [WithEWSOptions] adds EWS client
// options such as a wire trace.
//
// # Throttling and failures
//
// Throttling is handled for the service account as a whole: when Exchange
// asks it to back off (ErrorServerBusy with BackOffMilliseconds, HTTP 503),
// every worker pauses until the back-off ends; ErrorExceededConnectionCount
// lowers the concurrency; transient failures are retried within a
// [RetryBudget]; every request is bounded by [WithRequestTimeout].
// ErrorImpersonationDenied and HTTP 401 stop the check (every user would
// fail, and a repeated wrong password locks the account out), and so does a
// server that stops answering: after RetryBudget.MaxConsecutiveTimeouts
// requests in a row without an answer (default twice the concurrency) the
// check stops with [ErrNotAnswering] instead of waiting out every user.
//
// A password changed while a check runs: the first 401 closes a gate that
// every request of the run passes right before it is written, so no
// request is sent after it, retries included. Requests already on the wire
// still fail: with Basic every request carries the password, so up to the
// concurrency of them can count as failed logons (measured against scctest
// at concurrency 27 over 15 runs: min 1, median 10, max 24); NTLM
// authenticates connections, and connections already authenticated keep
// working (min 0, median 0, max 1).
// Keep the concurrency below the lockout threshold, or use NTLM, where a
// lockout threshold is low.
package impersonation
