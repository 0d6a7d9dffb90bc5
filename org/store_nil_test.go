package org_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sccsync/scc/org"
)

// Every method of a nil or never-opened store returns an error instead of
// panicking, so an admin tool that forgot to open its store gets a message.
func TestNilStoresReturnErrors(t *testing.T) {
	ctx := context.Background()
	var nilMem *org.MemoryStore
	var nilFile *org.FileStore
	for name, s := range map[string]org.Store{"nil *MemoryStore": nilMem, "nil *FileStore": nilFile, "zero FileStore": &org.FileStore{}} {
		t.Run(name, func(t *testing.T) {
			calls := map[string]error{}
			_, calls["Create"] = s.Create(ctx, &org.Organization{Name: "Contoso"})
			_, calls["Get"] = s.Get(ctx, "x")
			_, calls["List"] = s.List(ctx)
			_, calls["Update"] = s.Update(ctx, &org.Organization{ID: "x", Name: "Contoso"})
			calls["Delete"] = s.Delete(ctx, "x")
			_, calls["Modify"] = org.Modify(ctx, s, "x", func(*org.Organization) error { return nil })
			for call, err := range calls {
				if err == nil || !strings.Contains(err.Error(), "store") {
					t.Errorf("%s on a %s = %v, want an error about the store", call, name, err)
				}
			}
		})
	}
}

// The zero MemoryStore works like NewMemoryStore's.
func TestZeroMemoryStore(t *testing.T) {
	ctx := context.Background()
	var s org.MemoryStore
	if _, err := s.Get(ctx, "nope"); err == nil {
		t.Errorf("Get of a missing id on the zero MemoryStore = nil error, want ErrNotFound")
	}
	o, err := s.Create(ctx, &org.Organization{Name: "Contoso"})
	if err != nil {
		t.Fatalf("Create on the zero MemoryStore: %v", err)
	}
	o.Name = "Contoso Ltd"
	if _, err := s.Update(ctx, o); err != nil {
		t.Fatalf("Update: %v", err)
	}
	got, err := s.Get(ctx, o.ID)
	if err != nil || got.Name != "Contoso Ltd" || got.UpdatedAt.IsZero() {
		t.Fatalf("Get = %+v, %v, want the updated organization with a time", got, err)
	}
	if err := s.Delete(ctx, o.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}
