package org

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// FileStoreKeySize is the size of a [FileStoreKey] in bytes (AES-256).
const FileStoreKeySize = 32

// ErrBadFileStoreKey is wrapped by the errors of [ParseFileStoreKey] and
// [FileStoreKeyFromBytes].
var ErrBadFileStoreKey = errors.New("org: not a file store key")

// FileStoreKey is the key of a [FileStore]: 32 random bytes that encrypt the
// stored secrets and authenticate every stored organization. The
// application keeps it outside the store directory (a secret manager, an
// environment variable). Make one with [NewFileStoreKey], keep it with
// [FileStoreKey.Encode] and read it back with [ParseFileStoreKey].
//
// Like [Secret], a FileStoreKey prints, marshals and logs as [Redacted] in
// every form, also inside an unexported field of a caller's struct, and is
// not comparable with ==. The zero FileStoreKey is no key.
type FileStoreKey struct {
	key func() [FileStoreKeySize]byte // nil for the zero key
}

// NewFileStoreKey returns a new random key.
func NewFileStoreKey() (FileStoreKey, error) {
	var b [FileStoreKeySize]byte
	if _, err := rand.Read(b[:]); err != nil {
		return FileStoreKey{}, fmt.Errorf("org: NewFileStoreKey: %w", err)
	}
	return newFileStoreKey(b), nil
}

func newFileStoreKey(b [FileStoreKeySize]byte) FileStoreKey {
	return FileStoreKey{key: func() [FileStoreKeySize]byte { return b }}
}

// FileStoreKeyFromBytes returns the key made of b, which must be 32 bytes
// (from a key management service, say). b is copied.
func FileStoreKeyFromBytes(b []byte) (FileStoreKey, error) {
	if len(b) != FileStoreKeySize {
		return FileStoreKey{}, fmt.Errorf("%w: it must be %d bytes for AES-256, got %d", ErrBadFileStoreKey, FileStoreKeySize, len(b))
	}
	return newFileStoreKey([FileStoreKeySize]byte(b)), nil
}

// ParseFileStoreKey reads a key written by [FileStoreKey.Encode], or made
// with `openssl rand -base64 32` or `openssl rand -hex 32`: 32 bytes in
// standard or URL-safe base64 (padded or not) or in hex. Surrounding white
// space is ignored. The error never quotes the input.
func ParseFileStoreKey(s string) (FileStoreKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return FileStoreKey{}, fmt.Errorf("%w: it is empty; make one with org.NewFileStoreKey or openssl rand -base64 32", ErrBadFileStoreKey)
	}
	if len(s) == 2*FileStoreKeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return FileStoreKeyFromBytes(b)
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return FileStoreKeyFromBytes(b)
		}
	}
	return FileStoreKey{}, fmt.Errorf("%w: it is neither base64 nor hex (%d characters); make one with org.NewFileStoreKey or openssl rand -base64 32", ErrBadFileStoreKey, len(s))
}

// Encode returns the key in standard base64, for an environment variable or
// a secret manager; [ParseFileStoreKey] reads it back. The result is the key
// itself: handle it as such. The zero key encodes as "".
func (k FileStoreKey) Encode() string {
	if k.key == nil {
		return ""
	}
	b := k.key()
	return base64.StdEncoding.EncodeToString(b[:])
}

// IsZero reports whether k is the zero FileStoreKey (no key).
func (k FileStoreKey) IsZero() bool { return k.key == nil }

// bytes returns the key material.
func (k FileStoreKey) bytes() []byte {
	b := k.key()
	return b[:]
}

// String returns [Redacted] (or "" for the zero key).
func (k FileStoreKey) String() string { return redactedString(k.IsZero()) }

// GoString returns a redacted Go-syntax form, for %#v.
func (k FileStoreKey) GoString() string { return redactedGoString("org.FileStoreKey", k.IsZero()) }

// Format implements [fmt.Formatter] so that every verb and flag is redacted.
func (k FileStoreKey) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, k.String(), k.GoString())
}

// MarshalJSON encodes the key as "[redacted]" (or "" for the zero key).
func (k FileStoreKey) MarshalJSON() ([]byte, error) { return redactedJSON(k.IsZero()), nil }

// UnmarshalJSON accepts only null and "", like [Secret.UnmarshalJSON]; read
// keys with [ParseFileStoreKey].
func (k *FileStoreKey) UnmarshalJSON(b []byte) error {
	if !emptyJSON(b) {
		return ErrSecretFromText
	}
	*k = FileStoreKey{}
	return nil
}

// MarshalText encodes the key as "[redacted]" (or "" for the zero key).
func (k FileStoreKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText accepts only empty input; read keys with [ParseFileStoreKey].
func (k *FileStoreKey) UnmarshalText(b []byte) error {
	if len(b) != 0 {
		return ErrSecretFromText
	}
	*k = FileStoreKey{}
	return nil
}

// LogValue implements [slog.LogValuer].
func (k FileStoreKey) LogValue() slog.Value { return slog.StringValue(k.String()) }
