package org_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/org"
)

func TestDefaultProvisioningPlan(t *testing.T) {
	p := org.DefaultProvisioningPlan("CRM")
	if err := p.Validate(); err != nil {
		t.Fatalf("DefaultProvisioningPlan(CRM).Validate() = %v, want nil", err)
	}
	want := []org.PlannedFolder{
		{Key: "contacts", DisplayName: "CRM Contacts", FolderClass: "IPF.Contact", Parent: "contacts"},
		{Key: "tasks", DisplayName: "CRM Tasks", FolderClass: "IPF.Task", Parent: "tasks"},
		{Key: "mail", DisplayName: "CRM", FolderClass: "IPF.Note", Parent: "msgfolderroot"},
	}
	if diff := cmp.Diff(want, p.Folders); diff != "" {
		t.Errorf("DefaultProvisioningPlan(CRM).Folders mismatch (-want +got):\n%s", diff)
	}
	if len(p.Categories) != 1 || p.Categories[0].Name != "CRM" {
		t.Errorf("DefaultProvisioningPlan(CRM).Categories = %v, want one named CRM", p.Categories)
	}
	if got := org.DefaultProvisioningPlan("  ").Folders[2].DisplayName; got != "Sync" {
		t.Errorf("DefaultProvisioningPlan(blank) mail folder = %q, want Sync", got)
	}
}

func TestProvisioningPlanValidate(t *testing.T) {
	base := func() *org.ProvisioningPlan { return org.DefaultProvisioningPlan("CRM") }
	tests := []struct {
		name   string
		edit   func(p *org.ProvisioningPlan)
		fields []string
		is     error
	}{
		{"default", func(*org.ProvisioningPlan) {}, nil, nil},
		{"empty plan", func(p *org.ProvisioningPlan) { *p = org.ProvisioningPlan{} }, nil, nil},
		{"bad key", func(p *org.ProvisioningPlan) { p.Folders[2].Key = "Mail!" }, []string{"Provisioning Folders row 3", "Baseline Sync Folders"}, nil},
		{"duplicate key", func(p *org.ProvisioningPlan) { p.Folders[1].Key = "contacts"; p.BaselineFolders = nil }, []string{"Provisioning Folders row 2"}, org.ErrDuplicate},
		{"empty name", func(p *org.ProvisioningPlan) { p.Folders[2].DisplayName = " " }, []string{"Provisioning Folders row 3"}, nil},
		{"trailing space", func(p *org.ProvisioningPlan) { p.Folders[2].DisplayName = "CRM " }, []string{"Provisioning Folders row 3"}, nil},
		{"bell", func(p *org.ProvisioningPlan) { p.Folders[2].DisplayName = "CR\aM" }, []string{"Provisioning Folders row 3"}, nil},
		{"zero-width space", func(p *org.ProvisioningPlan) { p.Folders[2].DisplayName = "CR\u200bM" }, []string{"Provisioning Folders row 3"}, nil},
		{"long name", func(p *org.ProvisioningPlan) { p.Folders[2].DisplayName = strings.Repeat("x", 256) }, []string{"Provisioning Folders row 3"}, nil},
		{"bad class", func(p *org.ProvisioningPlan) { p.Folders[0].FolderClass = "Contact" }, []string{"Provisioning Folders row 1"}, nil},
		{"subclass ok", func(p *org.ProvisioningPlan) { p.Folders[0].FolderClass = "IPF.Contact.CRM" }, nil, nil},
		{"bad parent", func(p *org.ProvisioningPlan) { p.Folders[0].Parent = "recoverableitemsroot" }, []string{"Provisioning Folders row 1"}, nil},
		{"same name same parent", func(p *org.ProvisioningPlan) {
			p.Folders[1].Parent, p.Folders[1].DisplayName = "contacts", "crm contacts"
		}, []string{"Provisioning Folders row 2"}, org.ErrDuplicate},
		{"same name other parent", func(p *org.ProvisioningPlan) { p.Folders[1].DisplayName = "CRM Contacts" }, nil, nil},
		{"category comma", func(p *org.ProvisioningPlan) { p.Categories[0].Name = "CRM, sync" }, []string{"Provisioning Categories row 1"}, nil},
		{"category colour", func(p *org.ProvisioningPlan) { p.Categories[0].Color = 25 }, []string{"Provisioning Categories row 1"}, nil},
		{"category none", func(p *org.ProvisioningPlan) { p.Categories[0].Color = org.CategoryColorNone }, nil, nil},
		{"category duplicate", func(p *org.ProvisioningPlan) {
			p.Categories = append(p.Categories, org.PlannedCategory{Name: "crm", Color: 1})
		}, []string{"Provisioning Categories row 2"}, org.ErrDuplicate},
		{"baseline unknown", func(p *org.ProvisioningPlan) { p.BaselineFolders = []string{"inbox", "nope"} }, []string{"Baseline Sync Folders"}, nil},
		{"baseline twice", func(p *org.ProvisioningPlan) { p.BaselineFolders = []string{"mail", "mail"} }, []string{"Baseline Sync Folders"}, org.ErrDuplicate},
		{"every problem at once", func(p *org.ProvisioningPlan) {
			p.Folders[0].FolderClass = ""
			p.Categories[0].Color = -2
			p.BaselineFolders = []string{"x"}
		}, []string{"Provisioning Folders row 1", "Provisioning Categories row 1", "Baseline Sync Folders"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			tt.edit(p)
			err := p.Validate()
			if diff := cmp.Diff(tt.fields, fieldsOf(t, err)); diff != "" {
				t.Errorf("Validate() = %v; fields mismatch (-want +got):\n%s", err, diff)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Validate() = %v, want it to wrap %v", err, tt.is)
			}
			// The organization's Validate reports the plan's problems too.
			o := validOrg()
			o.Provisioning = p
			if diff := cmp.Diff(tt.fields, fieldsOf(t, o.Validate())); diff != "" {
				t.Errorf("Organization.Validate() fields mismatch (-want +got):\n%s", diff)
			}
		})
	}
	var nilPlan *org.ProvisioningPlan
	if err := nilPlan.Validate(); err != nil {
		t.Errorf("(nil plan).Validate() = %v, want nil", err)
	}
}

