package mailbox

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"strings"
)

// IDKind says what an id names.
type IDKind byte

// Id kinds.
const (
	KindFolderID     IDKind = 'F'
	KindItemID       IDKind = 'I'
	KindOccurrenceID IDKind = 'O'
	KindAttachmentID IDKind = 'A'
	KindConfigID     IDKind = 'C'
)

// IDInfo is what an id encodes: the mailbox (its index in the [Store]),
// the object number and, for occurrences, the occurrence index (1-based).
type IDInfo struct {
	Kind    IDKind
	Mailbox uint32
	Num     uint64
	Sub     uint32
}

// Ids are base64 of a small binary record. The record starts with the
// bytes Exchange's ids start with (so the text starts "AAMk", as
// Exchange's do) and ends with a CRC so that a mistyped id is malformed,
// not a different object.
var idMagic = [3]byte{0x00, 0x03, 0x24}

const idVersion = 1
const idLen = 3 + 1 + 1 + 4 + 8 + 4 + 4 // magic, kind, version, mailbox, num, sub, crc

// EncodeID returns the opaque id string of info.
func EncodeID(info IDInfo) string {
	var b [idLen]byte
	copy(b[:3], idMagic[:])
	b[3] = byte(info.Kind)
	b[4] = idVersion
	binary.BigEndian.PutUint32(b[5:9], info.Mailbox)
	binary.BigEndian.PutUint64(b[9:17], info.Num)
	binary.BigEndian.PutUint32(b[17:21], info.Sub)
	binary.BigEndian.PutUint32(b[21:25], crc32.ChecksumIEEE(b[:21]))
	return base64.StdEncoding.EncodeToString(b[:])
}

// DecodeID parses an id made by [EncodeID]. An empty id is
// [ErrInvalidIDEmpty]; anything else not of ours is [ErrInvalidIDMalformed].
func DecodeID(s string) (IDInfo, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return IDInfo{}, errf(ErrInvalidIDEmpty, "empty id")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != idLen || [3]byte(b[:3]) != idMagic || b[4] != idVersion ||
		binary.BigEndian.Uint32(b[21:25]) != crc32.ChecksumIEEE(b[:21]) {
		return IDInfo{}, errf(ErrInvalidIDMalformed, "id %q is not an id of this server", short(s))
	}
	info := IDInfo{Kind: IDKind(b[3]), Mailbox: binary.BigEndian.Uint32(b[5:9]),
		Num: binary.BigEndian.Uint64(b[9:17]), Sub: binary.BigEndian.Uint32(b[17:21])}
	switch info.Kind {
	case KindFolderID, KindItemID, KindOccurrenceID, KindAttachmentID, KindConfigID:
		return info, nil
	}
	return IDInfo{}, errf(ErrInvalidIDMalformed, "id %q has an unknown kind", short(s))
}

// ChangeKeys are base64 of a record with the object's version, so a stale
// key can be told from a current one and from garbage. They start with the
// bytes Exchange's item change keys start with ("CQAAABYA").
var ckMagic = [6]byte{0x09, 0x00, 0x00, 0x00, 0x16, 0x00}

func encodeChangeKey(kind IDKind, version uint32) string {
	var b [6 + 1 + 4]byte
	copy(b[:6], ckMagic[:])
	b[6] = byte(kind)
	binary.BigEndian.PutUint32(b[7:], version)
	return base64.StdEncoding.EncodeToString(b[:])
}

// decodeChangeKey returns the version in a change key of the given kind.
func decodeChangeKey(kind IDKind, s string) (uint32, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != 11 || [6]byte(b[:6]) != ckMagic || IDKind(b[6]) != kind {
		return 0, errf(ErrInvalidChangeKey, "change key %q is not a change key of this server", short(s))
	}
	return binary.BigEndian.Uint32(b[7:]), nil
}

// short keeps ids in error messages readable.
func short(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}
