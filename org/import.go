package org

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// ImportedRow is one input row that was added, merged or skipped.
type ImportedRow struct {
	Line    int    // CSV line (1-based), or position in the AddUsers slice (1-based)
	Address string // primary SMTP address as written
	Note    string // what happened, e.g. "filled UPN, SID" or "duplicate of line 4"
}

// nilOrgReason says why nothing can be added to a nil *Organization.
const nilOrgReason = "organization is nil; add users to an organization read from the store (or a new one)"

// RowError is one rejected input row.
type RowError struct {
	Line   int    // CSV line (1-based), or position in the AddUsers slice (1-based)
	Value  string // the row's address (or the raw row when it has none)
	Reason string // why it was rejected and what to fix
}

// Error returns "line N: Value: Reason".
func (e RowError) Error() string {
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Value, e.Reason)
}

// ImportResult says what a bulk add did with every row. Every row lands in
// exactly one list. Duplicates (by primary SMTP address, case-insensitive,
// internationalised domains normalised) are never doubled: a duplicate fills
// the existing user's empty UPN, SID and display name (Updated) or adds
// nothing (Skipped). A duplicate whose UPN or SID contradicts the existing
// user's is Rejected and changes nothing, and so is a row whose UPN or SID
// another user (already there or added earlier in the import) holds.
//
// An import never leaves users that [ValidateUsers] refuses: every row is
// checked by the same rules as [Organization.Validate], and what Validate
// would report is the row's RowError instead. Values quoted in a RowError
// are clipped to about 200 bytes.
type ImportResult struct {
	Added    []ImportedRow
	Updated  []ImportedRow
	Skipped  []ImportedRow
	Rejected []RowError
}

// String summarises the counts: "added 3, updated 1, skipped 2, rejected 1".
func (r ImportResult) String() string {
	return fmt.Sprintf("added %d, updated %d, skipped %d, rejected %d",
		len(r.Added), len(r.Updated), len(r.Skipped), len(r.Rejected))
}

// AddUsers adds users to o, merging duplicates (see [ImportResult]). Each
// user's address, UPN and SID are checked; bad ones are rejected with their
// 1-based position in users as Line. Fields are trimmed and addresses kept
// in their wire form (see [EmailAddress]); new users keep their
// ImpersonateBy and Sync. On a nil o every user is rejected.
func (o *Organization) AddUsers(users []User) ImportResult {
	if o == nil {
		var res ImportResult
		for i, u := range users {
			res.Rejected = append(res.Rejected, RowError{Line: i + 1, Value: u.PrimarySMTP, Reason: nilOrgReason})
		}
		return res
	}
	im := newImporter(o, len(users))
	for i, u := range users {
		im.add(i+1, u, u.PrimarySMTP)
	}
	return im.res
}

