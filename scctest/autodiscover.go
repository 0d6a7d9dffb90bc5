package scctest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sccsync/scc/ews"
)

// Autodiscover: the fake serves SOAP (autodiscover.svc, GetUserSettings),
// POX (autodiscover.xml) and v2 JSON (autodiscover.json) Autodiscover for
// its mailboxes, plus redirect scenarios and hostile behaviours for tests of
// clients that must not leak credentials. See scctest/README.md.

// Autodiscover namespaces.
const (
	nsAutodiscover = "http://schemas.microsoft.com/exchange/2010/Autodiscover"
	nsWSAddressing = "http://www.w3.org/2005/08/addressing"
	nsXSInstance   = "http://www.w3.org/2001/XMLSchema-instance"
	nsPOXRequest   = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
	nsPOXBase      = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	nsPOXOutlook   = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)

// AutodiscoverMaxUsers is how many users one GetUserSettings request may
// name; more is answered with a top-level InvalidRequest (Microsoft
// documents no limit; 100 is what the EWS Managed API sends).
const AutodiscoverMaxUsers = 100

// AutodiscoverUser overrides what Autodiscover answers for one address
// (which need not be a mailbox of the server, e.g. for a redirect).
type AutodiscoverUser struct {
	// EWSURL is the ExternalEwsUrl (POX: EXPR EwsUrl; JSON: Url); empty
	// means the server's default (see [Server.SetAutodiscoverEWSURL]).
	EWSURL string
	// InternalEWSURL is the InternalEwsUrl (POX: EXCH EwsUrl); empty means
	// the server's default.
	InternalEWSURL string
	// GroupingInformation; empty means the name of the mailbox's backend
	// (see [WithBackends], [Server.SetMailboxBackend]).
	GroupingInformation string
	// RedirectAddress makes SOAP answer RedirectAddress and POX
	// redirectAddr with this address.
	RedirectAddress string
	// RedirectURL makes SOAP answer RedirectUrl and POX redirectUrl with
	// this URL.
	RedirectURL string
}

// AutodiscoverMisbehaviour makes the server's Autodiscover endpoints hostile,
// for tests of what a client must refuse. The zero value behaves.
type AutodiscoverMisbehaviour struct {
	// BasicOnly answers every Autodiscover request that does not carry
	// Basic credentials with 401 and only "WWW-Authenticate: Basic" (the
	// downgrade attack), over http and https alike.
	BasicOnly bool
	// RedirectTo answers every Autodiscover request with 302 to this URL.
	RedirectTo string
	// HugeBytes answers 200 with a well-formed prefix followed by this many
	// bytes of padding.
	HugeBytes int64
	// Malformed answers 200 with a truncated document.
	Malformed bool
	// EchoCredentials answers authenticated SOAP and POX requests with an
	// error whose message holds the request's Authorization header and,
	// for Basic, the decoded user:password: a client must not repeat it.
	EchoCredentials bool
}

// autodiscoverState is the Autodiscover configuration of a server.
type autodiscoverState struct {
	mu        sync.Mutex
	external  string
	internal  string
	users     map[string]AutodiscoverUser
	location  string // Location of the unauthenticated GET over http
	misbehave AutodiscoverMisbehaviour
	authz     []string // every Authorization header received, in order
}

// SetAutodiscoverEWSURL sets the EWS URLs Autodiscover announces by default
// (empty external means [Server.EWSURL]; empty internal means external).
func (s *Server) SetAutodiscoverEWSURL(external, internal string) {
	s.ad.mu.Lock()
	defer s.ad.mu.Unlock()
	s.ad.external, s.ad.internal = external, internal
}

// SetAutodiscoverUser sets what Autodiscover answers for address.
func (s *Server) SetAutodiscoverUser(address string, u AutodiscoverUser) error {
	if !validSMTP(address) {
		return fmt.Errorf("scctest: SetAutodiscoverUser: %q is not an SMTP address", address)
	}
	s.ad.mu.Lock()
	defer s.ad.mu.Unlock()
	if s.ad.users == nil {
		s.ad.users = map[string]AutodiscoverUser{}
	}
	s.ad.users[strings.ToLower(address)] = u
	return nil
}

