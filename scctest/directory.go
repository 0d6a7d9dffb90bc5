package scctest

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sccsync/scc/internal/mailaddr"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// Mailbox is a user mailbox in the fake directory.
type Mailbox struct {
	// PrimarySMTP is the primary SMTP address (required), the one
	// t:PrimarySmtpAddress must name.
	PrimarySMTP string
	// ProxyAddresses are further SMTP addresses (aliases) of the mailbox,
	// without the "smtp:" prefix. t:SmtpAddress and ResolveNames accept
	// them; t:PrimarySmtpAddress does not.
	ProxyAddresses []string
	// UPN is the user principal name; empty means PrimarySMTP.
	UPN string
	// SID is the account's SID in SDDL form; empty means one generated from
	// the server's seed and the mailbox's position (deterministic).
	SID string
	// DisplayName; empty means the local part of PrimarySMTP.
	DisplayName string
	// Password, when set, lets the mailbox owner log on directly (Basic or
	// NTLM) as UPN or DOMAIN\alias, where alias is the local part of UPN.
	Password string
}

// String returns the primary address; it never shows the password.
func (m Mailbox) String() string { return m.PrimarySMTP }

// GoString is the %#v form, with the password (if any) as [redacted].
func (m Mailbox) GoString() string {
	m.Password = redactedPassword(m.Password)
	type plain Mailbox // without the methods, so that fmt walks the fields
	return fmt.Sprintf("scctest.Mailbox%+v", plain(m))
}

// MarshalJSON encodes the fields, with the password (if any) as
// [redacted].
func (m Mailbox) MarshalJSON() ([]byte, error) {
	m.Password = redactedPassword(m.Password)
	type plain Mailbox
	return json.Marshal(plain(m))
}

// LogValue is String, for log/slog.
func (m Mailbox) LogValue() slog.Value { return slog.StringValue(m.String()) }

func redactedPassword(p string) string {
	if p == "" {
		return ""
	}
	return "[redacted]"
}

// BodyType is the format of a message body.
type BodyType string

// Body formats.
const (
	BodyText BodyType = "Text"
	BodyHTML BodyType = "HTML"
)

// Message is an e-mail message stored in a mailbox folder.
type Message struct {
	Subject  string
	Body     string
	BodyType BodyType // default BodyText
	// From is the sender's SMTP address (optional).
	From string
	// To and Cc are recipient SMTP addresses.
	To, Cc []string
	IsRead bool
	// Received, Sent and Created default to the server clock.
	Received, Sent, Created time.Time
}

// ItemID is the id and change key of an item, as EWS carries them in
// t:ItemId.
type ItemID struct {
	ID, ChangeKey string
}

// Item is a stored message with its id and folder, as returned by
// [Server.Items].
type Item struct {
	ItemID
	// Folder is the DistinguishedFolderId of the folder holding it.
	Folder string
	Message
}

// Grant is what a service account may impersonate: nothing, all mailboxes
// (the ApplicationImpersonation role without scope), or the mailboxes of a
// management scope. The zero Grant allows nothing.
type Grant struct {
	all   bool
	scope []string
}

// NoImpersonation is a grant that allows no impersonation: requests with an
// ExchangeImpersonation header fail with ErrorImpersonationDenied.
func NoImpersonation() Grant { return Grant{} }

// ImpersonateAll allows impersonating every mailbox.
func ImpersonateAll() Grant { return Grant{all: true} }

// ImpersonateScope allows impersonating the named mailboxes only (any of
// their addresses or UPN may be given). Others fail with
// ErrorImpersonateUserDenied.
func ImpersonateScope(mailboxes ...string) Grant {
	sc := make([]string, 0, len(mailboxes))
	for _, m := range mailboxes {
		sc = append(sc, addrKey(m))
	}
	return Grant{scope: sc}
}

// String describes the grant.
func (g Grant) String() string {
	switch {
	case g.all:
		return "all mailboxes"
	case len(g.scope) > 0:
		return fmt.Sprintf("scope of %d mailboxes", len(g.scope))
	}
	return "no impersonation"
}

// TokenKind is the kind of an OAuth access token.
type TokenKind int

// Token kinds.
const (
	// AppOnly is a client-credentials token with the full_access_as_app
	// role: every request must carry ExchangeImpersonation and
	// X-AnchorMailbox.
	AppOnly TokenKind = iota + 1
	// Delegated is a token of a signed-in user (EWS.AccessAsUser.All):
	// requests act as that user and must not carry ExchangeImpersonation.
	Delegated
)