// ImportCSV adds the users of a CSV file as Exchange exports it
// (Get-Mailbox | Select-Object PrimarySmtpAddress,UserPrincipalName,DisplayName,Sid | Export-Csv),
// merging duplicates (see [ImportResult]).
//
// Accepted input: a header row naming PrimarySmtpAddress (or EmailAddress,
// WindowsEmailAddress, Mail), and optionally UserPrincipalName (UPN),
// DisplayName and Sid, in any order and any letter case, other columns
// ignored; or no header and one address per line. A leading "#TYPE ..."
// line, a UTF-8 or UTF-16 byte order mark, CRLF line ends, quoted fields and
// ';' or tab delimiters (Export-Csv -UseCulture) are handled. A field that
// is not valid UTF-8 is read as Windows-1252, the default encoding of
// Windows PowerShell 5.1's Export-Csv on Western European systems (so
// "Ren\xe9" is "René").
//
// Bad rows are listed in Rejected with their line number while good rows are
// imported. The error is non-nil when the input as a whole is unusable
// (empty, or without an address column; o is then unchanged) or when reading
// fails part-way (the rows read before are imported and listed).
func (o *Organization) ImportCSV(r io.Reader) (ImportResult, error) {
	if o == nil {
		return ImportResult{}, errors.New("org: ImportCSV: " + nilOrgReason)
	}
	if r == nil {
		return ImportResult{}, errors.New("org: ImportCSV: reader is nil; pass the CSV file to read")
	}
	br, err := utf8Input(r)
	if err != nil {
		return ImportResult{}, err
	}
	first, err := br.ReadString('\n')
	if err != nil && err != io.EOF {
		return ImportResult{}, fmt.Errorf("org: read CSV: %w", err)
	}
	lineOffset := 0
	if hasPrefixFold(first, "#TYPE") {
		lineOffset = 1
		if first, err = br.ReadString('\n'); err != nil && err != io.EOF {
			return ImportResult{}, fmt.Errorf("org: read CSV: %w", err)
		}
	}
	cr := csv.NewReader(io.MultiReader(strings.NewReader(first), br))
	cr.Comma = guessDelimiter(first)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	var cols csvColumns
	headerDone := false
	var im *importer
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if !headerDone {
				return ImportResult{}, fmt.Errorf("org: the CSV header on line %d cannot be read: %v", pe.StartLine+lineOffset, pe.Err)
			}
			im.res.Rejected = append(im.res.Rejected, RowError{
				Line: pe.StartLine + lineOffset, Value: "",
				Reason: fmt.Sprintf("the row cannot be read (%v); check its quotes", pe.Err),
			})
			continue
		}
		if err != nil {
			if im == nil {
				return ImportResult{}, fmt.Errorf("org: read CSV: %w", err)
			}
			return im.res, fmt.Errorf("org: read CSV after line %d: %w; the rows before it were imported", im.lastLine, err)
		}
		line, _ := cr.FieldPos(0)
		line += lineOffset
		if !headerDone {
			headerDone = true
			var isHeader bool
			cols, isHeader, err = parseHeader(rec)
			if err != nil {
				return ImportResult{}, err
			}
			im = newImporter(o, 0)
			if isHeader {
				continue
			}
		}
		if allEmpty(rec) {
			continue
		}
		u := User{
			PrimarySMTP: decodeField(cols.get(rec, cols.addr)),
			UPN:         decodeField(cols.get(rec, cols.upn)),
			DisplayName: decodeField(cols.get(rec, cols.display)),
			SID:         decodeField(cols.get(rec, cols.sid)),
		}
		value := u.PrimarySMTP
		if strings.TrimSpace(value) == "" {
			value = decodeField(strings.Join(rec, string(cr.Comma)))
		}
		im.add(line, u, value)
		im.lastLine = line
	}
	if im == nil {
		return ImportResult{}, errors.New("org: the CSV file is empty; export the mailboxes with Get-Mailbox | Export-Csv")
	}
	return im.res, nil
}

// utf8Input strips a UTF-8 byte order mark, or decodes UTF-16 (what
// PowerShell writes with -Encoding Unicode) when a UTF-16 mark is present.
func utf8Input(r io.Reader) (*bufio.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	bom, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(bom, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
	case bytes.HasPrefix(bom, []byte{0xFF, 0xFE}), bytes.HasPrefix(bom, []byte{0xFE, 0xFF}):
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, fmt.Errorf("org: read CSV: %w", err)
		}
		little := data[0] == 0xFF
		data = data[2:]
		if len(data)%2 != 0 {
			return nil, fmt.Errorf("org: read CSV: the file starts with a UTF-16 byte order mark but has an odd number of bytes (%d), so it is cut short or not UTF-16; export it again (Export-Csv -Encoding UTF8)", len(data)+2)
		}
		u := make([]uint16, len(data)/2)
		for i := range u {
			if little {
				u[i] = uint16(data[2*i]) | uint16(data[2*i+1])<<8
			} else {
				u[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
			}
		}
		var b []byte
		for _, r := range utf16.Decode(u) {
			b = utf8.AppendRune(b, r)
		}
		return bufio.NewReader(bytes.NewReader(b)), nil
	}
	return br, nil
}