// SetAutodiscoverHTTPRedirect makes an unauthenticated GET of
// /autodiscover/autodiscover.xml over plain http answer 302 to location (the
// third phase of the candidate order). Empty turns it off.
func (s *Server) SetAutodiscoverHTTPRedirect(location string) {
	s.ad.mu.Lock()
	defer s.ad.mu.Unlock()
	s.ad.location = location
}

// SetAutodiscoverMisbehaviour makes the Autodiscover endpoints hostile (the
// zero value restores normal behaviour).
func (s *Server) SetAutodiscoverMisbehaviour(m AutodiscoverMisbehaviour) {
	s.ad.mu.Lock()
	defer s.ad.mu.Unlock()
	s.ad.misbehave = m
}

// maxAuthorizations is how many Authorization values the server keeps (it
// keeps up to twice as many between trims).
const maxAuthorizations = 100000

// Authorizations returns every Authorization header value the server has
// received, on any path, in order (the newest 100,000 at least, in a
// long-running fake): hostile-server tests assert that no credential ever
// reached a server it should not.
func (s *Server) Authorizations() []string {
	s.ad.mu.Lock()
	defer s.ad.mu.Unlock()
	return append([]string(nil), s.ad.authz...)
}

// noteAuthorization records r's Authorization headers.
func (s *Server) noteAuthorization(r *http.Request) {
	v := r.Header.Values("Authorization")
	if len(v) == 0 {
		return
	}
	s.ad.mu.Lock()
	s.ad.authz = append(s.ad.authz, v...)
	if len(s.ad.authz) > 2*maxAuthorizations {
		// Bounded like the request log: keep the newest.
		s.ad.authz = append([]string(nil), s.ad.authz[len(s.ad.authz)-maxAuthorizations:]...)
	}
	s.ad.mu.Unlock()
}

// adUser is what Autodiscover says about one address.
type adUser struct {
	found       bool
	primary     string
	displayName string
	external    string
	internal    string
	grouping    string
	redirAddr   string
	redirURL    string
}

func (s *Server) autodiscoverUser(addr string) adUser {
	key := strings.ToLower(strings.TrimSpace(addr))
	s.mu.RLock()
	mb := s.dir.lookupAddr(key)
	var u adUser
	if mb != nil {
		u.found, u.primary, u.displayName = true, mb.info.PrimarySMTP, mb.info.DisplayName
		u.grouping = s.cfg.backends[s.backendOf(mb)]
	} else {
		u.grouping = s.cfg.backends[s.hashBackend(key)]
	}
	s.mu.RUnlock()
	s.ad.mu.Lock()
	defer s.ad.mu.Unlock()
	o, over := s.ad.users[key]
	if !over && mb != nil {
		o, over = s.ad.users[strings.ToLower(mb.info.PrimarySMTP)]
	}
	u.external, u.internal = s.ad.external, s.ad.internal
	if u.external == "" {
		u.external = s.EWSURL()
	}
	if u.internal == "" {
		u.internal = u.external
	}
	if over {
		u.found = u.found || o.RedirectAddress != "" || o.RedirectURL != "" || o.EWSURL != ""
		if o.EWSURL != "" {
			u.external = o.EWSURL
			if o.InternalEWSURL == "" {
				u.internal = o.EWSURL
			}
		}
		if o.InternalEWSURL != "" {
			u.internal = o.InternalEWSURL
		}
		if o.GroupingInformation != "" {
			u.grouping = o.GroupingInformation
		}
		u.redirAddr, u.redirURL = o.RedirectAddress, o.RedirectURL
		if u.primary == "" {
			u.primary = key
		}
	}
	if u.displayName == "" {
		u.displayName, _, _ = strings.Cut(u.primary, "@")
	}
	return u
}

