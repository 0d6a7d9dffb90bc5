package mailbox

import (
	"html"
	"strings"

	xhtml "golang.org/x/net/html"
)

// HTMLToText converts an HTML body to plain text as a mail client shows
// it: tags dropped, script and style skipped, entities decoded, block
// elements and <br> as line breaks, runs of white space collapsed.
func HTMLToText(s string) string {
	z := xhtml.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	space := false
	nl := func() {
		out := b.String()
		if len(out) > 0 && !strings.HasSuffix(out, "\n") {
			b.WriteByte('\n')
		}
		space = false
	}
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return strings.TrimSpace(b.String())
		case xhtml.TextToken:
			if skip > 0 {
				continue
			}
			for _, f := range strings.Fields(string(z.Text())) {
				out := b.String()
				if space || (len(out) > 0 && !strings.HasSuffix(out, "\n") && !strings.HasSuffix(out, " ")) {
					if len(out) > 0 && !strings.HasSuffix(out, "\n") {
						b.WriteByte(' ')
					}
				}
				b.WriteString(f)
				space = false
			}
			if t := z.Text(); len(t) > 0 && (t[len(t)-1] == ' ' || t[len(t)-1] == '\n' || t[len(t)-1] == '\t') {
				space = true
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken, xhtml.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			tt := z.Token().Type
			switch tag {
			case "script", "style", "head", "title":
				if tt == xhtml.StartTagToken {
					skip++
				} else if tt == xhtml.EndTagToken && skip > 0 {
					skip--
				}
			case "br":
				b.WriteByte('\n')
				space = false
			case "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "pre", "hr":
				nl()
			}
		}
	}
}

// TextToHTML converts a plain text body to HTML as Exchange does when a
// client asks for an HTML body of a text item: escaped, line breaks as
// <br>, in a minimal document.
func TextToHTML(s string) string {
	esc := html.EscapeString(s)
	esc = strings.ReplaceAll(esc, "\r\n", "\n")
	esc = strings.ReplaceAll(esc, "\n", "<br>\r\n")
	return "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\n<div>" + esc + "</div>\r\n</body>\r\n</html>\r\n"
}

// BodyAs returns a body in the requested format (BodyType of an item
// shape; "Best" or "" keeps the stored one).
func BodyAs(b Body, want BodyType) Body {
	switch {
	case want == "" || want == "Best" || want == b.Type:
		return b
	case want == BodyText:
		return Body{Type: BodyText, Content: HTMLToText(b.Content)}
	case want == BodyHTML:
		return Body{Type: BodyHTML, Content: TextToHTML(b.Content)}
	}
	return b
}
