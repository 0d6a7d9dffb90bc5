package ews_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

func userConfigCases() []opCase {
	cal := ews.DistinguishedFolder(ews.FolderCalendar)
	return []opCase{
		{"getuserconfiguration", "getuserconfiguration.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			uc, err := c.GetUserConfiguration(ctx, cal, ews.CategoryListName, ews.ConfigAll)
			must(t, err)
			if uc.Name != "CategoryList" || uc.FolderID.Distinguished != ews.FolderCalendar || uc.ItemID.ID != "AAMkCfg1=" {
				t.Errorf("GetUserConfiguration = %+v", uc)
			}
			wantDict := []ews.DictionaryEntry{{Key: ews.DictionaryObject{Type: "String", Values: []string{"Version"}}, Value: &ews.DictionaryObject{Type: "Integer32", Values: []string{"2"}}},
				{Key: ews.DictionaryObject{Type: "String", Values: []string{"Empty"}}}}
			if diff := cmp.Diff(wantDict, uc.Dictionary); diff != "" {
				t.Errorf("GetUserConfiguration dictionary (-want +got):\n%s", diff)
			}
			if !strings.Contains(string(uc.XMLData), `<category name="CRM" color="7"`) {
				t.Errorf("GetUserConfiguration XMLData = %q", uc.XMLData)
			}
		}},
		{"createuserconfiguration", "createuserconfiguration.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			must(t, c.CreateUserConfiguration(ctx, &ews.UserConfiguration{Name: "Scc.SyncState", FolderID: ews.DistinguishedFolder(ews.FolderRoot),
				Dictionary: []ews.DictionaryEntry{
					{Key: ews.DictionaryObject{Type: "String", Values: []string{"Watermark"}}, Value: &ews.DictionaryObject{Type: "String", Values: []string{"AQAAAA=="}}},
					{Key: ews.DictionaryObject{Type: "String", Values: []string{"Folders"}}, Value: &ews.DictionaryObject{Type: "StringArray", Values: []string{"inbox", "contacts"}}},
					{Key: ews.DictionaryObject{Type: "Integer32", Values: []string{"7"}}},
				},
				BinaryData: []byte{0, 1, 2}}))
		}},
		{"updateuserconfiguration", "updateuserconfiguration.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			must(t, c.UpdateUserConfiguration(ctx, &ews.UserConfiguration{Name: ews.CategoryListName, FolderID: cal, XMLData: []byte(`<?xml version="1.0"?><categories xmlns="CategoryList.xsd"/>`)}))
		}},
		{"deleteuserconfiguration", "deleteuserconfiguration.xml", func(t *testing.T, ctx context.Context, c *ews.Client) {
			must(t, c.DeleteUserConfiguration(ctx, ews.FolderID{ID: "AAMkFcal="}, "Scc.SyncState"))
		}},
	}
}

// sequence answers the n-th request with the n-th response file and fails
// the test on more requests.
func sequence(t *testing.T, files ...string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		if n >= len(files) {
			t.Errorf("request %d not expected", n+1)
			w.WriteHeader(500)
			return
		}
		soapReply(200, readTestdata(t, "responses/"+files[n]))(w, r, n)
	}
}

var xmlDataRE = regexp.MustCompile(`<t:XmlData>([^<]*)</t:XmlData>`)

// writtenList returns the categories of the CategoryList a request wrote.
func writtenList(t *testing.T, body []byte) (*ews.CategoryList, string) {
	t.Helper()
	m := xmlDataRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("request has no XmlData:\n%s", body)
	}
	data, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ews.ParseCategoryList(data)
	if err != nil {
		t.Fatalf("ParseCategoryList(written) = %v\n%s", err, data)
	}
	return l, string(data)
}