// serveAutodiscover answers /autodiscover/... requests.
func (s *Server) serveAutodiscover(w http.ResponseWriter, r *http.Request, rec *Request) {
	s.ad.mu.Lock()
	mis, location := s.ad.misbehave, s.ad.location
	s.ad.mu.Unlock()
	path := strings.ToLower(r.URL.Path)
	switch {
	case mis.RedirectTo != "":
		http.Redirect(w, r, mis.RedirectTo, http.StatusFound)
		return
	case mis.BasicOnly:
		if scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " "); !strings.EqualFold(scheme, "Basic") {
			w.Header().Set("WWW-Authenticate", `Basic realm="autodiscover"`)
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		// A "harvester": take the credentials and answer nothing useful.
		w.WriteHeader(http.StatusInternalServerError)
		return
	case mis.HugeBytes > 0:
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="`+nsPOXBase+`"><!--`)
		pad := bytes.Repeat([]byte("x"), 64<<10)
		for n := mis.HugeBytes; n > 0; n -= int64(len(pad)) {
			if _, err := w.Write(pad[:min(int64(len(pad)), n)]); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `--></Autodiscover>`)
		return
	case mis.Malformed:
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="`+nsAutodiscover+`"><Response><ErrorCode>NoErr`)
		return
	}
	switch {
	case strings.HasPrefix(path, "/autodiscover/autodiscover.json"):
		rec.Operation = "AutodiscoverJSON"
		s.serveAutodiscoverJSON(w, r)
		return
	case path == "/autodiscover/autodiscover.xml" && r.Method == http.MethodGet && r.TLS == nil && location != "":
		rec.Operation = "AutodiscoverHTTPRedirect"
		w.Header().Set("Location", location)
		w.WriteHeader(http.StatusFound)
		return
	case path != "/autodiscover/autodiscover.xml" && path != "/autodiscover/autodiscover.svc":
		http.NotFound(w, r)
		return
	}
	p := s.auth.authenticate(w, r)
	if p == nil {
		return
	}
	rec.AuthScheme, rec.Principal = p.scheme, p.name
	if mis.EchoCredentials {
		echo := r.Header.Get("Authorization")
		if scheme, cred, ok := strings.Cut(echo, " "); ok && strings.EqualFold(scheme, "Basic") {
			if b, err := base64.StdEncoding.DecodeString(cred); err == nil {
				echo += " = " + string(b)
			}
		}
		d, env := adEnvelope(s)
		resp := env.CreateElement("s:Body").CreateElement("a:GetUserSettingsResponseMessage").CreateElement("a:Response")
		resp.CreateElement("a:ErrorCode").SetText("InternalServerError")
		resp.CreateElement("a:ErrorMessage").SetText("you sent: " + echo)
		resp.CreateElement("a:UserResponses")
		writeXML(w, http.StatusOK, d)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "405 - HTTP verb used to access this page is not allowed.", http.StatusMethodNotAllowed)
		return
	}
	// serveHTTP set the deadline of the body (Timeouts.Body).
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "413 - Request entity too large.", http.StatusRequestEntityTooLarge)
			return
		}
		panic(http.ErrAbortHandler) // too slow, gone, or the server is closing
	}
	s.setReadDeadline(w, time.Time{})
	if path == "/autodiscover/autodiscover.svc" {
		rec.Operation = "GetUserSettings"
		s.serveGetUserSettings(w, r, raw, rec)
		return
	}
	rec.Operation = "AutodiscoverPOX"
	s.servePOX(w, raw)
}

// adSettingNames are the settings the fake knows; others get InvalidSetting.
var adSettingNames = map[string]bool{
	"ExternalEwsUrl": true, "InternalEwsUrl": true, "GroupingInformation": true,
	"EwsSupportedSchemas": true, "UserDisplayName": true, "AutoDiscoverSMTPAddress": true,
	"UserDN": true, "CasVersion": true, "ExternalMailboxServer": true, "InternalMailboxServer": true,
	"MailboxDN": true, "ActiveDirectoryServer": true, "UserDeploymentId": true,
}