// Token describes a bearer token registered with [Server.AddToken].
type Token struct {
	Kind TokenKind
	// AppID is the application (client) id; [Server.BlockApp] blocks it.
	AppID string
	// User is the signed-in user's mailbox (Delegated tokens).
	User string
	// Scope, for AppOnly tokens, restricts the app to these mailboxes (an
	// application access policy / RBAC for Applications scope); empty means
	// all mailboxes.
	Scope []string
}

// account is a principal that logs on with a password.
type account struct {
	logon    string
	password string
	grant    Grant
	scope    map[string]bool
	mailbox  *mailbox // set for mailbox owners
	failed   int      // consecutive failed logons
	locked   bool
}

type token struct {
	Token
	scope map[string]bool
}

// directory is the fake Active Directory plus mailbox store.
type directory struct {
	mailboxes []*mailbox
	byAddr    map[string]*mailbox // every SMTP address, by addrKey
	byUPN     map[string]*mailbox // UPNs other than the primary address, by addrKey; see lookupUPN
	bySID     map[string]*mailbox // SIDs other than generated ones, uppercased; see lookupSID
	sidPrefix string              // "S-1-5-21-a-b-c-" of generated SIDs
	accounts  map[string]*account // logon keys, see logonKeys
	tokens    map[string]*token
	ewsOff    bool
	blocked   map[string]bool // app ids
}

func (d *directory) init() {
	d.byAddr = map[string]*mailbox{}
	d.byUPN = map[string]*mailbox{}
	d.bySID = map[string]*mailbox{}
	d.accounts = map[string]*account{}
	d.tokens = map[string]*token{}
	d.blocked = map[string]bool{}
}

// Errors returned by the seeding methods. Match with errors.Is.
var (
	// ErrDuplicate means an address, UPN, SID or logon is already taken.
	ErrDuplicate = errors.New("scctest: already exists")
	// ErrNotFound means a mailbox, folder, account or item is unknown.
	ErrNotFound = errors.New("scctest: not found")
	// ErrInvalid means an argument is malformed.
	ErrInvalid = errors.New("scctest: invalid argument")
)

func validSMTP(a string) bool {
	if a == "" || strings.ContainsAny(a, " <>\"") {
		return false
	}
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 {
		return false
	}
	_, err := mail.ParseAddress(a)
	return err == nil
}

