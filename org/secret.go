package org

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
)

// Redacted is what a [Secret] prints, marshals and logs as, whatever its value.
const Redacted = "[redacted]"

// ErrSecretFromText is returned when JSON or text input tries to set a
// [Secret]. Secrets are set only with [NewSecret]; stores keep them encrypted
// in their own format, so plaintext arriving through encoding/json is a
// mistake (or an attack) and is refused rather than silently accepted.
var ErrSecretFromText = errors.New("org: secrets are not read from JSON or text; set them with org.NewSecret")

// Secret holds a password, client secret or private key. It never reveals its
// value by accident: fmt verbs (%v, %+v, %#v, %s, %q, ...), String, GoString,
// JSON, text marshalling and slog all produce [Redacted]. Only [Secret.Reveal]
// returns the value. The zero Secret is empty.
type Secret struct {
	value string
}

// NewSecret returns a Secret holding s.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret value. Call it only where the value is handed to
// the component that needs it (an HTTP transport, a cipher), never for display.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// Equal reports whether s and o hold the same value, in constant time for
// values of equal length. It also lets go-cmp compare structs holding secrets.
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare([]byte(s.value), []byte(o.value)) == 1
}

// String returns [Redacted] (or "" for an empty secret, so forms can show
// whether one is set).
func (s Secret) String() string {
	if s.IsZero() {
		return ""
	}
	return Redacted
}

// GoString returns a redacted Go-syntax form, for %#v.
func (s Secret) GoString() string {
	if s.IsZero() {
		return "org.Secret{}"
	}
	return `org.Secret{"` + Redacted + `"}`
}

// Format implements [fmt.Formatter] so that every verb and flag is redacted.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, s.GoString())
	case verb == 'q':
		fmt.Fprintf(f, "%q", s.String())
	default:
		fmt.Fprint(f, s.String())
	}
}

// MarshalJSON encodes the secret as "[redacted]" (or "" when empty).
func (s Secret) MarshalJSON() ([]byte, error) {
	if s.IsZero() {
		return []byte(`""`), nil
	}
	return []byte(`"` + Redacted + `"`), nil
}

// UnmarshalJSON accepts only null and "" (leaving the secret empty). Any other
// value, including "[redacted]", fails with [ErrSecretFromText].
func (s *Secret) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "null", `""`:
		*s = Secret{}
		return nil
	}
	return ErrSecretFromText
}

// MarshalText encodes the secret as "[redacted]" (or "" when empty).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText accepts only empty input; see [Secret.UnmarshalJSON].
func (s *Secret) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = Secret{}
		return nil
	}
	return ErrSecretFromText
}

// LogValue implements [slog.LogValuer].
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
