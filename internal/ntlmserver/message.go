package ntlmserver

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
)

// NegotiateFlags bits ([MS-NLMP] 2.2.2.5) this package reads or sets.
const (
	flagUnicode                = 0x00000001
	flagOEM                    = 0x00000002
	flagRequestTarget          = 0x00000004
	flagSign                   = 0x00000010
	flagSeal                   = 0x00000020
	flagNTLM                   = 0x00000200
	flagAlwaysSign             = 0x00008000
	flagTargetTypeDomain       = 0x00010000
	flagExtendedSessionSecure  = 0x00080000
	flagTargetInfo             = 0x00800000
	flagVersion                = 0x02000000
	flag128                    = 0x20000000
	flagKeyExch                = 0x40000000
	flag56                     = 0x80000000
	flagsGrantedWhenRequested  = flagRequestTarget | flagSign | flagSeal | flagAlwaysSign | flagExtendedSessionSecure | flagVersion | flag128 | flagKeyExch | flag56
	negotiateMinLen            = 16 // signature, type, flags
	negotiateWithFieldsLen     = 32 // ... domain and workstation fields
	challengeHeaderLen         = 48
	authenticateHeaderLen      = 64 // up to and including NegotiateFlags
	authenticateWithMICLen     = 88 // ... Version (8) and MIC (16)
	micOffset                  = 72
	ntlmv1ResponseLen          = 24
	ntlmv2ClientChallengeFixed = 28 // RespType, HiRespType, Z(6), TimeStamp, ChallengeFromClient, Z(4)
)

// AV_PAIR ids ([MS-NLMP] 2.2.2.1).
const (
	avEOL             = 0
	avNbComputerName  = 1
	avNbDomainName    = 2
	avDNSComputerName = 3
	avDNSDomainName   = 4
	avDNSTreeName     = 5
	avFlags           = 6
	avTimestamp       = 7
)

// avFlagMICPresent is the MsvAvFlags bit saying the AUTHENTICATE message
// carries a MIC.
const avFlagMICPresent = 0x2

var signature = []byte("NTLMSSP\x00")

// messageType returns the NTLMSSP message type of msg (1, 2 or 3), or an
// error when msg does not start with the NTLMSSP signature.
func messageType(msg []byte) (uint32, error) {
	if len(msg) < 12 || !bytes.Equal(msg[:8], signature) {
		return 0, fmt.Errorf("%w: no NTLMSSP signature", ErrMalformedMessage)
	}
	return binary.LittleEndian.Uint32(msg[8:12]), nil
}

// field reads the (Len, MaxLen, Offset) triple at off in msg and returns the
// bytes it points to. It never reads outside msg.
func field(msg []byte, off int, name string) ([]byte, error) {
	if off+8 > len(msg) {
		return nil, fmt.Errorf("%w: message too short for %s field", ErrMalformedMessage, name)
	}
	n := uint64(binary.LittleEndian.Uint16(msg[off:]))
	start := uint64(binary.LittleEndian.Uint32(msg[off+4:]))
	if n == 0 {
		return nil, nil
	}
	if start+n > uint64(len(msg)) {
		return nil, fmt.Errorf("%w: %s field (%d bytes at offset %d) lies outside the %d-byte message", ErrMalformedMessage, name, n, start, len(msg))
	}
	return msg[start : start+n], nil
}

// fieldOffset returns the payload offset of the field at off, or len(msg)
// when the field is empty.
func fieldOffset(msg []byte, off int) int {
	if binary.LittleEndian.Uint16(msg[off:]) == 0 {
		return len(msg)
	}
	return int(binary.LittleEndian.Uint32(msg[off+4:]))
}

