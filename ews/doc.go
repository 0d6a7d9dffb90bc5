// Package ews is a client for Exchange Web Services (EWS) that acts for many
// mailboxes through one service account with Exchange Impersonation.
//
// # Client
//
// [NewClient] takes the EWS URL (https://<host>/EWS/Exchange.asmx, or
// https://outlook.office365.com/EWS/Exchange.asmx for Exchange Online) and
// options: credentials ([WithNTLM], [WithBasicAuth], [WithNegotiatedAuth],
// [WithTokenSource], [WithBearerToken]), [WithServerVersion] (default
// [Exchange2013_SP1]), [WithTimeZoneContext], [WithMaxResponseBytes],
// [WithRetryPolicy], [WithRetryHook], [WithLogger], [WithWireTrace],
// [WithTransportMiddleware], [WithUserAgent], [WithHTTPClient], and for lab
// servers only [WithInsecureHTTP] and [WithInsecureSkipVerify]. Every option
// checks its argument, and NewClient reports the first problem.
//
// # HTTP stack
//
// [WithHTTPClient] is the one way to hand the Client an *http.Client; its
// Transport should be an *http.Transport (or nil), which the Client clones.
// On top of it sit, closest to the wire first, the wire trace, the
// [WithTransportMiddleware] RoundTrippers, and the auth option. NTLM
// authenticates a connection, so [WithNTLM] and [WithNegotiatedAuth] run
// each handshake on a connection of its own, built from that
// *http.Transport with the trace and middleware around it: every layer sees
// every leg and none can move a leg to another connection, whatever the
// concurrency. When the connection closes between the legs, the handshake
// starts over on a new one. A Transport of another type hides its connections, and
// NewClient refuses it with NTLM (Basic and bearer tokens accept any
// RoundTripper).
//
// A Client is safe for concurrent use. [Client.With] returns a cheap view
// that binds call options, typically the mailbox to impersonate, so one
// Client serves thousands of users at once; all views share one connection
// pool, which [Client.CloseIdleConnections] empties when a batch is done:
//
//	c, err := ews.NewClient("https://mail.contoso.com/EWS/Exchange.asmx",
//		ews.WithNTLM(`CONTOSO\svc-sync`, password))
//	...
//	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.com")))
//	inbox, err := alice.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox))
//
// # Impersonation
//
// [Impersonate] adds t:ExchangeImpersonation with one of the four kinds of
// [ConnectingSID] ([PrimarySmtpAddress], [SmtpAddress], [PrincipalName],
// [SID]) and sets the X-AnchorMailbox header to the impersonated address, as
// Exchange 2013+ and Exchange Online expect; [AnchorMailbox] overrides it
// (and is needed with a SID, from which no address can be derived), and
// [PreferServerAffinity] adds X-PreferServerAffinity. Empty or malformed
// identifiers fail before anything is sent ([ErrInvalidConnectingSID]).
//
// # Operations
//
// Each operation takes a typed request and returns a typed response whose
// Results hold one entry per requested item, in request order, each with
// its own [ResponseMessage] (ResponseClass, ResponseCode, MessageText,
// MessageXml) and Err. The error an operation returns is about the request
// as a whole; per-item errors stay in the results:
//
//   - [Client.GetFolder], [Client.FindFolder] (with a [Restriction])
//   - [Client.CreateFolder], [Client.UpdateFolder], [Client.MoveFolder],
//     [Client.CopyFolder], [Client.DeleteFolder]
//   - [Client.FindItem] (paging with [PageView], [CalendarView],
//     [Restriction], [FieldOrder]), [Client.GetItem]
//   - [Client.CreateItem] (messages, contacts, tasks, calendar items)
//   - [Client.UpdateItem] ([SetItemField], [AppendToItemField],
//     [DeleteItemField], [SetExtendedProperty]; [ConflictResolution]),
//     [Client.MoveItem], [Client.CopyItem]
//   - [Client.DeleteItem] (HardDelete, SoftDelete, MoveToDeletedItems)
//   - [Client.CreateAttachment], [Client.GetAttachment],
//     [Client.DeleteAttachment]
//   - [Client.GetUserConfiguration], [Client.CreateUserConfiguration],
//     [Client.UpdateUserConfiguration], [Client.DeleteUserConfiguration]
//   - [Client.ConvertID], [Client.ResolveNames]
//
// # Folders and items
//
// [Folder] and [Item] serve both directions: GetItem and FindItem fill
// them, CreateItem and CreateFolder send the fields that are set. An Item's
// Kind says which element it is; [Contact], [Task] and [CalendarItem] hold
// the fields of those kinds. [ExtendedFieldURI] names a MAPI property (a tag,
// or a named property of a GUID or well-known set); ask for extended
// properties in a shape, set them in CreateItem and UpdateItem, filter and
// sort on them. Updates carry exactly the one property their [Path] names,
// so a property can be set to its zero value. Requests are checked against
// the schema's rules (element order, dictionary keys, recurrence patterns,
// property addressing) before they are sent.
//
// Single-item conveniences return the item and one error that covers both
// levels: [Client.Folder], [Client.Item], [Client.CreateMessage],
// [Client.CreateItemIn], [Client.RenameFolder], [Client.DeleteItemByID];
// [Client.EnsureFolder] finds or creates a folder by name;
// [Client.EnsureCategories] adds categories with a colour to the mailbox's
// master category list; [Client.Items] and [Client.FindAllItems] walk all
// pages of a folder.
//
// # Incremental sync
//
// [Client.SyncFolderItems] and [Client.SyncFolderHierarchy] run one sync
// call; [Client.SyncItems] and [Client.SyncFolders] loop until the folder
// (or tree) is in sync, yielding each [SyncPage]: its typed changes
// ([ItemSyncChange]: Create, Update, Delete, ReadFlagChange;
// [FolderSyncChange]) and the opaque SyncState to persist once they are
// applied. A sync resumed from a stored state continues after the last
// page handled. errors.Is(err, ErrorInvalidSyncStateData) means the state
// must be dropped and the folder synced from scratch.
//
// # Notifications
//
// [Client.SubscribePull], [Client.SubscribePush] and
// [Client.SubscribeStreaming] create subscriptions to folders or to all
// folders of a mailbox, for any [EventType]; [Client.GetEvents] and
// [Client.Events] fetch pull events by watermark; [Client.Unsubscribe] ends
// one. [Client.GetStreamingEvents] opens one connection for up to 200
// streaming subscriptions and returns an [EventStream] whose Next hands out
// each envelope as it arrives: keep-alives, [Notification]s, the
// per-subscription [SubscriptionError]s (ErrorSubscriptionNotFound,
// ErrorMissedNotificationEvents, ErrorInvalidWatermark, ...) and, after
// ConnectionStatus Closed, io.EOF. A connection cut at any byte ends with a
// transient error wrapping [ErrStreamDropped], one silent past its idle
// timeout with [ErrStreamIdle], never with a partial message;
// [SubscriptionError.KeepsSubscription] tells whether to reconnect with the
// same subscriptions or to subscribe again. [PushHandler] is the http.Handler for push subscriptions; its
// [PushFunc] answers OK or Unsubscribe. An [AffinityGroup] passed with
// [Affinity] keeps a group's notification traffic on one backend
// (X-AnchorMailbox, X-PreferServerAffinity and the X-BackEndOverrideCookie
// the server issues).
//
// Requests are SOAP 1.1 envelopes built with github.com/beevik/etree, so
// every user value is escaped; header elements are in the types namespace,
// t:RequestServerVersion is always present, t:TimeZoneContext only on
// operations whose WSDL input allows it. Responses are matched on namespaces,
// not prefixes; ServerVersionInfo is parsed leniently.
//
// # Errors
//
// Errors are values to inspect with errors.Is and errors.As:
//
//   - [*ResponseError]: an item failed (ResponseClass="Error").
//   - [*FaultError]: a SOAP fault; the whole request failed.
//   - [*AuthError]: HTTP 401 after the handshake, with the scheme tried and
//     the schemes the server offered.
//   - [*HTTPError]: anything that is not a usable SOAP answer (403 when EWS
//     is blocked by policy, 5xx, an HTML login page, an empty, truncated or
//     oversized body, or XML beyond the parser's bounds: more than 64
//     attributes on an element, 2^19 elements or a depth of 256), with a
//     short sanitized excerpt.
//   - [*ThrottledError]: ErrorServerBusy or HTTP 503, with the server's
//     back-off.
//   - [*TransportError]: the network failed; MaybeSent says whether the
//     request may have reached the server (with net/http's transport,
//     whether its headers were written, as httptrace reports it).
//   - [ErrInvalidRequest]: the client refused to send the request.
//
// Server text in errors (excerpts, fault and response messages,
// MessageXML values, x-ms-diagnostics) is passed through [Redact] with the
// Client's password and tokens, so err.Error() never shows a credential a
// server echoed back. A response body costs about its size in memory (at
// most [WithMaxResponseBytes] for one that is too large), and its parsing
// stops when the call's context ends.
//
// A [ResponseCode] is itself an error, so errors.Is(err,
// ews.ErrorImpersonateUserDenied) works on response errors and faults alike.
// [IsTransient] says whether retrying later can help; [BackOff] extracts the
// server's requested delay.
//
// # Retries and throttling
//
// The [RetryPolicy] repeats throttled requests (honouring
// BackOffMilliseconds and Retry-After), connections that could not be made,
// and, for operations that are safe to repeat, dropped connections and
// transient server errors - all with jitter, bounded by attempts and total
// wait, and cancelled by the context. CreateItem, CreateFolder, CopyItem,
// CopyFolder, CreateAttachment, CreateUserConfiguration and an UpdateItem
// that appends are never repeated when their outcome is unknown. A back-off longer than the remaining wait budget is
// returned at once as a *ThrottledError: a bulk job that uses [NoRetries]
// sees every back-off immediately and can pause all its workers (see
// [BackOff]).
//
// # Observability
//
// [WithLogger] logs requests at Debug and retries at Warn (silent by
// default); [WithWireTrace] dumps each HTTP exchange, including every NTLM
// leg, with Authorization and cookie headers, password-like XML content and
// echoed credentials redacted; it never changes what is sent.
// [WithTransportMiddleware] adds logging, tracing or metrics RoundTrippers
// at the same place.
//
// See the examples of [NewClient], [Client.With], [Client.GetFolder],
// [Client.Items], [Client.SyncItems], [Client.GetStreamingEvents],
// [NewPushHandler], [IsTransient] and [BackOff], which run against a local
// server.
//
// # Finding the EWS URL
//
// The sub-package github.com/sccsync/scc/ews/autodiscover finds the EWS URL
// and per-mailbox settings (GroupingInformation among them) with SOAP, POX
// and v2 JSON Autodiscover, and sends credentials only over https to the
// address's own registered domain and hosts the caller lists.
package ews
