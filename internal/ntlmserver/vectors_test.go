package ntlmserver

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMSNLMPVectors checks the NTLMv2 computations against [MS-NLMP] 4.2.4
// (user "User", domain "Domain", password "Password").
func TestMSNLMPVectors(t *testing.T) {
	serverChallenge := unhex(t, "0123456789abcdef")
	clientChallenge := unhex(t, "aaaaaaaaaaaaaaaa")
	var serverName []byte
	serverName = appendAVPair(serverName, avNbDomainName, utf16le("Domain"))
	serverName = appendAVPair(serverName, avNbComputerName, utf16le("Server"))
	serverName = appendAVPair(serverName, avEOL, nil)
	temp := []byte{1, 1, 0, 0, 0, 0, 0, 0}
	temp = append(temp, make([]byte, 8)...) // Time 0
	temp = append(temp, clientChallenge...)
	temp = append(temp, 0, 0, 0, 0)
	temp = append(temp, serverName...)
	temp = append(temp, 0, 0, 0, 0)

	hash := ntHash("Password")
	key := ntowfv2("Password", "User", "Domain")
	proof := ntProofStr(key, serverChallenge, temp)
	sessionBaseKey, err := exportedSessionKey(key, proof, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	// [MS-NLMP] 4.2.4.2.3: RandomSessionKey 0x55 x 16 encrypted with the
	// KeyExchangeKey.
	exported, err := exportedSessionKey(key, proof, true, unhex(t, "c5dad2544fc9799094ce1ce90bc9d03e"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want []byte
	}{
		{"MD4(UTF16(Password))", hash[:], unhex(t, "a4f49c406510bdcab6824ee7c30fd852")},
		{"NTOWFv2", key, unhex(t, "0c868a403bfd7a93a3001ef22ef02e3f")},
		{"NTProofStr", proof, unhex(t, "68cd0ab851e51c96aabc927bebef6a1c")},
		{"SessionBaseKey", sessionBaseKey, unhex(t, "8de40ccadbc14a82f15cb0ad0de95ca3")},
		{"LMv2", append(hmacMD5(key, serverChallenge, clientChallenge), clientChallenge...), unhex(t, "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")},
		{"ExportedSessionKey", exported, bytes.Repeat([]byte{0x55}, 16)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Equal(tt.got, tt.want) {
				t.Errorf("%s = %x, want %x", tt.name, tt.got, tt.want)
			}
		})
	}

	// The same response, carried in an AUTHENTICATE message, verifies
	// against a server whose challenge was 0123456789abcdef.
	t.Run("Handshake", func(t *testing.T) {
		s := newTestServer(t, Config{Rand: bytes.NewReader(serverChallenge)}, map[string]string{"User": "Password"})
		c := &testClient{flags: flagUnicode | flagNTLM, user: "User", domain: "Domain", password: "Password"}
		neg := c.negotiate()
		h, chal, err := s.Challenge(neg)
		if err != nil {
			t.Fatal(err)
		}
		c.ntResponse = append(append([]byte(nil), proof...), temp...)
		id, err := h.Authenticate(c.authenticate(t, neg, chal))
		if err != nil {
			t.Fatalf("Authenticate(4.2.4 response) = %v, want success", err)
		}
		if want := (Identity{User: "User", Domain: "Domain"}); id != want {
			t.Errorf("Authenticate(4.2.4 response) identity = %+v, want %+v", id, want)
		}
	})
}

// newTestServer returns a Server for domain CONTOSO whose accounts are
// users (user name -> password, matched case-insensitively, with or without
// a domain; UPNs given as "user@domain" keys).
func newTestServer(t testing.TB, cfg Config, users map[string]string) *Server {
	t.Helper()
	if cfg.NetBIOSDomain == "" && cfg.DNSDomain == "" {
		cfg.NetBIOSDomain, cfg.DNSDomain = "CONTOSO", "contoso.com"
	}
	cfg.Password = func(user, domain string) (string, bool) {
		for u, pw := range users {
			if equalFold(u, user) {
				return pw, true
			}
		}
		return "", false
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	return s
}

func equalFold(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }

func TestFileTime(t *testing.T) {
	ft := uint64(133000000000000000)
	if got := fileTime(fromFileTime(ft)); got != ft {
		t.Errorf("fileTime(fromFileTime(%d)) = %d", ft, got)
	}
	if got := fromFileTime(0).Year(); got != 1601 {
		t.Errorf("fromFileTime(0).Year() = %d, want 1601", got)
	}
	_ = binary.LittleEndian
}