// decodeString decodes an NTLM string: UTF-16LE when unicode, else OEM,
// read as Latin-1 so that any byte sequence decodes.
func decodeString(b []byte, unicode bool, name string) (string, error) {
	if !unicode {
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r), nil
	}
	if len(b)%2 != 0 {
		return "", fmt.Errorf("%w: %s has an odd number of bytes for UTF-16", ErrMalformedMessage, name)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// encodeString encodes s as UTF-16LE when unicode, else as OEM bytes
// (characters outside Latin-1 become '?').
func encodeString(s string, unicode bool) []byte {
	if !unicode {
		var b []byte
		for _, r := range s {
			if r > 0xff {
				r = '?'
			}
			b = append(b, byte(r))
		}
		return b
	}
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// negotiateMessage is a parsed NEGOTIATE_MESSAGE ([MS-NLMP] 2.2.1.1).
type negotiateMessage struct {
	flags       uint32
	domain      string // client machine's domain, if supplied
	workstation string // client machine's name, if supplied
}

func parseNegotiate(msg []byte) (negotiateMessage, error) {
	typ, err := messageType(msg)
	if err != nil {
		return negotiateMessage{}, err
	}
	if typ != 1 {
		return negotiateMessage{}, fmt.Errorf("%w: got message type %d, want NEGOTIATE (1)", ErrMalformedMessage, typ)
	}
	if len(msg) < negotiateMinLen {
		return negotiateMessage{}, fmt.Errorf("%w: NEGOTIATE of %d bytes has no flags", ErrMalformedMessage, len(msg))
	}
	m := negotiateMessage{flags: binary.LittleEndian.Uint32(msg[12:])}
	if len(msg) < negotiateWithFieldsLen {
		return m, nil // old clients send no domain/workstation fields
	}
	dom, err := field(msg, 16, "DomainName")
	if err != nil {
		return negotiateMessage{}, err
	}
	ws, err := field(msg, 24, "Workstation")
	if err != nil {
		return negotiateMessage{}, err
	}
	// Both are OEM strings whatever the flags say ([MS-NLMP] 2.2.1.1).
	m.domain, _ = decodeString(dom, false, "DomainName")
	m.workstation, _ = decodeString(ws, false, "Workstation")
	return m, nil
}

// avPair is one AV_PAIR of a TargetInfo list.
type avPair struct {
	id    uint16
	value []byte
}

// parseAVPairs reads an AV_PAIR list up to MsvAvEOL.
func parseAVPairs(b []byte) ([]avPair, error) {
	var pairs []avPair
	for {
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: AV_PAIR list has no MsvAvEOL", ErrMalformedMessage)
		}
		id, n := binary.LittleEndian.Uint16(b), int(binary.LittleEndian.Uint16(b[2:]))
		if id == avEOL {
			return pairs, nil
		}
		if 4+n > len(b) {
			return nil, fmt.Errorf("%w: AV_PAIR %d of %d bytes overruns its list", ErrMalformedMessage, id, n)
		}
		pairs = append(pairs, avPair{id: id, value: b[4 : 4+n]})
		b = b[4+n:]
	}
}

func appendAVPair(dst []byte, id uint16, value []byte) []byte {
	dst = binary.LittleEndian.AppendUint16(dst, id)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(value)))
	return append(dst, value...)
}

// fileTime converts t to a Windows FILETIME (100 ns ticks since 1601).
func fileTime(t time.Time) uint64 {
	const unixToFiletime = 116444736000000000
	return uint64(t.UnixNano()/100) + unixToFiletime
}

// fromFileTime converts a Windows FILETIME to a time.Time.
func fromFileTime(ft uint64) time.Time {
	const secondsFrom1601To1970 = 11644473600
	return time.Unix(int64(ft/10_000_000)-secondsFrom1601To1970, int64(ft%10_000_000)*100)
}

// windowsVersion is the VERSION structure ([MS-NLMP] 2.2.2.10) the server
// sends when NTLMSSP_NEGOTIATE_VERSION is negotiated: Windows Server 2019
// (10.0.17763), NTLMSSP revision 15.
var windowsVersion = [8]byte{10, 0, 0x63, 0x45, 0, 0, 0, 0x0f}

// challengeParams are the inputs of a CHALLENGE_MESSAGE.
type challengeParams struct {
	flags           uint32
	serverChallenge [8]byte
	targetName      string
	targetInfo      []byte
}

// buildChallenge encodes a CHALLENGE_MESSAGE ([MS-NLMP] 2.2.1.2).
func buildChallenge(p challengeParams) []byte {
	unicode := p.flags&flagUnicode != 0
	var name []byte
	if p.flags&flagRequestTarget != 0 {
		name = encodeString(p.targetName, unicode)
	}
	head := challengeHeaderLen
	if p.flags&flagVersion != 0 {
		head += len(windowsVersion)
	}
	msg := make([]byte, head, head+len(name)+len(p.targetInfo))
	copy(msg, signature)
	binary.LittleEndian.PutUint32(msg[8:], 2)
	binary.LittleEndian.PutUint16(msg[12:], uint16(len(name)))
	binary.LittleEndian.PutUint16(msg[14:], uint16(len(name)))
	binary.LittleEndian.PutUint32(msg[16:], uint32(head))
	binary.LittleEndian.PutUint32(msg[20:], p.flags)
	copy(msg[24:32], p.serverChallenge[:])
	binary.LittleEndian.PutUint16(msg[40:], uint16(len(p.targetInfo)))
	binary.LittleEndian.PutUint16(msg[42:], uint16(len(p.targetInfo)))
	binary.LittleEndian.PutUint32(msg[44:], uint32(head+len(name)))
	if p.flags&flagVersion != 0 {
		copy(msg[48:], windowsVersion[:])
	}
	msg = append(msg, name...)
	return append(msg, p.targetInfo...)
}

