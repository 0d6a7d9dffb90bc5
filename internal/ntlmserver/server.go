package ntlmserver

import (
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
)

// Config describes the Windows server being impersonated and how to find
// account passwords.
type Config struct {
	// NetBIOSDomain is the NetBIOS name of the server's domain, e.g.
	// "CONTOSO" (at most 15 characters). Empty means the first label of
	// DNSDomain, uppercased.
	NetBIOSDomain string
	// DNSDomain is the DNS name of the domain, e.g. "contoso.com". Empty
	// means NetBIOSDomain lowercased plus ".local".
	DNSDomain string
	// Computer is the NetBIOS name of the server, e.g. "EXCH01". Empty means
	// "EXCH01". Its DNS name is Computer lowercased + "." + DNSDomain.
	Computer string
	// Password returns the password of the account a client logs on as, and
	// false for an unknown, disabled or locked-out account. It receives the
	// user and domain exactly as the client sent them in the AUTHENTICATE
	// message, which depends on the logon form the client was given:
	//
	//	DOMAIN\user   -> user "user", domain "DOMAIN"
	//	user@domain   -> user "user@domain", domain "" (a UPN, no domain)
	//	user          -> user "user", domain ""
	//
	// Compare case-insensitively, as Windows does. Password is required;
	// it must be safe for concurrent use.
	Password func(user, domain string) (password string, ok bool)
	// Now returns the current time, for the challenge's timestamp and the
	// clock-skew check. Nil means time.Now.
	Now func() time.Time
	// Rand is the source of server challenges. Nil means crypto/rand.
	// Reads from it are serialised by the Server.
	Rand io.Reader
	// MaxClockSkew, when positive, refuses NTLMv2 responses whose timestamp
	// is further than this from Now (Windows allows 36 hours by default).
	// Zero turns the check off.
	MaxClockSkew time.Duration
}

// Server verifies NTLMv2 logons. Create it with [New]; it is safe for
// concurrent use and keeps no state of its own between handshakes: the
// state of an HTTP connection lives in the context [Server.ConnContext]
// installs.
type Server struct {
	nbDomain, dnsDomain, computer, dnsComputer string
	password                                   func(user, domain string) (string, bool)
	now                                        func() time.Time
	rand                                       *lockedReader
	maxSkew                                    time.Duration
}

// Identity is the account an authenticated client logged on as, with the
// names exactly as the client sent them (see [Config.Password]).
type Identity struct {
	User        string
	Domain      string
	Workstation string
}

// String returns the logon name in DOMAIN\user form, or the bare user name
// when the client sent no domain (for example a user@domain UPN).
func (id Identity) String() string {
	if id.Domain == "" {
		return id.User
	}
	return id.Domain + `\` + id.User
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Password == nil {
		return nil, errors.New("ntlmserver: Config.Password is nil; it must look up account passwords")
	}
	nb, dns, comp := cfg.NetBIOSDomain, cfg.DNSDomain, cfg.Computer
	if nb == "" && dns == "" {
		return nil, errors.New("ntlmserver: Config needs NetBIOSDomain or DNSDomain")
	}
	if nb == "" {
		nb = strings.ToUpper(strings.SplitN(dns, ".", 2)[0])
		if len(nb) > 15 {
			nb = nb[:15]
		}
	}
	if dns == "" {
		dns = strings.ToLower(nb) + ".local"
	}
	if comp == "" {
		comp = "EXCH01"
	}
	for _, c := range []struct{ name, v string }{{"NetBIOSDomain", nb}, {"Computer", comp}} {
		if len(c.v) > 15 || strings.ContainsAny(c.v, `\/:*?"<>|. `) {
			return nil, fmt.Errorf("ntlmserver: Config.%s %q is not a NetBIOS name (at most 15 characters, no dots, spaces or \\/:*?\"<>|)", c.name, c.v)
		}
	}
	dnsComputer := strings.ToLower(comp) + "." + dns
	if len(utf16.Encode([]rune(dnsComputer)))*2 > 0xffff {
		return nil, errors.New("ntlmserver: Config.DNSDomain is too long")
	}
	s := &Server{
		nbDomain: nb, dnsDomain: dns, computer: comp, dnsComputer: dnsComputer,
		password: cfg.Password,
		now:      cfg.Now,
		rand:     &lockedReader{r: cfg.Rand},
		maxSkew:  cfg.MaxClockSkew,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand.r == nil {
		s.rand.r = rand.Reader
	}
	return s, nil
}

// Handshake is one NTLM exchange in progress: the server has answered a
// NEGOTIATE message with a CHALLENGE and waits for the AUTHENTICATE
// message. The HTTP layer ([Server.Authenticate]) keeps one per connection;
// use Handshake directly only to speak NTLM over something other than
// HTTP. A Handshake must be used by one goroutine at a time.
type Handshake struct {
	s               *Server
	negotiate       []byte
	challenge       []byte
	serverChallenge [8]byte
	used            bool
}

