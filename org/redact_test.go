package org_test

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/sccsync/scc/org"
)

// redactKeyBytes is a key whose every printed form is easy to find.
var redactKeyBytes = func() []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = 0xA0 + byte(i)
	}
	return b
}()

// leakForms are the ways a secret value can show up in printed output.
func leakForms() []string {
	var forms []string
	for _, s := range []string{testPassword, testClientSecret, "private-key-material"} {
		forms = append(forms, s, hex.EncodeToString([]byte(s)), strings.ToUpper(hex.EncodeToString([]byte(s))))
	}
	k := redactKeyBytes
	forms = append(forms, string(k[:8]), hex.EncodeToString(k[:8]), strings.ToUpper(hex.EncodeToString(k[:8])),
		"160 161 162", "0xa0, 0xa1", base64.StdEncoding.EncodeToString(k)[:12], base64.RawURLEncoding.EncodeToString(k)[:12])
	return forms
}

func assertNoLeak(t *testing.T, what, out string) {
	t.Helper()
	for _, f := range leakForms() {
		if strings.Contains(out, f) {
			t.Errorf("%s leaks %q in:\n%s", what, f, out)
			return
		}
	}
}

// Holder shapes a caller may keep secrets in: exported and unexported
// fields, by value and by pointer, in slices, maps and interfaces. fmt and
// slog's text handler cannot call methods on unexported fields, so those
// shapes test what reflection finds inside the types.
type (
	exported[T any]      struct{ V T }
	unexported[T any]    struct{ v T }
	unexportedPtr[T any] struct{ p *T }
	unexportedAny        struct{ a any }
	deep[T any]          struct {
		inner struct{ list []T }
		m     map[string]T
	}
)

func holderShapes[T any](v T) map[string]any {
	return map[string]any{
		"value":                 v,
		"pointer":               &v,
		"exported field":        exported[T]{v},
		"exported field ptr":    &exported[T]{v},
		"unexported field":      unexported[T]{v},
		"unexported field ptr":  &unexported[T]{v},
		"unexported pointer":    unexportedPtr[T]{&v},
		"unexported interface":  unexportedAny{v},
		"slice":                 []T{v},
		"map":                   map[string]T{"k": v},
		"nested unexported":     deep[T]{inner: struct{ list []T }{[]T{v}}, m: map[string]T{"k": v}},
		"nested unexported ptr": &deep[T]{inner: struct{ list []T }{[]T{v}}},
	}
}

func TestRedactionEverywhere(t *testing.T) {
	key, err := org.FileStoreKeyFromBytes(redactKeyBytes)
	if err != nil {
		t.Fatal(err)
	}
	o := secretOrg()
	values := map[string]map[string]any{
		"Secret":             holderShapes(org.NewSecret(testPassword)),
		"EmailConfiguration": holderShapes(o.Email),
		"Organization":       holderShapes(*o),
		"FileStoreKey":       holderShapes(key),
		"FileStoreOptions":   holderShapes(org.FileStoreOptions{Key: key}),
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s", "%T %v"}
	for typ, shapes := range values {
		for shape, v := range shapes {
			t.Run(typ+"/"+shape, func(t *testing.T) {
				for _, verb := range verbs {
					assertNoLeak(t, fmt.Sprintf("Sprintf(%q)", verb), fmt.Sprintf(verb, v))
				}
				assertNoLeak(t, "Sprint", fmt.Sprint(v))
				assertNoLeak(t, "Errorf", fmt.Errorf("wrapped: %v", v).Error())
				if gs, ok := v.(fmt.GoStringer); ok {
					assertNoLeak(t, "GoString", gs.GoString())
				}
				if tm, ok := v.(encoding.TextMarshaler); ok {
					b, err := tm.MarshalText()
					if err != nil {
						t.Errorf("MarshalText error: %v", err)
					}
					assertNoLeak(t, "MarshalText", string(b))
				}
				if j, err := json.Marshal(v); err == nil {
					assertNoLeak(t, "json.Marshal", string(j))
				}
				for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
					"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
					"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
				} {
					var buf bytes.Buffer
					log := slog.New(h(&buf))
					log.Info("msg", "v", v, slog.Any("any", v), slog.Group("g", "v", v))
					log.With("w", v).Info("again")
					assertNoLeak(t, "slog "+name+" handler", buf.String())
				}
			})
		}
	}
}

func TestRedactedForms(t *testing.T) {
	key, _ := org.FileStoreKeyFromBytes(redactKeyBytes)
	s := org.NewSecret(testPassword)
	for _, tc := range []struct {
		verb string
		v    any
		want string
	}{
		{"%v", s, org.Redacted},
		{"%q", s, `"` + org.Redacted + `"`},
		{"%#v", s, `org.Secret{"[redacted]"}`},
		{"%v", org.Secret{}, ""},
		{"%v", key, org.Redacted},
		{"%#v", key, `org.FileStoreKey{"[redacted]"}`},
		{"%+v", org.FileStoreOptions{Key: key}, "{Key:[redacted]}"},
		{"%v", org.FileStoreKey{}, ""},
	} {
		if got := fmt.Sprintf(tc.verb, tc.v); got != tc.want {
			t.Errorf("Sprintf(%q, %T) = %q, want %q", tc.verb, tc.v, got, tc.want)
		}
	}
	if s.Reveal() != testPassword {
		t.Errorf("Reveal() = %q, want the value given to NewSecret", s.Reveal())
	}
	if org.NewSecret("").IsZero() != true {
		t.Errorf("NewSecret(\"\").IsZero() = false, want true")
	}
}

func TestFileStoreNeverPrintsItsKey(t *testing.T) {
	key, _ := org.FileStoreKeyFromBytes(redactKeyBytes)
	s, err := org.OpenFileStore(t.TempDir(), org.FileStoreOptions{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	for shape, v := range holderShapes(s) {
		for _, verb := range []string{"%v", "%+v", "%#v", "%x", "%s"} {
			assertNoLeak(t, fmt.Sprintf("Sprintf(%q, %s)", verb, shape), fmt.Sprintf(verb, v))
		}
	}
}

func TestParseFileStoreKey(t *testing.T) {
	raw := redactKeyBytes
	want, _ := org.FileStoreKeyFromBytes(raw)
	for _, in := range []string{
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
		hex.EncodeToString(raw),
		strings.ToUpper(hex.EncodeToString(raw)),
		"  " + want.Encode() + "\n",
	} {
		got, err := org.ParseFileStoreKey(in)
		if err != nil || got.Encode() != want.Encode() {
			t.Errorf("ParseFileStoreKey(%q) = %v, %v; want the key", in, got.Encode(), err)
		}
	}
	secretish := "c2VjcmV0LWJ1dC10b28tc2hvcnQ="
	for _, in := range []string{"", "   ", "not a key!", secretish, hex.EncodeToString(raw[:16])} {
		_, err := org.ParseFileStoreKey(in)
		if !errors.Is(err, org.ErrBadFileStoreKey) {
			t.Errorf("ParseFileStoreKey(%q) error = %v, want ErrBadFileStoreKey", in, err)
		}
		if err != nil && strings.TrimSpace(in) != "" && strings.Contains(err.Error(), strings.TrimSpace(in)) {
			t.Errorf("ParseFileStoreKey(%q) error %q quotes its input", in, err)
		}
	}
	if k, err := org.NewFileStoreKey(); err != nil || k.IsZero() || len(k.Encode()) != 44 {
		t.Errorf("NewFileStoreKey() = %d-character key, %v; want a 44-character base64 key", len(k.Encode()), err)
	}
}
