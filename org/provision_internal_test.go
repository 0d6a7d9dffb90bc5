package org

import (
	"bytes"
	"context"
	"testing"
)

// A record of an organization without a plan is byte for byte what stores
// wrote before plans existed: no "provisioning" member, so older records
// and their MACs stay valid, and older readers read newer plan-less records.
func TestPlanlessRecordHasNoProvisioningMember(t *testing.T) {
	key, err := NewFileStoreKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenFileStore(t.TempDir(), FileStoreOptions{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	o := &Organization{ID: "old", Name: "Old", Version: 1, Users: []User{{PrimarySMTP: "a@example.com"}}}
	data, err := s.encode(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, member := range []string{`"provisioning"`, `"folders"`, `"categories"`, `"provisionedAt"`} {
		if bytes.Contains(data, []byte(member)) {
			t.Errorf("encode(plan-less organization) has %s:\n%s", member, data)
		}
	}
	got, err := s.decodeOrgFile(data, "old", false)
	if err != nil || got.Provisioning != nil {
		t.Errorf("decodeOrgFile(plan-less record) = %+v, %v; want no plan, nil", got, err)
	}
	o.Provisioning = DefaultProvisioningPlan("CRM")
	if _, err := s.Create(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	back, err := s.Get(context.Background(), "old")
	if err != nil || back.Provisioning == nil || back.Provisioning.Folders[0].Key != "contacts" {
		t.Errorf("Get(record with plan) = %+v, %v; want the plan back", back, err)
	}
}