// Challenge parses a NEGOTIATE_MESSAGE and returns the handshake state and
// the CHALLENGE_MESSAGE to send to the client. The challenge offers the
// flags of [MS-NLMP] that Windows offers, intersected with the client's,
// and TargetInfo with the server's names and a timestamp.
func (s *Server) Challenge(negotiate []byte) (*Handshake, []byte, error) {
	nm, err := parseNegotiate(negotiate)
	if err != nil {
		return nil, nil, err
	}
	flags := nm.flags&flagsGrantedWhenRequested | flagNTLM | flagTargetInfo
	if nm.flags&flagUnicode != 0 {
		flags |= flagUnicode
	} else {
		flags |= flagOEM
	}
	if flags&flagRequestTarget != 0 {
		flags |= flagTargetTypeDomain
	}
	h := &Handshake{s: s, negotiate: append([]byte(nil), negotiate...)}
	if _, err := io.ReadFull(s.rand, h.serverChallenge[:]); err != nil {
		return nil, nil, fmt.Errorf("ntlmserver: reading a server challenge from Config.Rand: %w", err)
	}
	h.challenge = buildChallenge(challengeParams{
		flags:           flags,
		serverChallenge: h.serverChallenge,
		targetName:      s.nbDomain,
		targetInfo:      buildTargetInfo(s.nbDomain, s.computer, s.dnsDomain, s.dnsComputer, s.now()),
	})
	return h, append([]byte(nil), h.challenge...), nil
}

// Authenticate verifies an AUTHENTICATE_MESSAGE against the challenge
// ([MS-NLMP] 3.2.5.1.2): it recomputes the NTLMv2 NTProofStr from the
// account's password and compares it in constant time, refuses NTLMv1 and
// anonymous logons, checks the timestamp when Config.MaxClockSkew is set,
// and checks the MIC when the client says it sent one. Like Windows, when
// the proof does not match with the domain as sent it retries with the
// domain uppercased and with an empty domain (clients disagree on which
// domain string they hash).
//
// On success it returns the client's identity. A refused logon is a
// [*LogonError] (with the identity the client claimed); anything else is a
// malformed or out-of-sequence message. A Handshake verifies one message:
// a second call returns ErrOutOfSequence.
func (h *Handshake) Authenticate(authenticate []byte) (Identity, error) {
	if h.used {
		return Identity{}, ErrOutOfSequence
	}
	h.used = true
	am, err := parseAuthenticate(authenticate)
	if err != nil {
		return Identity{}, err
	}
	id := Identity{User: am.user, Domain: am.domain, Workstation: am.workstation}
	refuse := func(reason error) (Identity, error) {
		return id, &LogonError{User: id.User, Domain: id.Domain, Workstation: id.Workstation, Err: reason}
	}
	switch {
	case am.user == "" && len(am.ntResponse) == 0:
		return refuse(ErrAnonymous)
	case len(am.ntResponse) == 0, len(am.ntResponse) == ntlmv1ResponseLen:
		return refuse(ErrNTLMv1)
	case am.user == "":
		return refuse(ErrAnonymous)
	}
	resp, err := parseNTLMv2Response(am.ntResponse)
	if err != nil {
		return id, err
	}
	if h.s.maxSkew > 0 {
		skew := fromFileTime(resp.timestamp).Sub(h.s.now())
		if skew > h.s.maxSkew || skew < -h.s.maxSkew {
			return refuse(ErrClockSkew)
		}
	}
	password, ok := h.s.password(am.user, am.domain)
	if !ok {
		return refuse(ErrUnknownAccount)
	}
	var key []byte
	for _, dom := range candidateDomains(am.domain) {
		k := ntowfv2(password, am.user, dom)
		if hmac.Equal(ntProofStr(k, h.serverChallenge[:], resp.temp), resp.proof) {
			key = k
			break
		}
	}
	if key == nil {
		return refuse(ErrWrongPassword)
	}
	if resp.avFlags&avFlagMICPresent != 0 {
		if !am.micRoom {
			return refuse(ErrMIC)
		}
		exported, err := exportedSessionKey(key, resp.proof, am.flags&flagKeyExch != 0, am.encryptedKey)
		if err != nil {
			return refuse(ErrMIC)
		}
		zeroed := append([]byte(nil), authenticate...)
		clear(zeroed[micOffset : micOffset+16])
		want := hmacMD5(exported, h.negotiate, h.challenge, zeroed)
		if !hmac.Equal(want, authenticate[micOffset:micOffset+16]) {
			return refuse(ErrMIC)
		}
	}
	return id, nil
}

// candidateDomains lists the domain strings tried in NTOWFv2, in order:
// as sent, uppercased, empty.
func candidateDomains(domain string) []string {
	c := []string{domain}
	if u := strings.ToUpper(domain); u != domain {
		c = append(c, u)
	}
	if domain != "" {
		c = append(c, "")
	}
	return c
}

// lockedReader serialises reads from a Config.Rand that may not be safe for
// concurrent use.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