func TestEnsureCategories(t *testing.T) {
	ctx := context.Background()
	partner := ews.Category{Name: "Partner", Color: ews.CategoryColorGreen}
	t.Run("adds missing, keeps the rest", func(t *testing.T) {
		f := newFakeEWS(t, sequence(t, "getuserconfiguration.xml", "updateuserconfiguration.xml"))
		added, err := newClient(t, f).EnsureCategories(ctx, []ews.Category{{Name: "crm", Color: ews.CategoryColorRed}, partner})
		must(t, err)
		if len(added) != 1 || added[0].Name != "Partner" || !regexp.MustCompile(`^\{[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\}$`).MatchString(added[0].GUID) {
			t.Fatalf("EnsureCategories added %+v, want Partner with a fresh GUID", added)
		}
		reqs := f.Requests()
		if !containsBytes(reqs[1].Body, "<m:UpdateUserConfiguration>") {
			t.Fatalf("second request is not UpdateUserConfiguration:\n%s", reqs[1].Body)
		}
		l, raw := writtenList(t, reqs[1].Body)
		want := []ews.Category{
			{Name: "CRM", Color: 7, GUID: "{5a1e0c6b-2f3d-4b7a-9e61-0c8d4f2a7b13}"},
			{Name: "Red category", Color: 0, GUID: "{8a0e4a3c-1b2d-4e5f-8a9b-0c1d2e3f4a5b}"},
			{Name: "Partner", Color: 4, GUID: added[0].GUID},
		}
		if diff := cmp.Diff(want, l.Categories()); diff != "" {
			t.Errorf("written list (-want +got):\n%s", diff)
		}
		for _, keep := range []string{`usageCount="12"`, `lastSavedSession="2"`, `renameOnFirstUse="1"`, `xmlns="CategoryList.xsd"`} {
			if !strings.Contains(raw, keep) {
				t.Errorf("written list lost %s:\n%s", keep, raw)
			}
		}
	})
	t.Run("idempotent", func(t *testing.T) {
		f := newFakeEWS(t, sequence(t, "getuserconfiguration.xml"))
		added, err := newClient(t, f).EnsureCategories(ctx, []ews.Category{{Name: "CRM", Color: 3}})
		if err != nil || len(added) != 0 {
			t.Errorf("EnsureCategories(existing) = %v, %v; want nothing added", added, err)
		}
		if n := len(f.Requests()); n != 1 {
			t.Errorf("EnsureCategories(existing) sent %d requests, want 1 (no write)", n)
		}
	})
	t.Run("creates the list", func(t *testing.T) {
		f := newFakeEWS(t, sequence(t, "getuserconfiguration-ErrorItemNotFound.xml", "createuserconfiguration.xml"))
		added, err := newClient(t, f).EnsureCategories(ctx, []ews.Category{partner})
		if err != nil || len(added) != 1 {
			t.Fatalf("EnsureCategories(no list) = %v, %v", added, err)
		}
		body := f.Requests()[1].Body
		if !containsBytes(body, "<m:CreateUserConfiguration>") {
			t.Fatalf("second request is not CreateUserConfiguration:\n%s", body)
		}
		l, _ := writtenList(t, body)
		if got := l.Categories(); len(got) != 1 || got[0].Name != "Partner" || got[0].Color != 4 {
			t.Errorf("created list = %+v", got)
		}
	})
	t.Run("lost creation race", func(t *testing.T) {
		f := newFakeEWS(t, sequence(t, "getuserconfiguration-ErrorItemNotFound.xml", "createuserconfiguration-ErrorItemSave.xml",
			"getuserconfiguration.xml", "updateuserconfiguration.xml"))
		added, err := newClient(t, f).EnsureCategories(ctx, []ews.Category{partner})
		if err != nil || len(added) != 1 {
			t.Fatalf("EnsureCategories(race) = %v, %v", added, err)
		}
		l, _ := writtenList(t, f.Requests()[3].Body)
		if got := l.Categories(); len(got) != 3 {
			t.Errorf("list after race = %+v, want the other writer's two and Partner", got)
		}
	})
	t.Run("bad category", func(t *testing.T) {
		f := newFakeEWS(t, sequence(t, "getuserconfiguration.xml"))
		_, err := newClient(t, f).EnsureCategories(ctx, []ews.Category{{Name: "x", Color: 25}})
		if !errors.Is(err, ews.ErrInvalidRequest) || !strings.Contains(err.Error(), "outside -1..24") {
			t.Errorf("EnsureCategories(colour 25) = %v, want ErrInvalidRequest", err)
		}
	})
}

func TestParseCategoryList(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     []ews.Category
		err      string
	}{
		{"bom", "\xef\xbb\xbf<categories xmlns=\"CategoryList.xsd\"><category name=\"A\" color=\"x\"/></categories>", []ews.Category{{Name: "A", Color: -1}}, ""},
		{"empty", `<categories/>`, nil, ""},
		{"wrong root", `<list/>`, nil, "not <categories>"},
		{"broken", `<categories>`, nil, "ews: category list"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ews.ParseCategoryList([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseCategoryList(%q) = %v, want error %q", tt.in, err, tt.err)
				}
				return
			}
			must(t, err)
			if diff := cmp.Diff(tt.want, l.Categories()); diff != "" {
				t.Errorf("ParseCategoryList(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestUserConfigurationRefused(t *testing.T) {
	cal := ews.DistinguishedFolder(ews.FolderCalendar)
	for _, tt := range []struct {
		name string
		call func(context.Context, *ews.Client) error
		want string
	}{
		{"name chars", func(ctx context.Context, c *ews.Client) error {
			_, err := c.GetUserConfiguration(ctx, cal, "Category List", "")
			return err
		}, "only letters, digits and dots"},
		{"prefix", func(ctx context.Context, c *ews.Client) error {
			return c.DeleteUserConfiguration(ctx, cal, "IPM.Configuration.CategoryList")
		}, "must not start with IPM.Configuration"},
		{"property", func(ctx context.Context, c *ews.Client) error {
			_, err := c.GetUserConfiguration(ctx, cal, "CategoryList", "XmlData Everything")
			return err
		}, `"Everything"`},
		{"dictionary type", func(ctx context.Context, c *ews.Client) error {
			return c.CreateUserConfiguration(ctx, &ews.UserConfiguration{Name: "X", FolderID: cal, Dictionary: []ews.DictionaryEntry{{Key: ews.DictionaryObject{Type: "Text", Values: []string{"a"}}}}})
		}, `dictionary type "Text"`},
		{"dictionary arity", func(ctx context.Context, c *ews.Client) error {
			return c.CreateUserConfiguration(ctx, &ews.UserConfiguration{Name: "X", FolderID: cal, Dictionary: []ews.DictionaryEntry{{Key: ews.DictionaryObject{Type: "String"}}}})
		}, "needs exactly one value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, soapReply(500, nil))
			err := tt.call(context.Background(), newClient(t, f))
			if !errors.Is(err, ews.ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s = %v, want ErrInvalidRequest mentioning %q", tt.name, err, tt.want)
			}
			if n := len(f.Requests()); n != 0 {
				t.Errorf("%s sent %d requests, want 0", tt.name, n)
			}
		})
	}
}
