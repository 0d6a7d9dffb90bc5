package org

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
)

// Redacted is what a [Secret] or a [FileStoreKey] prints, marshals and logs
// as, whatever its value. The whole module writes redacted values this way.
const Redacted = "[redacted]"

// ErrSecretFromText is returned when JSON or text input tries to set a
// [Secret] or a [FileStoreKey]. Secrets are set only with [NewSecret] (keys
// with [ParseFileStoreKey]); stores keep them encrypted in their own format,
// so plaintext arriving through encoding/json is a mistake (or an attack)
// and is refused rather than silently accepted.
var ErrSecretFromText = errors.New("org: secrets are not read from JSON or text; set them with org.NewSecret")

// Secret holds a password, client secret or private key. It never reveals its
// value by accident: fmt verbs (%v, %+v, %#v, %s, %q, %x, ...), String,
// GoString, JSON, text marshalling and slog (LogValue, and so the text and
// JSON handlers) all produce [Redacted]. Only [Secret.Reveal] returns the
// value.
//
// The value is held by a closure, not in a string field, so that printers
// which cannot call Secret's methods (fmt and slog's text handler on a
// Secret in an unexported field of a caller's struct, or any other
// reflection-based dumper) find only a function pointer. Secrets are not
// comparable with ==; use [Secret.Equal]. The zero Secret is empty.
type Secret struct {
	reveal func() string // nil for the empty secret
}

// NewSecret returns a Secret holding s.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{reveal: func() string { return s }}
}

// Reveal returns the secret value. Call it only where the value is handed to
// the component that needs it (an HTTP transport, a cipher), never for display.
func (s Secret) Reveal() string {
	if s.reveal == nil {
		return ""
	}
	return s.reveal()
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.reveal == nil }

// Equal reports whether s and o hold the same value, in constant time for
// values of equal length. It also lets go-cmp compare structs holding secrets.
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare([]byte(s.Reveal()), []byte(o.Reveal())) == 1
}

// String returns [Redacted] (or "" for an empty secret, so forms can show
// whether one is set).
func (s Secret) String() string { return redactedString(s.IsZero()) }

// GoString returns a redacted Go-syntax form, for %#v.
func (s Secret) GoString() string { return redactedGoString("org.Secret", s.IsZero()) }

// Format implements [fmt.Formatter] so that every verb and flag is redacted.
func (s Secret) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s.String(), s.GoString()) }

// MarshalJSON encodes the secret as "[redacted]" (or "" when empty).
func (s Secret) MarshalJSON() ([]byte, error) { return redactedJSON(s.IsZero()), nil }

// UnmarshalJSON accepts only null and "" (leaving the secret empty). Any other
// value, including "[redacted]", fails with [ErrSecretFromText].
func (s *Secret) UnmarshalJSON(b []byte) error {
	if !emptyJSON(b) {
		return ErrSecretFromText
	}
	*s = Secret{}
	return nil
}

// MarshalText encodes the secret as "[redacted]" (or "" when empty).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText accepts only empty input; see [Secret.UnmarshalJSON].
func (s *Secret) UnmarshalText(b []byte) error {
	if len(b) != 0 {
		return ErrSecretFromText
	}
	*s = Secret{}
	return nil
}

// LogValue implements [slog.LogValuer].
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// The helpers below give every redacting type of this package one printed
// form.

func redactedString(zero bool) string {
	if zero {
		return ""
	}
	return Redacted
}

func redactedGoString(typ string, zero bool) string {
	if zero {
		return typ + "{}"
	}
	return typ + `{"` + Redacted + `"}`
}

// formatRedacted writes str for every verb, quoted for %q, and goStr for %#v.
// Width, precision and other flags are ignored: they would only pad the
// marker.
func formatRedacted(f fmt.State, verb rune, str, goStr string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, goStr)
	case verb == 'q':
		fmt.Fprintf(f, "%q", str)
	default:
		fmt.Fprint(f, str)
	}
}

func redactedJSON(zero bool) []byte {
	if zero {
		return []byte(`""`)
	}
	return []byte(`"` + Redacted + `"`)
}

func emptyJSON(b []byte) bool {
	switch string(b) {
	case "null", `""`:
		return true
	}
	return false
}