func (s *Server) adSetting(u adUser, name string) string {
	switch name {
	case "ExternalEwsUrl":
		return u.external
	case "InternalEwsUrl":
		return u.internal
	case "GroupingInformation":
		return u.grouping
	case "EwsSupportedSchemas":
		switch s.cfg.version {
		case Exchange2010SP3:
			return "Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2"
		case Exchange2013SP1:
			return "Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1"
		}
		return "Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2015, Exchange2016"
	case "UserDisplayName":
		return u.displayName
	case "AutoDiscoverSMTPAddress":
		return u.primary
	case "UserDN":
		local, _, _ := strings.Cut(u.primary, "@")
		return "/o=" + s.cfg.netbios + "/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=" + local
	case "MailboxDN":
		local, _, _ := strings.Cut(u.primary, "@")
		return "/o=" + s.cfg.netbios + "/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=" + local
	case "CasVersion":
		return fmt.Sprintf("%d.%02d.%04d.%03d", s.vi.major, s.vi.minor, s.vi.build, s.vi.minBu)
	case "ActiveDirectoryServer":
		return "dc01." + s.cfg.dnsDomain
	case "UserDeploymentId":
		return "00000000-0000-0000-0000-000000000000"
	}
	if h, err := url.Parse(u.external); err == nil {
		return h.Hostname()
	}
	return ""
}

// adFault answers a SOAP fault for an Autodiscover request the server
// cannot parse.
func adFault(w http.ResponseWriter, msg string) {
	d := newDoc()
	env := d.CreateElement("s:Envelope")
	env.CreateAttr("xmlns:s", nsSOAP)
	f := env.CreateElement("s:Body").CreateElement("s:Fault")
	f.CreateElement("faultcode").SetText("s:Client")
	f.CreateElement("faultstring").SetText(msg)
	writeXML(w, http.StatusInternalServerError, d)
}

// serveGetUserSettings answers SOAP Autodiscover GetUserSettings.
func (s *Server) serveGetUserSettings(w http.ResponseWriter, r *http.Request, raw []byte, rec *Request) {
	root, xe := parseXML(raw)
	if xe != nil {
		adFault(w, "The request is not well-formed XML: "+xe.msg)
		return
	}
	if !root.is(nsSOAP, "Envelope") {
		adFault(w, "The root element must be the SOAP 1.1 Envelope.")
		return
	}
	body := root.child(nsSOAP, "Body")
	msg := body.child(nsAutodiscover, "GetUserSettingsRequestMessage")
	if msg == nil {
		adFault(w, "The SOAP Body must hold a GetUserSettingsRequestMessage of "+nsAutodiscover+"; scctest implements no other Autodiscover operation.")
		return
	}
	if h := root.child(nsSOAP, "Header"); h != nil {
		if v := h.child(nsAutodiscover, "RequestedServerVersion"); v != nil {
			rec.RequestServerVersion = v.trimmed()
		}
	}
	req := msg.child(nsAutodiscover, "Request")
	var users []*node
	if us := req.child(nsAutodiscover, "Users"); us != nil {
		for _, k := range us.kids {
			if k.is(nsAutodiscover, "User") {
				users = append(users, k)
			}
		}
	}
	var names []string
	if rs := req.child(nsAutodiscover, "RequestedSettings"); rs != nil {
		for _, k := range rs.kids {
			if k.is(nsAutodiscover, "Setting") {
				names = append(names, k.trimmed())
			}
		}
	}
	d, env := adEnvelope(s)
	resp := env.CreateElement("s:Body").CreateElement("a:GetUserSettingsResponseMessage").CreateElement("a:Response")
	top := func(code, message string) {
		resp.CreateElement("a:ErrorCode").SetText(code)
		resp.CreateElement("a:ErrorMessage").SetText(message)
		resp.CreateElement("a:UserResponses")
		rec.ResponseCodes = append(rec.ResponseCodes, "Autodiscover:"+asCode(code))
		writeXML(w, http.StatusOK, d)
	}
	switch {
	case req == nil || len(users) == 0:
		top("InvalidRequest", "The request has no users.")
		return
	case len(names) == 0:
		top("InvalidRequest", "The request names no settings.")
		return
	case len(users) > AutodiscoverMaxUsers:
		top("InvalidRequest", fmt.Sprintf("The request names %d users; at most %d are allowed.", len(users), AutodiscoverMaxUsers))
		return
	}
	resp.CreateElement("a:ErrorCode").SetText("NoError")
	resp.CreateElement("a:ErrorMessage").SetText("No error.")
	urs := resp.CreateElement("a:UserResponses")
	for _, un := range users {
		addr := un.child(nsAutodiscover, "Mailbox").trimmed()
		u := s.autodiscoverUser(addr)
		ur := urs.CreateElement("a:UserResponse")
		code, message, target := "NoError", "No error.", ""
		switch {
		case !validSMTP(addr) || !u.found:
			code, message = "InvalidUser", "Invalid user: '"+addr+"'"
		case u.redirAddr != "":
			code, message, target = "RedirectAddress", "Redirection address.", u.redirAddr
		case u.redirURL != "":
			code, message, target = "RedirectUrl", "Redirection URL.", u.redirURL
		}
		rec.ResponseCodes = append(rec.ResponseCodes, "Autodiscover:"+asCode(code))
		ur.CreateElement("a:ErrorCode").SetText(code)
		ur.CreateElement("a:ErrorMessage").SetText(message)
		rt := ur.CreateElement("a:RedirectTarget")
		if target != "" {
			rt.SetText(target)
		} else {
			rt.CreateAttr("i:nil", "true")
		}
		errs := ur.CreateElement("a:UserSettingErrors")
		sets := ur.CreateElement("a:UserSettings")
		if code != "NoError" {
			continue
		}
		for _, n := range names {
			if !adSettingNames[n] {
				e := errs.CreateElement("a:UserSettingError")
				e.CreateElement("a:ErrorCode").SetText("InvalidSetting")
				e.CreateElement("a:ErrorMessage").SetText("The requested setting is invalid.")
				e.CreateElement("a:SettingName").SetText(n)
				continue
			}
			us := sets.CreateElement("a:UserSetting")
			us.CreateAttr("i:type", "a:StringSetting")
			us.CreateElement("a:Name").SetText(n)
			us.CreateElement("a:Value").SetText(s.adSetting(u, n))
		}
	}
	writeXML(w, http.StatusOK, d)
}