// authenticateMessage is a parsed AUTHENTICATE_MESSAGE ([MS-NLMP] 2.2.1.3).
type authenticateMessage struct {
	lmResponse   []byte
	ntResponse   []byte
	domain       string
	user         string
	workstation  string
	encryptedKey []byte // EncryptedRandomSessionKey
	flags        uint32
	// micRoom reports whether the message has room for a MIC at offset
	// 72, before its payload.
	micRoom bool
}

func parseAuthenticate(msg []byte) (authenticateMessage, error) {
	typ, err := messageType(msg)
	if err != nil {
		return authenticateMessage{}, err
	}
	if typ != 3 {
		return authenticateMessage{}, fmt.Errorf("%w: got message type %d, want AUTHENTICATE (3)", ErrMalformedMessage, typ)
	}
	if len(msg) < authenticateHeaderLen {
		return authenticateMessage{}, fmt.Errorf("%w: AUTHENTICATE of %d bytes is shorter than its %d-byte header", ErrMalformedMessage, len(msg), authenticateHeaderLen)
	}
	var m authenticateMessage
	m.flags = binary.LittleEndian.Uint32(msg[60:])
	unicode := m.flags&flagUnicode != 0
	raw := make([][]byte, 6)
	names := []string{"LmChallengeResponse", "NtChallengeResponse", "DomainName", "UserName", "Workstation", "EncryptedRandomSessionKey"}
	payload := len(msg)
	for i, name := range names {
		off := 12 + 8*i
		if raw[i], err = field(msg, off, name); err != nil {
			return authenticateMessage{}, err
		}
		payload = min(payload, fieldOffset(msg, off))
	}
	m.lmResponse, m.ntResponse, m.encryptedKey = raw[0], raw[1], raw[5]
	if m.domain, err = decodeString(raw[2], unicode, "DomainName"); err != nil {
		return authenticateMessage{}, err
	}
	if m.user, err = decodeString(raw[3], unicode, "UserName"); err != nil {
		return authenticateMessage{}, err
	}
	if m.workstation, err = decodeString(raw[4], unicode, "Workstation"); err != nil {
		return authenticateMessage{}, err
	}
	m.micRoom = len(msg) >= authenticateWithMICLen && payload >= authenticateWithMICLen
	return m, nil
}

// ntlmv2Response is the parsed NtChallengeResponse of NTLMv2
// ([MS-NLMP] 2.2.2.8).
type ntlmv2Response struct {
	proof      []byte // NTProofStr, 16 bytes
	temp       []byte // the NTLMv2_CLIENT_CHALLENGE the proof covers
	timestamp  uint64 // FILETIME the client put in temp
	avFlags    uint32 // MsvAvFlags the client echoed, 0 if none
	targetInfo []avPair
}

func parseNTLMv2Response(nt []byte) (ntlmv2Response, error) {
	if len(nt) < 16+ntlmv2ClientChallengeFixed+4 {
		return ntlmv2Response{}, fmt.Errorf("%w: NTLMv2 response of %d bytes is too short", ErrMalformedMessage, len(nt))
	}
	r := ntlmv2Response{proof: nt[:16], temp: nt[16:]}
	if r.temp[0] != 1 || r.temp[1] != 1 {
		return ntlmv2Response{}, fmt.Errorf("%w: NTLMv2 client challenge has version %d.%d, want 1.1", ErrMalformedMessage, r.temp[0], r.temp[1])
	}
	r.timestamp = binary.LittleEndian.Uint64(r.temp[8:])
	pairs, err := parseAVPairs(r.temp[ntlmv2ClientChallengeFixed:])
	if err != nil {
		return ntlmv2Response{}, err
	}
	r.targetInfo = pairs
	for _, p := range pairs {
		if p.id == avFlags && len(p.value) == 4 {
			r.avFlags = binary.LittleEndian.Uint32(p.value)
		}
	}
	return r, nil
}

// buildTargetInfo encodes the server's TargetInfo AV pairs.
func buildTargetInfo(nbDomain, nbComputer, dnsDomain, dnsComputer string, now time.Time) []byte {
	var b []byte
	b = appendAVPair(b, avNbDomainName, encodeString(nbDomain, true))
	b = appendAVPair(b, avNbComputerName, encodeString(nbComputer, true))
	b = appendAVPair(b, avDNSDomainName, encodeString(dnsDomain, true))
	b = appendAVPair(b, avDNSComputerName, encodeString(dnsComputer, true))
	b = appendAVPair(b, avDNSTreeName, encodeString(dnsDomain, true))
	b = appendAVPair(b, avTimestamp, binary.LittleEndian.AppendUint64(nil, fileTime(now)))
	return appendAVPair(b, avEOL, nil)
}

// upper is the uppercasing NTOWFv2 applies to the user name.
func upper(s string) string { return strings.ToUpper(s) }