func validSID(s string) bool {
	if !strings.HasPrefix(strings.ToUpper(s), "S-1-") {
		return false
	}
	parts := strings.Split(s[4:], "-")
	if len(parts) < 1 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// AddMailbox adds a mailbox with the standard distinguished folders (root,
// msgfolderroot, inbox, drafts, sentitems, deleteditems, outbox, junkemail,
// calendar, contacts, tasks, notes, journal, conversationhistory,
// searchfolders and the recoverable items folders). It returns the mailbox
// as stored, with UPN, SID and DisplayName filled in.
func (s *Server) AddMailbox(m Mailbox) (Mailbox, error) {
	m.PrimarySMTP = strings.TrimSpace(m.PrimarySMTP)
	if !validSMTP(m.PrimarySMTP) {
		return Mailbox{}, fmt.Errorf("%w: AddMailbox: primary SMTP address %q is not an address", ErrInvalid, m.PrimarySMTP)
	}
	if m.UPN == "" {
		m.UPN = m.PrimarySMTP
	}
	if !strings.Contains(m.UPN, "@") {
		return Mailbox{}, fmt.Errorf("%w: AddMailbox: UPN %q must look like user@domain", ErrInvalid, m.UPN)
	}
	if m.DisplayName == "" {
		m.DisplayName = m.PrimarySMTP[:strings.IndexByte(m.PrimarySMTP, '@')]
	}
	m.ProxyAddresses = append([]string(nil), m.ProxyAddresses...)
	for i, p := range m.ProxyAddresses {
		p = strings.TrimSpace(p)
		if len(p) > 5 && strings.EqualFold(p[:5], "smtp:") {
			p = p[5:]
		}
		if !validSMTP(p) {
			return Mailbox{}, fmt.Errorf("%w: AddMailbox(%s): proxy address %q is not an address", ErrInvalid, m.PrimarySMTP, p)
		}
		m.ProxyAddresses[i] = p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &s.dir
	idx := uint32(len(d.mailboxes))
	if m.SID == "" {
		m.SID = d.sidPrefix + strconv.FormatUint(uint64(firstRID+idx), 10)
	} else if !validSID(m.SID) {
		return Mailbox{}, fmt.Errorf("%w: AddMailbox(%s): SID %q is not in S-1-... form", ErrInvalid, m.PrimarySMTP, m.SID)
	}
	for _, a := range append([]string{m.PrimarySMTP}, m.ProxyAddresses...) {
		if _, dup := d.byAddr[addrKey(a)]; dup {
			return Mailbox{}, fmt.Errorf("%w: AddMailbox: address %s", ErrDuplicate, a)
		}
	}
	if d.lookupUPN(m.UPN) != nil {
		return Mailbox{}, fmt.Errorf("%w: AddMailbox: UPN %s", ErrDuplicate, m.UPN)
	}
	if d.lookupSID(m.SID) != nil {
		return Mailbox{}, fmt.Errorf("%w: AddMailbox: SID %s", ErrDuplicate, m.SID)
	}
	var ownerKeys []string
	if m.Password != "" {
		ownerKeys = s.logonKeys(m.UPN)
		alias := m.UPN[:strings.IndexByte(m.UPN, '@')]
		ownerKeys = append(ownerKeys, s.logonKeys(s.cfg.netbios+`\`+alias)...)
		for _, k := range ownerKeys {
			if _, dup := d.accounts[k]; dup {
				return Mailbox{}, fmt.Errorf("%w: AddMailbox(%s): logon %s", ErrDuplicate, m.PrimarySMTP, m.UPN)
			}
		}
	}
	mb := &mailbox{idx: idx, info: m}
	d.mailboxes = append(d.mailboxes, mb)
	for _, a := range mb.addresses() {
		d.byAddr[addrKey(a)] = mb
	}
	// The common cases cost no map entry: a UPN equal to the primary
	// address is found through byAddr, a generated SID from its RID.
	if upnKey := addrKey(m.UPN); upnKey != addrKey(m.PrimarySMTP) {
		d.byUPN[upnKey] = mb
	}
	if d.generatedSID(m.SID) != mb {
		d.bySID[strings.ToUpper(m.SID)] = mb
	}
	if m.Password != "" {
		acc := &account{logon: m.UPN, password: m.Password, mailbox: mb}
		for _, k := range ownerKeys {
			d.accounts[k] = acc
		}
	}
	out := m
	out.ProxyAddresses = append([]string(nil), m.ProxyAddresses...)
	return out, nil
}

// Mailboxes returns all mailboxes in the order they were added.
func (s *Server) Mailboxes() []Mailbox {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Mailbox, 0, len(s.dir.mailboxes))
	for _, m := range s.dir.mailboxes {
		c := m.info
		c.ProxyAddresses = append([]string(nil), c.ProxyAddresses...)
		out = append(out, c)
	}
	return out
}

// addrKey is the directory's key for an SMTP address or UPN: the module's
// one canonical comparison form (case-folded local part, IDNA domain in
// ASCII), so the fake finds a mailbox under every spelling the client's
// layers treat as the same address, and no other.
func addrKey(a string) string { return mailaddr.Key(a) }

// lookupAddr finds a mailbox by any SMTP address. Callers hold mu.
func (d *directory) lookupAddr(a string) *mailbox {
	return d.byAddr[addrKey(a)]
}

// lookupUPN finds a mailbox by its UPN (compared by addrKey). Callers hold
// mu.
func (d *directory) lookupUPN(upn string) *mailbox {
	k := addrKey(upn)
	if mb := d.byUPN[k]; mb != nil {
		return mb
	}
	if mb := d.byAddr[k]; mb != nil && addrKey(mb.info.UPN) == k {
		return mb
	}
	return nil
}

// lookupSID finds a mailbox by its SID, in any case. Callers hold mu.
func (d *directory) lookupSID(sid string) *mailbox {
	if mb := d.bySID[strings.ToUpper(sid)]; mb != nil {
		return mb
	}
	return d.generatedSID(sid)
}

// generatedSID returns the mailbox whose SID, generated by AddMailbox from
// the domain SID and its index, is sid; nil if none is.
func (d *directory) generatedSID(sid string) *mailbox {
	if len(sid) <= len(d.sidPrefix) || !strings.EqualFold(sid[:len(d.sidPrefix)], d.sidPrefix) {
		return nil
	}
	rid, err := strconv.ParseUint(sid[len(d.sidPrefix):], 10, 32)
	if err != nil || rid < firstRID || rid-firstRID >= uint64(len(d.mailboxes)) {
		return nil
	}
	if mb := d.mailboxes[rid-firstRID]; strings.EqualFold(mb.info.SID, sid) {
		return mb
	}
	return nil
}

// firstRID is the relative id of the first generated SID.
const firstRID = 1100

// AddItem stores a message in a folder of a mailbox (named by any of its
// addresses) and returns its id and change key. folder is a
// DistinguishedFolderId such as "inbox" or "drafts", or a folder id.
func (s *Server) AddItem(mailboxAddr, folderName string, m Message) (ItemID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.dir.lookupAddr(mailboxAddr)
	if mb == nil {
		return ItemID{}, fmt.Errorf("%w: AddItem: mailbox %q", ErrNotFound, mailboxAddr)
	}
	it, err := s.box(mb).CreateItem(folderName, s.modelMessage(m))
	if err != nil {
		return ItemID{}, seedErr("AddItem", folderName, err)
	}
	return ItemID{ID: it.ID, ChangeKey: it.ChangeKey}, nil
}

// seedErr wraps a model error of a seeding method in the package's
// sentinels.
func seedErr(method, folder string, err error) error {
	switch {
	case errors.Is(err, mbx.ErrFolderNotFound), errors.Is(err, mbx.ErrItemNotFound):
		return fmt.Errorf("%w: %s: folder %q (use a DistinguishedFolderId such as \"inbox\" or a folder id): %v", ErrNotFound, method, folder, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrInvalid, method, err)
}

// modelMessage is the model item of a seeded message: Received and Sent
// default to Created, Created to the server clock.
func (s *Server) modelMessage(m Message) mbx.Item {
	if m.Created.IsZero() {
		m.Created = s.now()
	}
	if m.Received.IsZero() {
		m.Received = m.Created
	}
	if m.Sent.IsZero() {
		m.Sent = m.Created
	}
	it := mbx.Item{
		Kind: mbx.Message, Subject: m.Subject, Body: mbx.Body{Type: mbx.BodyText, Content: m.Body},
		IsRead: m.IsRead, Created: m.Created, Received: m.Received, Sent: m.Sent,
		To: modelAddrs(m.To), Cc: modelAddrs(m.Cc),
	}
	if m.BodyType == BodyHTML {
		it.Body.Type = mbx.BodyHTML
	}
	if m.From != "" {
		it.From = &mbx.Address{Email: m.From}
	}
	it.InternetMessageID = s.newMessageID()
	return it
}

func modelAddrs(as []string) []mbx.Address {
	if len(as) == 0 {
		return nil
	}
	out := make([]mbx.Address, len(as))
	for i, a := range as {
		out[i] = mbx.Address{Email: a}
	}
	return out
}

func emails(as []mbx.Address) []string {
	if len(as) == 0 {
		return nil
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Email
	}
	return out
}

// seedMessage is the Message view of a model item.
func seedMessage(it mbx.Item) Message {
	m := Message{
		Subject: it.Subject, Body: it.Body.Content, BodyType: BodyText, To: emails(it.To), Cc: emails(it.Cc),
		IsRead: it.IsRead, Received: it.Received, Sent: it.Sent, Created: it.Created,
	}
	if it.Body.Type == mbx.BodyHTML {
		m.BodyType = BodyHTML
	}
	if it.From != nil {
		m.From = it.From.Email
	}
	return m
}

// Items returns the items of a folder of a mailbox, oldest first. folder
// is a DistinguishedFolderId or a folder id.
func (s *Server) Items(mailboxAddr, folderName string) ([]Item, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mb := s.dir.lookupAddr(mailboxAddr)
	if mb == nil {
		return nil, fmt.Errorf("%w: Items: mailbox %q", ErrNotFound, mailboxAddr)
	}
	items, err := s.box(mb).Items(folderName)
	if err != nil {
		return nil, seedErr("Items", folderName, err)
	}
	out := make([]Item, 0, len(items))
	for _, it := range items {
		out = append(out, Item{ItemID: ItemID{ID: it.ID, ChangeKey: it.ChangeKey}, Folder: folderName, Message: seedMessage(it)})
	}
	return out, nil
}

// FolderID returns the EWS folder id of a standard folder of a mailbox.
func (s *Server) FolderID(mailboxAddr, folderName string) (string, error) {
	if !slices.Contains(mbx.DistinguishedFolderNames(), folderName) {
		return "", fmt.Errorf("%w: FolderID: folder %q", ErrNotFound, folderName)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	mb := s.dir.lookupAddr(mailboxAddr)
	if mb == nil {
		return "", fmt.Errorf("%w: FolderID: mailbox %q", ErrNotFound, mailboxAddr)
	}
	id, err := s.box(mb).FolderID(folderName)
	if err != nil {
		return "", seedErr("FolderID", folderName, err)
	}
	return id, nil
}

// logonKeys normalises a logon name (DOMAIN\user, user@domain or user) into
// the keys it is found under. The server's DNS domain counts as its NetBIOS
// domain, and a bare user name belongs to the server's domain.
func (s *Server) logonKeys(logon string) []string {
	logon = strings.ToLower(strings.TrimSpace(logon))
	if i := strings.IndexByte(logon, '\\'); i >= 0 {
		dom, user := logon[:i], logon[i+1:]
		if dom == "" || dom == s.cfg.dnsDomain {
			dom = strings.ToLower(s.cfg.netbios)
		}
		return []string{"dom:" + dom + `\` + user}
	}
	if strings.Contains(logon, "@") {
		return []string{"upn:" + logon}
	}
	return []string{"dom:" + strings.ToLower(s.cfg.netbios) + `\` + logon}
}

// accountKeys returns every key an account registered as logon answers to.
// In the server's own domain DOMAIN\user and the UPN user@dnsdomain name the
// same Active Directory account (the UPN suffix being the domain's DNS name),
// so such an account gets both keys; DOMAIN\user of another domain and a UPN
// with another suffix keep their one key.
func (s *Server) accountKeys(logon string) []string {
	keys := s.logonKeys(logon)
	k := keys[0]
	dom := "dom:" + strings.ToLower(s.cfg.netbios) + `\`
	upnSuffix := "@" + s.cfg.dnsDomain
	switch {
	case strings.HasPrefix(k, dom):
		if user := k[len(dom):]; !strings.ContainsAny(user, `@\`) {
			keys = append(keys, "upn:"+user+upnSuffix)
		}
	case strings.HasPrefix(k, "upn:") && strings.HasSuffix(k, upnSuffix):
		if user := strings.TrimSuffix(k[len("upn:"):], upnSuffix); !strings.ContainsAny(user, `@\`) {
			keys = append(keys, dom+user)
		}
	}
	return keys
}

// findAccountLocked finds the account for a presented user and domain (as
// NTLM carries them; Basic logons are split the same way). Callers hold mu.
func (s *Server) findAccountLocked(user, domain string) *account {
	name := user
	if domain != "" {
		name = domain + `\` + user
	}
	for _, k := range s.logonKeys(name) {
		if a := s.dir.accounts[k]; a != nil {
			return a
		}
	}
	return nil
}

// AddServiceAccount adds an account without mailbox that logs on with a
// password and may impersonate mailboxes as grant says. logon is DOMAIN\user,
// user@domain or user (then in the server's domain); names are not case
// sensitive.
//
// As in Active Directory, an account of the server's own domain (see
// [WithDomain]) answers to both of its names, over Basic and NTLM alike:
// an account registered as CONTOSO\svc-sync also logs on as
// svc-sync@contoso.example, and the other way round; the DNS name also works
// as the domain (contoso.example\svc-sync). An account of another domain
// answers only to the form it was registered with (a UPN such as
// svc@fabrikam.example on a contoso server stays UPN-only). Either
// form names the account in [Server.SetGrant], [Server.SetPassword],
// [Server.Unlock] and [Server.Locked]; failed logons in any form count
// towards one lockout threshold and appear in [Stats].FailedLogons under
// logon as registered here, lowercased. Registering a second account under
// either name of an existing one (service account or mailbox owner) fails
// with [ErrDuplicate].
func (s *Server) AddServiceAccount(logon, password string, grant Grant) error {
	if strings.TrimSpace(logon) == "" || password == "" {
		return fmt.Errorf("%w: AddServiceAccount: logon and password are required", ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := s.accountKeys(logon)
	for _, k := range keys {
		if _, dup := s.dir.accounts[k]; dup {
			return fmt.Errorf("%w: AddServiceAccount: logon %s", ErrDuplicate, logon)
		}
	}
	acc := &account{logon: logon, password: password}
	acc.setGrant(grant)
	for _, k := range keys {
		s.dir.accounts[k] = acc
	}
	return nil
}

func (a *account) setGrant(g Grant) {
	a.grant = Grant{all: g.all, scope: append([]string(nil), g.scope...)}
	a.scope = map[string]bool{}
	for _, m := range g.scope {
		a.scope[m] = true
	}
}

// SetGrant changes what an account may impersonate.
func (s *Server) SetGrant(logon string, grant Grant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := s.accountByLogonLocked(logon)
	if acc == nil {
		return fmt.Errorf("%w: SetGrant: account %s", ErrNotFound, logon)
	}
	acc.setGrant(grant)
	return nil
}

func (s *Server) accountByLogonLocked(logon string) *account {
	for _, k := range s.logonKeys(logon) {
		if a := s.dir.accounts[k]; a != nil {
			return a
		}
	}
	return nil
}

// SetPassword changes an account's password, as an administrator resetting
// it would: later logons need the new one (connections NTLM already
// authenticated stay authenticated, as on IIS). It does not unlock a
// locked-out account; see [Server.Unlock].
func (s *Server) SetPassword(logon, password string) error {
	if password == "" {
		return fmt.Errorf("%w: SetPassword: password is required", ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := s.accountByLogonLocked(logon)
	if acc == nil {
		return fmt.Errorf("%w: SetPassword: account %s", ErrNotFound, logon)
	}
	acc.password = password
	return nil
}

// Unlock clears the failed-logon count and lockout of an account.
func (s *Server) Unlock(logon string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := s.accountByLogonLocked(logon)
	if acc == nil {
		return fmt.Errorf("%w: Unlock: account %s", ErrNotFound, logon)
	}
	acc.failed, acc.locked = 0, false
	return nil
}

// Locked reports whether an account is locked out.
func (s *Server) Locked(logon string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	acc := s.accountByLogonLocked(logon)
	return acc != nil && acc.locked
}

// AddToken registers a bearer access token.
func (s *Server) AddToken(tok string, t Token) error {
	if strings.TrimSpace(tok) == "" || strings.ContainsAny(tok, " \t\r\n") {
		return fmt.Errorf("%w: AddToken: the token must be non-empty without spaces", ErrInvalid)
	}
	switch t.Kind {
	case AppOnly:
	case Delegated:
		if t.User == "" {
			return fmt.Errorf("%w: AddToken: a Delegated token needs User", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: AddToken: Kind must be AppOnly or Delegated", ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.dir.tokens[tok]; dup {
		return fmt.Errorf("%w: AddToken: token already registered", ErrDuplicate)
	}
	tk := &token{Token: t, scope: map[string]bool{}}
	tk.Scope = append([]string(nil), t.Scope...)
	for _, m := range t.Scope {
		tk.scope[addrKey(m)] = true
	}
	s.dir.tokens[tok] = tk
	return nil
}

// RevokeToken makes a token invalid (as when it expires): requests with it
// get 401.
func (s *Server) RevokeToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.dir.tokens, tok)
}

// SetEWSEnabled turns EWS on or off for the whole organisation
// (Set-OrganizationConfig -EwsEnabled). While off every authenticated
// request gets HTTP 403, as Exchange Online answers when EWS is blocked.
func (s *Server) SetEWSEnabled(enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dir.ewsOff = !enabled
}

// SetMailboxEWSEnabled turns EWS on or off for one mailbox
// (Set-CASMailbox -EwsEnabled): requests acting as or impersonating it get
// HTTP 403.
func (s *Server) SetMailboxEWSEnabled(mailboxAddr string, enabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.dir.lookupAddr(mailboxAddr)
	if mb == nil {
		return fmt.Errorf("%w: SetMailboxEWSEnabled: mailbox %q", ErrNotFound, mailboxAddr)
	}
	mb.ewsOff = !enabled
	return nil
}

// BlockApp blocks EWS for a bearer-token application (the Exchange Online
// 2026 EWS block, or an EWS application access policy): its requests get
// HTTP 403.
func (s *Server) BlockApp(appID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dir.blocked[strings.ToLower(appID)] = true
}

// inScope reports whether mb is in a scope set of lowercase addresses/UPNs.
func inScope(scope map[string]bool, mb *mailbox) bool {
	if scope[addrKey(mb.info.UPN)] {
		return true
	}
	for _, a := range mb.addresses() {
		if scope[addrKey(a)] {
			return true
		}
	}
	return false
}

// sortedKeys is a helper for deterministic output of counters.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