func TestStoresKeepProvisioning(t *testing.T) {
	stores(t, func(t *testing.T, s org.Store) {
		ctx := context.Background()
		o := validOrg()
		o.ID = "contoso"
		o.Provisioning = org.DefaultProvisioningPlan("CRM")
		o.Users[0].Sync.Folders = map[string]string{"contacts": "AAMk=", "mail": "AAMm="}
		o.Users[0].Sync.Categories = []string{"CRM"}
		created, err := s.Create(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "contoso")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(created, got); diff != "" {
			t.Errorf("Get() mismatch (-want +got):\n%s", diff)
		}
		// What Get returned is a private copy, down to the plan and the
		// folder ids.
		got.Provisioning.Folders[0].DisplayName = "changed"
		got.Users[0].Sync.Folders["contacts"] = "changed"
		again, err := s.Get(ctx, "contoso")
		if err != nil {
			t.Fatal(err)
		}
		if again.Provisioning.Folders[0].DisplayName != "CRM Contacts" || again.Users[0].Sync.Folders["contacts"] != "AAMk=" {
			t.Errorf("Get() after editing a returned copy = %+v, %v; want the store unchanged", again.Provisioning.Folders[0], again.Users[0].Sync.Folders)
		}
		// Removing the plan removes it.
		saved, err := org.Modify(ctx, s, "contoso", func(o *org.Organization) error { o.Provisioning = nil; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if saved.Provisioning != nil {
			t.Errorf("Modify(remove plan) = %+v, want nil plan", saved.Provisioning)
		}
	})
}

func TestCloneCopiesPlanAndFolders(t *testing.T) {
	o := validOrg()
	o.Provisioning = org.DefaultProvisioningPlan("CRM")
	o.Users[0].Sync.Folders = map[string]string{"mail": "id"}
	o.Users[0].Sync.Categories = []string{"CRM"}
	c := o.Clone()
	c.Provisioning.Categories[0].Name = "x"
	c.Provisioning.BaselineFolders[0] = "x"
	c.Users[0].Sync.Folders["mail"] = "x"
	c.Users[0].Sync.Categories[0] = "x"
	if o.Provisioning.Categories[0].Name != "CRM" || o.Provisioning.BaselineFolders[0] != "contacts" ||
		o.Users[0].Sync.Folders["mail"] != "id" || o.Users[0].Sync.Categories[0] != "CRM" {
		t.Errorf("editing Clone() changed the original: %+v, %+v", o.Provisioning, o.Users[0].Sync)
	}
}
