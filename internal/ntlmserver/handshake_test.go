package ntlmserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestHandshake(t *testing.T) {
	const unicodeFlags = flagUnicode | flagNTLM | flagRequestTarget | flagExtendedSessionSecure | flagAlwaysSign | flagTargetInfo | flag128 | flag56
	upperDomain := "CONTOSO"
	empty := ""
	old := fileTime(fixedNow.Add(-2 * time.Hour))
	tests := []struct {
		name    string
		client  testClient
		skew    time.Duration
		wantErr error // nil: success
	}{
		{name: "right password", client: testClient{flags: unicodeFlags, user: "alice", domain: "contoso", password: "S3cret!"}},
		{name: "UPN logon", client: testClient{flags: unicodeFlags, user: "alice@contoso.com", password: "S3cret!"}},
		{name: "user name case-insensitive", client: testClient{flags: unicodeFlags, user: "ALICE", domain: "CONTOSO", password: "S3cret!"}},
		{name: "client hashed uppercased domain", client: testClient{flags: unicodeFlags, user: "alice", domain: "contoso", hashDomain: &upperDomain, password: "S3cret!"}},
		{name: "client hashed empty domain", client: testClient{flags: unicodeFlags, user: "alice", domain: "contoso", hashDomain: &empty, password: "S3cret!"}},
		{name: "client hashed another domain", client: testClient{flags: unicodeFlags, user: "alice", domain: "contoso", hashDomain: ptr("FABRIKAM"), password: "S3cret!"}, wantErr: ErrWrongPassword},
		{name: "OEM client", client: testClient{flags: flagOEM | flagNTLM | flagRequestTarget, user: "alice", domain: "CONTOSO", password: "S3cret!"}},
		{name: "wrong password", client: testClient{flags: unicodeFlags, user: "alice", domain: "CONTOSO", password: "s3cret!"}, wantErr: ErrWrongPassword},
		{name: "unknown user", client: testClient{flags: unicodeFlags, user: "mallory", domain: "CONTOSO", password: "S3cret!"}, wantErr: ErrUnknownAccount},
		{name: "NTLMv1 response", client: testClient{flags: unicodeFlags, user: "alice", domain: "CONTOSO", ntResponse: make([]byte, 24)}, wantErr: ErrNTLMv1},
		{name: "LM only", client: testClient{flags: unicodeFlags, user: "alice", domain: "CONTOSO", ntResponse: []byte{}}, wantErr: ErrNTLMv1},
		{name: "anonymous", client: testClient{flags: unicodeFlags, ntResponse: []byte{}}, wantErr: ErrAnonymous},
		{name: "MIC", client: testClient{flags: unicodeFlags, user: "alice", domain: "CONTOSO", password: "S3cret!", mic: true}},
		{name: "MIC with key exchange", client: testClient{flags: unicodeFlags | flagKeyExch, user: "alice", domain: "CONTOSO", password: "S3cret!", mic: true, randomKey: bytes.Repeat([]byte{0x55}, 16)}},
		{name: "bad MIC", client: testClient{flags: unicodeFlags, user: "alice", domain: "CONTOSO", password: "S3cret!", mic: true, badMIC: true}, wantErr: ErrMIC},
		{name: "bad MIC with key exchange", client: testClient{flags: unicodeFlags | flagKeyExch, user: "alice", domain: "CONTOSO", password: "S3cret!", mic: true, badMIC: true, randomKey: bytes.Repeat([]byte{0x55}, 16)}, wantErr: ErrMIC},
		{name: "timestamp inside window", skew: 3 * time.Hour, client: testClient{flags: unicodeFlags, user: "alice", domain: "CONTOSO", password: "S3cret!", timestamp: &old}},
		{name: "timestamp outside window", skew: time.Hour, client: testClient{flags: unicodeFlags, user: "alice", domain: "CONTOSO", password: "S3cret!", timestamp: &old}, wantErr: ErrClockSkew},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, Config{Now: func() time.Time { return fixedNow }, MaxClockSkew: tt.skew},
				map[string]string{"alice": "S3cret!", "alice@contoso.com": "S3cret!"})
			neg := tt.client.negotiate()
			h, chal, err := s.Challenge(neg)
			if err != nil {
				t.Fatalf("Challenge() = %v", err)
			}
			id, err := h.Authenticate(tt.client.authenticate(t, neg, chal))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Authenticate() = %v, want success", err)
				}
				if id.User != tt.client.user || id.Domain != tt.client.domain {
					t.Errorf("Authenticate() identity = %+v, want user %q domain %q", id, tt.client.user, tt.client.domain)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate() = %v, want %v", err, tt.wantErr)
			}
			var le *LogonError
			if !errors.As(err, &le) {
				t.Fatalf("Authenticate() error %T is not a *LogonError", err)
			}
			if le.User != tt.client.user || le.Domain != tt.client.domain {
				t.Errorf("LogonError = %+v, want user %q domain %q", le, tt.client.user, tt.client.domain)
			}
			if strings.Contains(err.Error(), "S3cret") {
				t.Errorf("error %q reveals the password", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestHandshakeOnce(t *testing.T) {
	s := newTestServer(t, Config{}, map[string]string{"alice": "pw"})
	c := testClient{flags: flagUnicode | flagNTLM, user: "alice", domain: "CONTOSO", password: "pw"}
	neg := c.negotiate()
	h, chal, err := s.Challenge(neg)
	if err != nil {
		t.Fatal(err)
	}
	auth := c.authenticate(t, neg, chal)
	if _, err := h.Authenticate(auth); err != nil {
		t.Fatalf("first Authenticate() = %v", err)
	}
	if _, err := h.Authenticate(auth); !errors.Is(err, ErrOutOfSequence) {
		t.Errorf("replayed Authenticate() = %v, want ErrOutOfSequence", err)
	}
}

func TestChallengeMessage(t *testing.T) {
	s := newTestServer(t, Config{NetBIOSDomain: "CONTOSO", DNSDomain: "contoso.com", Computer: "EXCH01",
		Now: func() time.Time { return fixedNow }, Rand: bytes.NewReader([]byte{1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8})}, nil)
	t.Run("unicode", func(t *testing.T) {
		clientFlags := uint32(0xe2088297) // what Windows 10 sends: UNICODE, OEM, SIGN, LM_KEY, KEY_EXCH, VERSION, ...
		_, chal, err := s.Challenge((&testClient{flags: clientFlags}).negotiate())
		if err != nil {
			t.Fatal(err)
		}
		ch := readChallenge(t, chal)
		want := uint32(flagUnicode | flagRequestTarget | flagSign | flagNTLM | flagAlwaysSign | flagTargetTypeDomain |
			flagExtendedSessionSecure | flagTargetInfo | flagVersion | flag128 | flagKeyExch | flag56)
		if ch.flags != want {
			t.Errorf("challenge flags = %#08x, want %#08x", ch.flags, want)
		}
		if !bytes.Equal(ch.serverChallenge, []byte{1, 2, 3, 4, 5, 6, 7, 8}) {
			t.Errorf("server challenge = %x, want 0102030405060708 from Config.Rand", ch.serverChallenge)
		}
		if got := string(ch.targetName); got != string(utf16le("CONTOSO")) {
			t.Errorf("target name = %q, want UTF-16 CONTOSO", got)
		}
		pairs, err := parseAVPairs(ch.targetInfo)
		if err != nil {
			t.Fatal(err)
		}
		got := map[uint16][]byte{}
		var order []uint16
		for _, p := range pairs {
			got[p.id] = p.value
			order = append(order, p.id)
		}
		wantPairs := map[uint16][]byte{
			avNbDomainName:    utf16le("CONTOSO"),
			avNbComputerName:  utf16le("EXCH01"),
			avDNSDomainName:   utf16le("contoso.com"),
			avDNSComputerName: utf16le("exch01.contoso.com"),
			avDNSTreeName:     utf16le("contoso.com"),
			avTimestamp:       binary.LittleEndian.AppendUint64(nil, fileTime(fixedNow)),
		}
		for id, v := range wantPairs {
			if !bytes.Equal(got[id], v) {
				t.Errorf("AV pair %d = %x, want %x", id, got[id], v)
			}
		}
		if len(order) != len(wantPairs) {
			t.Errorf("AV pair ids = %v, want the %d of NbDomainName..Timestamp", order, len(wantPairs))
		}
		if !bytes.HasSuffix(ch.targetInfo, []byte{0, 0, 0, 0}) {
			t.Errorf("TargetInfo does not end with MsvAvEOL")
		}
		if !bytes.Equal(chal[48:56], windowsVersion[:]) {
			t.Errorf("Version = %x, want %x", chal[48:56], windowsVersion)
		}
	})
	t.Run("OEM minimal", func(t *testing.T) {
		_, chal, err := s.Challenge((&testClient{flags: flagOEM | flagRequestTarget}).negotiate())
		if err != nil {
			t.Fatal(err)
		}
		ch := readChallenge(t, chal)
		if want := uint32(flagOEM | flagRequestTarget | flagNTLM | flagTargetTypeDomain | flagTargetInfo); ch.flags != want {
			t.Errorf("challenge flags = %#08x, want %#08x", ch.flags, want)
		}
		if string(ch.targetName) != "CONTOSO" {
			t.Errorf("target name = %q, want OEM CONTOSO", ch.targetName)
		}
	})
}

func TestNew(t *testing.T) {
	pw := func(string, string) (string, bool) { return "", false }
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no password func", Config{NetBIOSDomain: "X"}, "Password"},
		{"no domain", Config{Password: pw}, "NetBIOSDomain or DNSDomain"},
		{"NetBIOS name too long", Config{Password: pw, NetBIOSDomain: "ABCDEFGHIJKLMNOP"}, "NetBIOS"},
		{"computer with dot", Config{Password: pw, NetBIOSDomain: "X", Computer: "a.b"}, "Computer"},
		{"DNS only", Config{Password: pw, DNSDomain: "contoso.com"}, ""},
		{"NetBIOS only", Config{Password: pw, NetBIOSDomain: "CONTOSO"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New() = %v", err)
				}
				if s.nbDomain != "CONTOSO" || s.dnsDomain == "" {
					t.Errorf("New() names = %q, %q, want CONTOSO and a DNS domain", s.nbDomain, s.dnsDomain)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "ntlmserver: ") {
				t.Errorf("New() = %v, want an ntlmserver error mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	s := newTestServer(t, Config{}, nil)
	good := (&testClient{flags: flagUnicode}).negotiate()
	badField := append([]byte(nil), good...)
	binary.LittleEndian.PutUint16(badField[16:], 10) // domain of 10 bytes at offset 32: past the end
	tests := []struct {
		name string
		msg  []byte
	}{
		{"empty", nil},
		{"no signature", []byte("NTLMSSQ\x00\x01\x00\x00\x00\x00\x00\x00\x00")},
		{"wrong type", append(append([]byte("NTLMSSP\x00"), 3, 0, 0, 0), make([]byte, 20)...)},
		{"truncated", good[:14]},
		{"field out of range", badField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := s.Challenge(tt.msg); !errors.Is(err, ErrMalformedMessage) {
				t.Errorf("Challenge(% x) = %v, want ErrMalformedMessage", tt.msg, err)
			}
		})
	}
}
