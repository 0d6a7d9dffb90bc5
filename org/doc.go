// Package org models what an Exchange admin fills in to turn on mailbox sync
// for a whole organization, checks it the way the admin panel does, and
// stores it safely. It does not talk to Exchange (package impersonation does).
//
// # Model
//
// An [Organization] has a name, mail domains, [User] mailboxes and one
// [EmailConfiguration]: the Mailbox Access Type ([Impersonation] with a
// service account's Account Logon and Password, [DirectLogon], or Exchange
// Online app-only OAuth, [OnlineAppOnly]), the EWS URL, the auth method and
// the Exchange version. Each user records which identity to impersonate with
// ([User.ImpersonationIdentity]) and its sync state (not activated, active,
// failed with the EWS code and message, needs renewal), including the
// [ConfigFingerprint] it was last checked against. Saving a configuration
// change marks the Active users checked against the old one [NeedsRenewal].
//
// # Provisioning plan
//
// [Organization.Provisioning] is what activation adds to every mailbox
// before sync starts ([ProvisioningPlan]): folders of the other system's own
// (display name, folder class, distinguished parent folder), categories in
// the master category list, the folders whose baseline sync state to take
// and whether to start the watcher. [DefaultProvisioningPlan] gives the
// usual one (a contacts, a tasks and a mail folder named for the other
// system, and one category). Each user's [SyncState] records the ids of the
// folders provisioned in the mailbox by plan entry ([SyncState.Folders]).
// Activation takes the baseline sync state of each baseline folder and
// records it in [SyncState.SyncStates]; the watcher setting is validated
// and stored for the change watcher, which is built separately. A
// deactivation records [Deactivated] and what of the provisioning is
// left. A nil plan provisions nothing, and records written
// before plans existed read as having none.
//
// # Validation
//
// [Organization.Validate] reports every problem at once as
// [ValidationErrors], each [FieldError] naming the field as the admin sees it
// ("Account Logon", "EWS URL", "Users row 12", "Provisioning Folders row 2")
// and what to do.
//
// Addresses have one canonical form in every package of this module (org,
// impersonation and the scctest fake; see [EmailAddress]): what is stored and
// sent is the address as written, trimmed, in Unicode NFC; what is compared is
// its key, the local part lower-cased and the domain mapped by UTS #46 to
// lower-case ASCII (punycode). Invisible and control characters (zero-width
// space, soft hyphen, bidi marks, no-break space, controls) are a validation
// error, so an address never passes here and fails on the wire. Users outside the organization's Domains
// are a warning ([Organization.Warnings]), not an error.
//
// # Exchange Online, 2025–2027
//
// Microsoft retired the ApplicationImpersonation role in Exchange Online in
// 2025: password-based impersonation against outlook.office365.com fails
// validation with [ErrImpersonationRetired] and points to app-only OAuth (an
// Entra app with the full_access_as_app permission; the ExchangeImpersonation
// header still names each mailbox). EWS in Exchange Online is blocked by
// default from October 2026 unless the tenant allow-lists the app, and is
// switched off in April 2027; [Organization.Warnings] (and
// [EmailConfiguration.Warnings]) say so, without blocking a save.
// On-premises Exchange is unaffected.
//
// # Secrets
//
// Passwords, client secrets and private keys are [Secret] values, and the
// file store's key is a [FileStoreKey]: they print (every fmt verb), marshal
// (JSON, text) and log (slog) as "[redacted]", also inside an unexported
// field of a caller's struct, where fmt cannot call their methods (the value
// sits behind a closure that reflection cannot read), and they are refused
// when read from JSON. Only [Secret.Reveal] and [FileStoreKey.Encode] return
// the value. An admin panel that shows a configuration without its secrets
// and gets it back edited keeps the stored ones with
// [EmailConfiguration.MergeSecrets], which keeps a secret only while the
// account and the server it is sent to are unchanged.
//
// # Bulk add
//
// [Organization.AddUsers] and [Organization.ImportCSV] (Get-Mailbox |
// Export-Csv output, or one address per line) merge duplicates and report
// what they added, updated, skipped and rejected, with line numbers. They
// check each row by the rules of Validate, so an import never leaves users
// that Validate refuses: a row whose UPN or SID belongs to another user is
// rejected with its line. CSV fields that are not UTF-8 are read as
// Windows-1252 (Windows PowerShell's default Export-Csv encoding).
//
// # Storage
//
// [Store] is implemented by [MemoryStore] and by [FileStore], the durable
// default: one JSON file per organization, secrets encrypted with
// AES-256-GCM, every record authenticated with an HMAC-SHA256 (so a record
// edited outside the store, or with parts copied from another, is refused
// with [ErrCorrupt]; a whole record replaced by an older copy of itself is
// not detected), atomic writes, a file lock shared by processes (never
// followed through a symbolic link), optimistic concurrency ([ErrConflict];
// [Modify] retries). [FileStore.List] lists the readable organizations and
// reports the others in a [*ListError]. A store directory writable by other
// users is refused ([ErrInsecureDir]), not chmodded. Stores of the previous
// format are upgraded when opened. Stores do not validate.
//
// Stores fingerprint configurations with a key of their own
// ([ConfigFingerprint], [Fingerprinter]): a fingerprint read from a stored
// record cannot be used to test password guesses without the store's key.
// And every save marks the Active users whose configuration changed
// NeedsRenewal, keeping their fingerprint as a record of what they were
// checked against.
package org
