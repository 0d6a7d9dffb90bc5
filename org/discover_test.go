package org_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sccsync/scc/org"
)

// TestEmptyEWSURLOnlyWithDiscovery: an empty EWS URL is valid only when
// discovery is requested; a URL that is set is checked either way.
func TestEmptyEWSURLOnlyWithDiscovery(t *testing.T) {
	base := org.EmailConfiguration{AccountLogon: `CONTOSO\svc-sync`, Password: org.NewSecret("pw-1234567")}
	tests := []struct {
		name     string
		url      string
		discover bool
		wantErr  bool
	}{
		{"empty, no discovery", "", false, true},
		{"empty, discovery", "", true, false},
		{"set, discovery", "https://mail.contoso.com/EWS/Exchange.asmx", true, false},
		{"bad, discovery", "ftp://mail.contoso.com/EWS/Exchange.asmx", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.EWSURL, c.DiscoverEWSURL = tc.url, tc.discover
			err := c.Validate()
			var ve org.ValidationErrors
			hasURL := errors.As(err, &ve) && func() bool {
				for _, fe := range ve {
					if fe.Field == org.FieldEWSURL {
						return true
					}
				}
				return false
			}()
			if hasURL != tc.wantErr {
				t.Errorf("Validate() = %v, want an EWS URL error: %v", err, tc.wantErr)
			}
		})
	}
}

// TestDiscoverEWSURLStored: the flag survives the file store.
func TestDiscoverEWSURLStored(t *testing.T) {
	store, err := org.OpenFileStore(t.TempDir(), org.FileStoreOptions{Key: testKey(9)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = store.Create(ctx, &org.Organization{ID: "contoso", Name: "Contoso", Email: org.EmailConfiguration{
		AccountLogon: `CONTOSO\svc-sync`, Password: org.NewSecret("pw-1234567"), DiscoverEWSURL: true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(ctx, "contoso")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Email.DiscoverEWSURL {
		t.Error("Get().Email.DiscoverEWSURL = false, want true")
	}
}
