package ews

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/beevik/etree"
)

// benchServer answers every request with a realistic GetFolder response of
// the inbox.
func benchServer(b *testing.B) (*Client, func()) {
	b.Helper()
	body, err := os.ReadFile("testdata/responses/getfolder-inbox.xml")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 4096)
		for {
			if _, err := r.Body.Read(buf); err != nil {
				break
			}
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write(body)
	}))
	c, err := NewClient(srv.URL+"/EWS/Exchange.asmx", WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	return c, srv.Close
}

// BenchmarkGetFolderImpersonated is one impersonated GetFolder round trip
// (build, send over loopback, parse), server included in the process.
func BenchmarkGetFolderImpersonated(b *testing.B) {
	c, stop := benchServer(b)
	defer stop()
	alice := c.With(Impersonate(PrimarySmtpAddress("alice@contoso.example")))
	inbox := DistinguishedFolder(FolderInbox)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := alice.Folder(ctx, inbox); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkGetFolderImpersonatedParallel runs the round trip from
// GOMAXPROCS goroutines, one impersonated view each.
func BenchmarkGetFolderImpersonatedParallel(b *testing.B) {
	c, stop := benchServer(b)
	defer stop()
	inbox := DistinguishedFolder(FolderInbox)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		alice := c.With(Impersonate(PrimarySmtpAddress("alice@contoso.example")))
		for pb.Next() {
			if _, err := alice.Folder(ctx, inbox); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkBuildParseGetFolder is the client's own cost of one impersonated
// GetFolder without HTTP: resolve options, build the envelope, interpret
// and parse the response.
func BenchmarkBuildParseGetFolder(b *testing.B) {
	body, err := os.ReadFile("testdata/responses/getfolder-inbox.xml")
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewClient("https://mail.contoso.example/EWS/Exchange.asmx")
	if err != nil {
		b.Fatal(err)
	}
	alice := c.With(Impersonate(PrimarySmtpAddress("alice@contoso.example")))
	req := &GetFolderRequest{FolderIDs: []FolderID{DistinguishedFolder(FolderInbox)}, Shape: ShapeDefault}
	hresp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o, err := alice.resolve(nil)
		if err != nil {
			b.Fatal(err)
		}
		payload, err := buildEnvelope(opGetFolder, envelopeHeader{version: c.cfg.version, sid: &o.sid}, func(e *etree.Element) error {
			g := e.CreateElement("m:GetFolder")
			if err := writeShape("GetFolder", g, "FolderShape", req.Shape, nil); err != nil {
				return err
			}
			return writeFolderIDs("GetFolder", "FolderIds", g, req.FolderIDs)
		})
		if err != nil || len(payload) == 0 {
			b.Fatal(err)
		}
		soap, err := c.interpret(context.Background(), opGetFolder, hresp, body)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := parseGetFolder(soap, 1)
		if err != nil || resp.Results[0].Folder.DisplayName != "Inbox" {
			b.Fatal(err)
		}
	}
}