// asCode turns an Autodiscover code into the log's ResponseCode type.
func asCode(c string) ews.ResponseCode { return ews.ResponseCode(c) }

// adEnvelope starts a SOAP Autodiscover response with its headers.
func adEnvelope(s *Server) (*document, *elem) {
	d := newDoc()
	env := d.CreateElement("s:Envelope")
	env.CreateAttr("xmlns:s", nsSOAP)
	env.CreateAttr("xmlns:wsa", nsWSAddressing)
	env.CreateAttr("xmlns:a", nsAutodiscover)
	env.CreateAttr("xmlns:i", nsXSInstance)
	h := env.CreateElement("s:Header")
	act := h.CreateElement("wsa:Action")
	act.CreateAttr("s:mustUnderstand", "1")
	act.SetText("http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse")
	svi := h.CreateElement("a:ServerVersionInfo")
	svi.CreateElement("a:MajorVersion").SetText(itoa(s.vi.major))
	svi.CreateElement("a:MinorVersion").SetText(itoa(s.vi.minor))
	svi.CreateElement("a:MajorBuildNumber").SetText(itoa(s.vi.build))
	svi.CreateElement("a:MinorBuildNumber").SetText(itoa(s.vi.minBu))
	v := "Exchange2015"
	switch s.cfg.version {
	case Exchange2010SP3:
		v = "Exchange2010_SP2"
	case Exchange2013SP1:
		v = "Exchange2013_SP1"
	}
	svi.CreateElement("a:Version").SetText(v)
	return d, env
}

