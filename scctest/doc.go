// Package scctest is a fake Exchange server for tests: it speaks Exchange
// Web Services (EWS) over real HTTP on a loopback port, with the shapes,
// status codes and errors Exchange uses, so that a client tested against it
// behaves the same against Exchange.
//
// Like net/http/httptest, [NewServer] starts a server for a test and closes
// it when the test ends; [NewTLSServer] serves HTTPS and its
// [Server.Client] trusts the certificate (it keeps up to 64 idle
// HTTP/1.1 connections, so concurrent callers reuse NTLM-authenticated
// ones); [NewUnstartedServer] and [New] leave starting to the caller. Like
// miniredis, state is seeded and inspected directly, without the wire:
// [Server.AddMailbox], [Server.AddItem], [Server.AddServiceAccount],
// [Server.SetPassword], [Server.AddToken], [Server.Items], [Server.Folders],
// [Server.UserConfiguration],
// [Server.Requests], [Server.Stats] and the Assert helpers.
// Every server has its own state; parallel tests never interfere.
//
// # What it does like Exchange
//
//   - Transport: only POST /EWS/Exchange.asmx with text/xml; the operation
//     is the SOAP 1.1 Body child, matched by namespace and local name (never
//     by prefix or SOAPAction). Other paths get 404, other methods 405,
//     other content types 415; XML that is not well-formed or not a SOAP 1.1
//     envelope gets the ErrorSchemaValidation fault with line and position.
//   - Authentication, as IIS does it: anonymous requests get 401 with a
//     WWW-Authenticate header per offered scheme (Negotiate and NTLM,
//     Basic realm="host", Bearer as Exchange Online sends it). Basic; NTLM
//     with real NTLMv2 verification per connection (clients that resend the
//     body on every leg and clients that send body-less first legs, the NTLM
//     and Negotiate scheme words); bearer tokens registered as app-only or
//     delegated. Optional lockout after N failed logons ([WithLockout]).
//   - RequestServerVersion: values the server does not know (such as
//     "Exchange2019", which exchangelib tries first, or V2018_01_08 on
//     Exchange 2019) get the ErrorInvalidRequest fault that Exchange
//     2013-2019 answer; an Exchange 2010 server answers
//     ErrorInvalidServerVersion. A missing header is served, as Exchange
//     does (it then assumes its oldest schema); the request log shows it.
//     Every non-fault response carries ServerVersionInfo ([WithVersion]).
//   - Exchange Impersonation: t:PrimarySmtpAddress (primary address only: a
//     proxy address gets ErrorNonExistentMailbox), t:SmtpAddress (any
//     address), t:PrincipalName (UPN) and t:SID. Errors are SOAP faults with
//     HTTP 500: no grant -> ErrorImpersonationDenied; outside the management
//     scope -> ErrorImpersonateUserDenied; unknown -> ErrorNonExistentMailbox
//     (MessageXml SmtpAddress); empty or malformed header ->
//     ErrorInvalidExchangeImpersonationHeaderData; malformed SID / UPN /
//     address -> ErrorInvalidSid / ErrorInvalidUserPrincipalName /
//     ErrorInvalidSmtpAddress.
//   - OAuth: app-only tokens must send ExchangeImpersonation
//     (ErrorInvalidExchangeImpersonationHeaderData "... must be present for
//     this type of OAuth token.") and X-AnchorMailbox; delegated tokens must
//     not ("... must not exist for this type of OAuth token.").
//   - Operations with state, all on one mailbox model
//     (internal/mailbox) whose change log feeds sync and notifications:
//     GetFolder, FindFolder, CreateFolder, UpdateFolder, MoveFolder,
//     CopyFolder, DeleteFolder; FindItem (paging, SortOrder, Restriction,
//     CalendarView), GetItem, CreateItem, UpdateItem, MoveItem, CopyItem,
//     DeleteItem for messages, calendar items, contacts and tasks, with
//     extended properties; Create/Get/DeleteAttachment; Get/Create/Update/
//     DeleteUserConfiguration (the master category list); SyncFolderItems
//     and SyncFolderHierarchy; Subscribe (pull, streaming, push),
//     GetEvents, GetStreamingEvents, Unsubscribe, and push delivery
//     (SendNotification POSTs to the callback, retried and dropped as
//     Exchange does; see [WithPushTiming], [WithPushHosts],
//     [WithPushRootCAs]); ConvertId and ResolveNames; SOAP,
//     POX and v2 JSON Autodiscover. README.md lists every supported
//     behaviour and error, and what is not modelled.
//   - Affinity: mailboxes live on named backends ([WithBackends], four by
//     default; [Server.SetMailboxBackend], [Server.MailboxBackend]), whose
//     names Autodiscover reports as GroupingInformation
//     ([Server.GroupingInformation]). Notification requests are routed by
//     a valid X-BackEndOverrideCookie (with X-PreferServerAffinity: true),
//     else by X-AnchorMailbox, else by the impersonated mailbox; a
//     subscription exists only on the backend its Subscribe was routed to,
//     so a client that does not keep affinity gets ErrorSubscriptionNotFound
//     as on Exchange Online. Requests asking for affinity get the cookie
//     ([Server.AffinityCookie]).
//   - Fault injection: [Server.InjectNext], [Server.InjectFraction] (seeded
//     by [WithSeed]) with [ServerBusy] (BackOffMilliseconds), [SOAPFault],
//     [MessageError], [HTTPStatus] (e.g. 503) and [DropConnection];
//     [Server.SetLatency]; [Server.SetMaxConcurrency]
//     (ErrorExceededConnectionCount); EWS blocked with HTTP 403 for the
//     organisation, a mailbox or an app ([Server.SetEWSEnabled],
//     [Server.SetMailboxEWSEnabled], [Server.BlockApp]); and per-operation,
//     per-mailbox hooks ([Server.React]) that record, delay or fail calls;
//     targeted faults by operation, mailbox and call number ([Server.Inject]
//     with [ForOperation], [ForMailbox], [OnCall], [Times]).
//   - Notification limits and failures as Exchange has them: open
//     GetStreamingEvents connections per budget (the impersonated mailbox's,
//     else the account's) up to [WithHangingConnectionLimit] (10; 3 on
//     Exchange 2013) and then ErrorExceededConnectionCount; one connection
//     per subscription (the older one gets
//     ErrorNewEventStreamConnectionOpened); unconnected streaming
//     subscriptions end after [WithStreamingSubscriptionLifetime]; and, for
//     clients that must resync, [Server.LoseEvents] /
//     [Server.LoseSubscriptionEvents] (ErrorMissedNotificationEvents),
//     [Server.ExpireSubscriptions] / [Server.ExpireSubscription]
//     (ErrorSubscriptionNotFound) and [Server.DropStreams] (every open
//     stream's TCP connection cut).
//   - Robustness: a panic while serving fails that request alone with
//     ErrorInternalServerError (and fails the test of a NewServer(t)
//     server); [Server.Close] returns promptly even with clients stuck
//     half-way through a request; slow and idle connections are bounded
//     ([WithTimeouts]); the request log is bounded by bytes and clips
//     values ([WithRequestLog]).
//
// [ControlHandler] exposes the same controls as JSON over HTTP for test
// suites not written in Go; the standalone fake (examples/fakeexchange)
// serves it with -control.
//
// Every SOAP body the server sends validates against Microsoft's EWS schema
// (checked in CI with ews-validate over responses captured from this
// package's tests: go test ./scctest -capture DIR).
//
// SyncFolderItems and SyncFolderHierarchy answer net changes from the
// mailbox model's change log, with signed opaque sync states (a tampered,
// truncated or foreign state is ErrorInvalidSyncStateData); README.md
// lists what they support.
//
// # What it does not do
//
// Other operations answer the SOAP fault ErrorInvalidOperation naming the
// operation; SOAP bodies that are not EWS operations get
// ErrorInvalidRequest. Not modelled (README.md has the full list):
// affinity across sites, search
// folders, item types other than the four, task recurrences (kept
// verbatim; calendar recurrences are parsed and expanded), QueryString, grouping, delegate
// permissions, Kerberos (SPNEGO tokens get 401), SOAP 1.2, and token
// validation beyond lookup of registered tokens.
package scctest
