package scctest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// schemaFiles are the files Exchange serves beside Exchange.asmx, by
// lower-cased request path, with the file name the option looks for.
var schemaFiles = [...]struct{ path, file string }{
	{"/ews/services.wsdl", "services.wsdl"},
	{"/ews/messages.xsd", "messages.xsd"},
	{"/ews/types.xsd", "types.xsd"},
}

// WithSchemaDir makes the server serve Microsoft's EWS schema to
// authenticated clients as Exchange does: GET /EWS/Services.wsdl,
// /EWS/messages.xsd and /EWS/types.xsd (paths compared
// case-insensitively, as IIS does). dir must hold services.wsdl,
// messages.xsd and types.xsd (any letter case); they are read once, when
// the option is applied. scctest does not ship Microsoft's files; without
// this option those paths answer 404.
func WithSchemaDir(dir string) Option {
	return func(c *config) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("scctest: WithSchemaDir(%q): %w", dir, err)
		}
		byLower := map[string]string{}
		for _, e := range entries {
			if !e.IsDir() {
				byLower[strings.ToLower(e.Name())] = e.Name()
			}
		}
		files := map[string][]byte{}
		var missing []string
		for _, f := range schemaFiles {
			name, ok := byLower[f.file]
			if !ok {
				missing = append(missing, f.file)
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return fmt.Errorf("scctest: WithSchemaDir(%q): %w", dir, err)
			}
			files[f.path] = b
		}
		if len(missing) > 0 {
			return fmt.Errorf("scctest: WithSchemaDir(%q): the directory lacks %s (Microsoft's EWS schema files, e.g. ../shared/ews-schema)", dir, strings.Join(missing, ", "))
		}
		c.schema = files
		return nil
	}
}

// serveSchema answers a request for one of the schema files, after
// authentication; false means the path is not one of them (or no schema
// directory was given).
func (s *Server) serveSchema(w http.ResponseWriter, r *http.Request) bool {
	b, ok := s.cfg.schema[strings.ToLower(r.URL.Path)]
	if !ok {
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 - HTTP verb used to access this page is not allowed.", http.StatusMethodNotAllowed)
		return true
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(b)
	}
	return true
}