// servePOX answers POX Autodiscover.
func (s *Server) servePOX(w http.ResponseWriter, raw []byte) {
	poxError := func(code, message string) {
		d := newDoc()
		root := d.CreateElement("Autodiscover")
		root.CreateAttr("xmlns", nsPOXBase)
		e := root.CreateElement("Response").CreateElement("Error")
		e.CreateAttr("Time", s.now().UTC().Format("15:04:05.0000000"))
		e.CreateAttr("Id", "2477272013")
		e.CreateElement("ErrorCode").SetText(code)
		e.CreateElement("Message").SetText(message)
		e.CreateElement("DebugData")
		writeXML(w, http.StatusOK, d)
	}
	root, xe := parseXML(raw)
	if xe != nil || !root.is(nsPOXRequest, "Autodiscover") {
		poxError("600", "Invalid Request")
		return
	}
	req := root.child(nsPOXRequest, "Request")
	addr := req.child(nsPOXRequest, "EMailAddress").trimmed()
	schema := req.child(nsPOXRequest, "AcceptableResponseSchema").trimmed()
	if schema != nsPOXOutlook {
		poxError("600", "Invalid Request")
		return
	}
	u := s.autodiscoverUser(addr)
	if !validSMTP(addr) || !u.found {
		poxError("500", "The email address can't be found.")
		return
	}
	d := newDoc()
	top := d.CreateElement("Autodiscover")
	top.CreateAttr("xmlns", nsPOXBase)
	resp := top.CreateElement("Response")
	resp.CreateAttr("xmlns", nsPOXOutlook)
	user := resp.CreateElement("User")
	user.CreateElement("DisplayName").SetText(u.displayName)
	user.CreateElement("AutoDiscoverSMTPAddress").SetText(u.primary)
	acct := resp.CreateElement("Account")
	acct.CreateElement("AccountType").SetText("email")
	switch {
	case u.redirAddr != "":
		acct.CreateElement("Action").SetText("redirectAddr")
		acct.CreateElement("RedirectAddr").SetText(u.redirAddr)
	case u.redirURL != "":
		acct.CreateElement("Action").SetText("redirectUrl")
		acct.CreateElement("RedirectUrl").SetText(u.redirURL)
	default:
		acct.CreateElement("Action").SetText("settings")
		exch := acct.CreateElement("Protocol")
		exch.CreateElement("Type").SetText("EXCH")
		exch.CreateElement("EwsUrl").SetText(u.internal)
		expr := acct.CreateElement("Protocol")
		expr.CreateElement("Type").SetText("EXPR")
		expr.CreateElement("EwsUrl").SetText(u.external)
		expr.CreateElement("GroupingInformation").SetText(u.grouping)
	}
	writeXML(w, http.StatusOK, d)
}

// serveAutodiscoverJSON answers Autodiscover v2: anonymous GET of
// /autodiscover/autodiscover.json/v1.0/<email>?Protocol=EWS or
// /autodiscover/autodiscover.json?Email=<email>&Protocol=EWS.
func (s *Server) serveAutodiscoverJSON(w http.ResponseWriter, r *http.Request) {
	writeJSON := func(status int, v any) {
		b, _ := json.Marshal(v)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "405 - HTTP verb used to access this page is not allowed.", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	email := q.Get("Email")
	if rest, ok := strings.CutPrefix(r.URL.Path, "/autodiscover/autodiscover.json/v1.0/"); ok {
		email = rest
	}
	proto := q.Get("Protocol")
	if !strings.EqualFold(proto, "EWS") {
		supported := "EWS"
		if strings.EqualFold(proto, "AutodiscoverV1") {
			writeJSON(http.StatusOK, map[string]string{"Protocol": "AutodiscoverV1", "Url": "https://" + r.Host + "/autodiscover/autodiscover.xml"})
			return
		}
		writeJSON(http.StatusBadRequest, map[string]string{"ErrorCode": "InvalidProtocol", "ErrorMessage": fmt.Sprintf("The given protocol value '%s' is invalid. Supported values are '%s, AutodiscoverV1'", proto, supported)})
		return
	}
	if !validSMTP(email) {
		writeJSON(http.StatusBadRequest, map[string]string{"ErrorCode": "InvalidUser", "ErrorMessage": "The given email address is invalid."})
		return
	}
	// Like Exchange Online, an unknown address gets the server's own URL:
	// v2 is no existence check.
	u := s.autodiscoverUser(email)
	writeJSON(http.StatusOK, map[string]string{"Protocol": "EWS", "Url": u.external})
}
