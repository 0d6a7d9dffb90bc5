package ntlmserver

import (
	"bytes"
	"testing"

	ntlmssp "github.com/Azure/go-ntlmssp"
)

// FuzzNegotiate: any NEGOTIATE input yields a challenge or an error, never
// a panic.
func FuzzNegotiate(f *testing.F) {
	neg, _ := ntlmssp.NewNegotiateMessage("CONTOSO", "WS01")
	f.Add(neg)
	f.Add((&testClient{flags: flagOEM}).negotiate())
	f.Add([]byte("NTLMSSP\x00\x01\x00\x00\x00"))
	f.Add([]byte{})
	s := newTestServer(f, Config{}, nil)
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, chal, err := s.Challenge(msg)
		if err == nil && (h == nil || len(chal) < challengeHeaderLen) {
			t.Fatalf("Challenge(% x) = %v, %d bytes, nil error", msg, h, len(chal))
		}
	})
}

// FuzzAuthenticate: any AUTHENTICATE input yields an identity or an error,
// never a panic, and only the right password succeeds.
func FuzzAuthenticate(f *testing.F) {
	s := newTestServer(f, Config{Rand: constReader(7)}, map[string]string{"alice": "pw"})
	neg, _ := ntlmssp.NewNegotiateMessage("", "")
	_, chal, err := s.Challenge(neg)
	if err != nil {
		f.Fatal(err)
	}
	good, err := ntlmssp.NewAuthenticateMessage(chal, `CONTOSO\alice`, "pw", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	c := &testClient{flags: flagUnicode | flagKeyExch, user: "alice", domain: "CONTOSO", password: "pw", mic: true, randomKey: bytes.Repeat([]byte{1}, 16)}
	f.Add(c.authenticate(f, neg, chal))
	f.Add(good[:70])
	f.Add([]byte("NTLMSSP\x00\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, _, err := s.Challenge(neg)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = parseAuthenticate(msg)
		_, _ = parseNTLMv2Response(msg)
		_, _ = parseAVPairs(msg)
		_, _ = h.Authenticate(msg)
	})
}

// constReader is an endless Config.Rand of one byte value.
type constReader byte

func (c constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}
