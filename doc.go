// Package scc turns on mailbox sync for a whole organization through one
// Exchange service account, and ships a fake Exchange server so all of it can
// be tested offline. This package holds only documentation; the work is done
// by the packages below it.
//
// The admin flow it serves:
//
//  1. Model an organization of user mailboxes and its email configuration
//     (package [github.com/sccsync/scc/org]): mailbox access type, the
//     service account's logon and password or an app-only OAuth credential,
//     the EWS URL. Validate reports every problem at once, named as the admin
//     panel names the field; users come in bulk from Get-Mailbox CSV exports;
//     a file store keeps organizations with their secrets encrypted.
//  2. Check impersonated access for every user (package
//     [github.com/sccsync/scc/impersonation], which speaks Exchange Web
//     Services through [github.com/sccsync/scc/ews]): one preflight logon,
//     then one impersonated probe per user, bounded and throttling-aware,
//     with exactly one result and a remediation per user.
//  3. Save, and bulk-activate or renew sync for the users that pass
//     (impersonation.Activate and impersonation.Renew record the outcome
//     through an org.Store).
//  4. When something is wrong, diagnose the service account's access to one
//     mailbox step by step (impersonation.Diagnose: URL, DNS, TCP, TLS, EWS
//     endpoint, auth, version, impersonation, inbox, optional write test).
//
// On-premises Exchange 2016, 2019 and Subscription Edition use a service
// account with the ApplicationImpersonation role over NTLM or Basic. Exchange
// Online removed that role in 2025: there scc uses app-only OAuth
// (full_access_as_app) with the ExchangeImpersonation header and
// X-AnchorMailbox; since October 2026 the application must be on the
// tenant's EWS allow list, and EWS in Exchange Online ends in April 2027.
// The checks recognise these cases and say what to do.
//
// Package [github.com/sccsync/scc/scctest] is an httptest-style fake
// Exchange server for unit tests. The examples directory holds runnable
// programs: go run ./examples/checkaccess -demo is the quickest way to see
// the whole flow.
package scc
