package ntlmserver

import (
	"bytes"
	"crypto/rc4"
	"encoding/binary"
	"testing"
)

// testClient builds NTLM client messages by the formulas of [MS-NLMP]
// 3.1.5 and 3.3.2, for cases go-ntlmssp cannot produce (MIC, key exchange,
// OEM, NTLMv1, anonymous). It is deliberately written in the client's
// terms (NEGOTIATE flags, ClientChallenge, temp) rather than by reusing
// the server's helpers beyond the primitive MD4/HMAC.
type testClient struct {
	flags           uint32
	user, domain    string
	hashDomain      *string // domain string used in NTOWFv2; nil means domain
	workstation     string
	password        string
	clientChallenge [8]byte
	timestamp       *uint64 // nil: take MsvAvTimestamp from the challenge
	mic             bool    // add MsvAvFlags 0x2 and a MIC
	badMIC          bool    // corrupt the MIC after computing it
	randomKey       []byte  // with NTLMSSP_NEGOTIATE_KEY_EXCH: the random session key
	ntResponse      []byte  // overrides the computed NtChallengeResponse
}

func (c *testClient) negotiate() []byte {
	m := make([]byte, 32)
	copy(m, "NTLMSSP\x00")
	binary.LittleEndian.PutUint32(m[8:], 1)
	binary.LittleEndian.PutUint32(m[12:], c.flags)
	binary.LittleEndian.PutUint32(m[20:], 32)
	binary.LittleEndian.PutUint32(m[28:], 32)
	return m
}

// parsedChallenge is what a client reads from a CHALLENGE_MESSAGE.
type parsedChallenge struct {
	flags           uint32
	serverChallenge []byte
	targetName      []byte
	targetInfo      []byte
}

func readChallenge(t testing.TB, msg []byte) parsedChallenge {
	t.Helper()
	if len(msg) < 48 || !bytes.Equal(msg[:8], []byte("NTLMSSP\x00")) || binary.LittleEndian.Uint32(msg[8:]) != 2 {
		t.Fatalf("not a CHALLENGE_MESSAGE: % x", msg)
	}
	get := func(off int) []byte {
		n := int(binary.LittleEndian.Uint16(msg[off:]))
		o := int(binary.LittleEndian.Uint32(msg[off+4:]))
		if o+n > len(msg) {
			t.Fatalf("challenge field at %d out of range", off)
		}
		return msg[o : o+n]
	}
	return parsedChallenge{
		flags:           binary.LittleEndian.Uint32(msg[20:]),
		serverChallenge: msg[24:32],
		targetName:      get(12),
		targetInfo:      get(40),
	}
}

func utf16le(s string) []byte { return encodeString(s, true) }

// authenticate answers challenge as the client would.
func (c *testClient) authenticate(t testing.TB, negotiate, challenge []byte) []byte {
	t.Helper()
	ch := readChallenge(t, challenge)
	flags := ch.flags
	unicode := flags&flagUnicode != 0
	enc := func(s string) []byte { return encodeString(s, unicode) }

	// The AV pairs the client echoes: the server's, plus MsvAvFlags when
	// sending a MIC (inserted before MsvAvEOL).
	pairs, err := parseAVPairs(ch.targetInfo)
	if err != nil {
		t.Fatalf("challenge TargetInfo: %v", err)
	}
	var serverName []byte
	ts := c.timestamp
	for _, p := range pairs {
		serverName = appendAVPair(serverName, p.id, p.value)
		if p.id == avTimestamp && ts == nil {
			v := binary.LittleEndian.Uint64(p.value)
			ts = &v
		}
	}
	if c.mic {
		serverName = appendAVPair(serverName, avFlags, binary.LittleEndian.AppendUint32(nil, avFlagMICPresent))
	}
	serverName = appendAVPair(serverName, avEOL, nil)
	if ts == nil {
		var zero uint64
		ts = &zero
	}

	hashDomain := c.domain
	if c.hashDomain != nil {
		hashDomain = *c.hashDomain
	}
	nt := md4(utf16le(c.password))
	key := hmacMD5(nt[:], utf16le(upper(c.user)+hashDomain))

	temp := []byte{1, 1, 0, 0, 0, 0, 0, 0}
	temp = binary.LittleEndian.AppendUint64(temp, *ts)
	temp = append(temp, c.clientChallenge[:]...)
	temp = append(temp, 0, 0, 0, 0)
	temp = append(temp, serverName...)
	temp = append(temp, 0, 0, 0, 0)
	proof := hmacMD5(key, ch.serverChallenge, temp)
	ntResp := append(append([]byte(nil), proof...), temp...)
	if c.ntResponse != nil {
		ntResp = c.ntResponse
	}
	lmResp := make([]byte, 24)

	sessionBaseKey := hmacMD5(key, proof)
	exported := sessionBaseKey
	var encKey []byte
	if flags&flagKeyExch != 0 && c.randomKey != nil {
		exported = c.randomKey
		ciph, err := rc4.NewCipher(sessionBaseKey)
		if err != nil {
			t.Fatal(err)
		}
		encKey = make([]byte, len(c.randomKey))
		ciph.XORKeyStream(encKey, c.randomKey)
	}

	head := 64
	if c.mic {
		head = 88
	}
	payloads := [][]byte{lmResp, ntResp, enc(c.domain), enc(c.user), enc(c.workstation), encKey}
	msg := make([]byte, head)
	copy(msg, "NTLMSSP\x00")
	binary.LittleEndian.PutUint32(msg[8:], 3)
	off := head
	for i, p := range payloads {
		binary.LittleEndian.PutUint16(msg[12+8*i:], uint16(len(p)))
		binary.LittleEndian.PutUint16(msg[14+8*i:], uint16(len(p)))
		binary.LittleEndian.PutUint32(msg[16+8*i:], uint32(off))
		off += len(p)
	}
	binary.LittleEndian.PutUint32(msg[60:], flags)
	for _, p := range payloads {
		msg = append(msg, p...)
	}
	if c.mic {
		mic := hmacMD5(exported, negotiate, challenge, msg)
		if c.badMIC {
			mic[0] ^= 1
		}
		copy(msg[72:88], mic)
	}
	return msg
}