// decodeField returns a CSV field as UTF-8: a field that is not valid UTF-8
// is taken as Windows-1252 (what Windows PowerShell 5.1's Export-Csv writes
// by default, -Encoding Default, on Western European systems; it is a
// superset of Latin-1), which decodes every byte. A file saved as UTF-8 has
// only valid fields and is not touched; the test is per field, so one
// stray byte does not re-decode the rest of a large file.
func decodeField(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out, err := charmap.Windows1252.NewDecoder().String(s)
	if err != nil {
		return s // cannot happen: Windows-1252 maps every byte
	}
	return out
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// guessDelimiter picks ',' unless the header line has more ';' or tabs
// outside quotes (Export-Csv -UseCulture in many European locales).
func guessDelimiter(line string) rune {
	counts := map[rune]int{}
	inQuote := false
	for _, r := range line {
		switch {
		case r == '"':
			inQuote = !inQuote
		case !inQuote && (r == ',' || r == ';' || r == '\t'):
			counts[r]++
		}
	}
	best := ','
	for _, r := range []rune{';', '\t'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}

// csvColumns holds column indexes (-1 when absent).
type csvColumns struct{ addr, upn, display, sid int }

func (c csvColumns) get(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return rec[i]
}

var headerAliases = map[string]string{
	"primarysmtpaddress":  "addr",
	"primarysmtp":         "addr",
	"emailaddress":        "addr",
	"email":               "addr",
	"mail":                "addr",
	"smtpaddress":         "addr",
	"windowsemailaddress": "addr",
	"userprincipalname":   "upn",
	"upn":                 "upn",
	"displayname":         "display",
	"sid":                 "sid",
	"securityidentifier":  "sid",
}

func normalizeHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.NewReplacer(" ", "", "_", "", "-", "").Replace(h)
}

// parseHeader recognises a header row, or decides the file has none (first
// field looks like an address: one address per line).
func parseHeader(rec []string) (csvColumns, bool, error) {
	cols := csvColumns{-1, -1, -1, -1}
	known := false
	for i, h := range rec {
		kind, ok := headerAliases[normalizeHeader(h)]
		if !ok {
			continue
		}
		known = true
		switch {
		case kind == "addr" && cols.addr < 0:
			cols.addr = i
		case kind == "upn" && cols.upn < 0:
			cols.upn = i
		case kind == "display" && cols.display < 0:
			cols.display = i
		case kind == "sid" && cols.sid < 0:
			cols.sid = i
		}
	}
	if known {
		if cols.addr < 0 {
			return cols, true, fmt.Errorf("org: the CSV has no PrimarySmtpAddress column (its columns: %s); export with Get-Mailbox | Select-Object PrimarySmtpAddress,UserPrincipalName,DisplayName,Sid | Export-Csv", shortList(rec))
		}
		return cols, true, nil
	}
	if len(rec) > 0 && strings.Contains(rec[0], "@") {
		return csvColumns{0, -1, -1, -1}, false, nil
	}
	return cols, false, fmt.Errorf("org: the first CSV line (%s) is neither a header with a PrimarySmtpAddress column nor an address; export with Get-Mailbox | Export-Csv or list one address per line", shortList(rec))
}

func shortList(rec []string) string {
	const max = 8
	parts := rec
	if len(parts) > max {
		parts = parts[:max]
	}
	s := make([]string, len(parts))
	for i, p := range parts {
		if len(p) > 40 {
			p = p[:40] + "…"
		}
		s[i] = strconv.Quote(p)
	}
	out := strings.Join(s, ", ")
	if len(rec) > max {
		out += ", …"
	}
	return out
}

func allEmpty(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// importer merges rows into an organization.
type importer struct {
	o      *Organization
	idx    *userIndex  // keys of o.Users, as Validate checks them
	lineOf map[int]int // index in o.Users -> line that added or last touched it in this import
	res    ImportResult
	// lastLine is the last CSV line handled, for error messages.
	lastLine int
}

func newImporter(o *Organization, hint int) *importer {
	im := &importer{o: o, idx: newUserIndex(len(o.Users) + hint), lineOf: map[int]int{}}
	for i, u := range o.Users {
		k, _ := checkUserRow(u, im.idx.cache)
		im.idx.add(k, i)
	}
	return im
}

// where names the user at index i of o.Users for a message.
func (im *importer) where(i int) string {
	if l, ok := im.lineOf[i]; ok {
		return "line " + strconv.Itoa(l)
	}
	return "a user already in the organization"
}

func (im *importer) reject(line int, value, reason string) {
	im.res.Rejected = append(im.res.Rejected, RowError{Line: line, Value: clip(strings.TrimSpace(value)), Reason: reason})
}

// rejectProblem rejects a row with a problem Validate would report, worded
// as a row's reason: the problem, and the fix where it says more than
// "correct the row".
func (im *importer) rejectProblem(line int, value string, p rowProblem) {
	r := strings.TrimSuffix(p.problem, ".")
	if errors.Is(p.err, ErrDuplicate) {
		r += "; " + strings.ToLower(p.fix[:1]) + strings.TrimSuffix(p.fix[1:], ".")
	}
	im.reject(line, value, r)
}

// add merges one row. It keeps the invariant that an import never makes the
// organization's users fail [ValidateUsers]: the row is checked by the same
// checkUserRow and userIndex as Validate, and a row whose address, UPN or SID
// another user holds is rejected rather than added or merged.
func (im *importer) add(line int, u User, value string) {
	u.PrimarySMTP = strings.TrimSpace(u.PrimarySMTP)
	u.UPN = strings.TrimSpace(u.UPN)
	u.SID = strings.TrimSpace(u.SID)
	u.DisplayName = strings.TrimSpace(u.DisplayName)
	if u.PrimarySMTP == "" {
		im.reject(line, value, "the primary SMTP address is empty")
		return
	}
	keys, problems := checkUserRow(u, im.idx.cache)
	if len(problems) > 0 {
		im.rejectProblem(line, value, problems[0])
		return
	}
	if !utf8.ValidString(u.DisplayName) {
		im.reject(line, value, "the display name is not valid UTF-8 text; save the file as UTF-8")
		return
	}
	// Store the canonical wire form (trimmed, NFC) of the address.
	u.PrimarySMTP = keys.addrShown
	u.SID = strings.ToUpper(u.SID)

	idx, exists := im.idx.byAddr[keys.addr]
	if !exists {
		if dups := im.idx.duplicates(keys, -1, im.where); len(dups) > 0 {
			im.rejectProblem(line, value, dups[0])
			return
		}
		n := len(im.o.Users)
		im.idx.add(keys, n)
		im.lineOf[n] = line
		im.o.Users = append(im.o.Users, u)
		im.res.Added = append(im.res.Added, ImportedRow{Line: line, Address: u.PrimarySMTP})
		return
	}

	cur := &im.o.Users[idx]
	where := im.where(idx)
	// Identity conflicts reject the row and change nothing.
	if u.UPN != "" && cur.UPN != "" && keys.upn != AddressKey(cur.UPN) {
		im.reject(line, value, fmt.Sprintf("same address as %s but a different UPN (%s, not %s); correct the row", where, clip(u.UPN), clip(cur.UPN)))
		return
	}
	if u.SID != "" && cur.SID != "" && !strings.EqualFold(u.SID, cur.SID) {
		im.reject(line, value, fmt.Sprintf("same address as %s but a different SID (%s, not %s); correct the row", where, clip(u.SID), clip(cur.SID)))
		return
	}
	// What would be filled must not belong to another user.
	fill := userKeys{upnShown: keys.upnShown, sidShown: keys.sidShown}
	if cur.UPN == "" {
		fill.upn = keys.upn
	}
	if cur.SID == "" {
		fill.sid = keys.sid
	}
	if dups := im.idx.duplicates(fill, idx, im.where); len(dups) > 0 {
		im.rejectProblem(line, value, dups[0])
		return
	}
	im.idx.add(fill, idx)
	var filled []string
	if u.UPN != "" && cur.UPN == "" {
		cur.UPN = u.UPN
		filled = append(filled, "UPN")
	}
	if u.SID != "" && cur.SID == "" {
		cur.SID = u.SID
		filled = append(filled, "SID")
	}
	if u.DisplayName != "" && cur.DisplayName == "" {
		cur.DisplayName = u.DisplayName
		filled = append(filled, "display name")
	}
	if u.ImpersonateBy != IdentityAuto && cur.ImpersonateBy == IdentityAuto {
		cur.ImpersonateBy = u.ImpersonateBy
		filled = append(filled, "identity kind")
	}
	if len(filled) > 0 {
		im.res.Updated = append(im.res.Updated, ImportedRow{Line: line, Address: u.PrimarySMTP,
			Note: "same address as " + where + "; filled " + strings.Join(filled, ", ")})
		return
	}
	note := "duplicate of " + where
	if u.DisplayName != "" && u.DisplayName != cur.DisplayName {
		note += fmt.Sprintf("; kept display name %q", clip(cur.DisplayName))
	}
	im.res.Skipped = append(im.res.Skipped, ImportedRow{Line: line, Address: u.PrimarySMTP, Note: note})
}

// maxValue bounds the input quoted back in a [RowError] or note: a
// malformed file can hold a field of megabytes.
const maxValue = 200

// clip shortens s to at most maxValue bytes (on a character boundary),
// marking the cut with "…".
func clip(s string) string {
	if len(s) <= maxValue {
		return s
	}
	cut := maxValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
