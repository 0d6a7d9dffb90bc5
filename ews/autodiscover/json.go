package autodiscover

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// jsonURL returns the Autodiscover v2 URL for email on host.
func jsonURL(host, email string) *url.URL {
	return &url.URL{
		Scheme:   "https",
		Host:     host,
		Path:     "/autodiscover/autodiscover.json/v1.0/" + email,
		RawQuery: "Protocol=EWS",
	}
}

// jsonAnswer is an Autodiscover v2 answer.
type jsonAnswer struct {
	Protocol     string `json:"Protocol"`
	URL          string `json:"Url"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

// parseJSON parses an Autodiscover v2 answer and returns the EWS URL.
func parseJSON(b []byte) (string, error) {
	var a jsonAnswer
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&a); err != nil {
		return "", fmt.Errorf("the answer is not an Autodiscover v2 JSON object: %s", shorten(err.Error()))
	}
	if dec.More() {
		return "", fmt.Errorf("the answer has data after its JSON object")
	}
	if a.ErrorCode != "" {
		return "", fmt.Errorf("Autodiscover v2 error %s: %s", shorten(a.ErrorCode), shorten(a.ErrorMessage))
	}
	if !strings.EqualFold(a.Protocol, "EWS") {
		return "", fmt.Errorf("the answer is for protocol %q, not EWS", shorten(a.Protocol))
	}
	if a.URL == "" {
		return "", fmt.Errorf("the answer has no Url")
	}
	return a.URL, nil
}
