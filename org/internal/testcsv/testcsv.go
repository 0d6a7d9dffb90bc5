// Package testcsv writes synthetic Get-Mailbox | Export-Csv files for org's
// benchmarks.
package testcsv

import (
	"fmt"
	"io"
)

// Write writes n mailboxes as Export-Csv does: a #TYPE line, a quoted header
// and quoted rows with DisplayName, PrimarySmtpAddress, UserPrincipalName and
// Sid, CRLF line ends, spread over a few domains.
func Write(w io.Writer, n int) error {
	if _, err := io.WriteString(w, "#TYPE Selected.Microsoft.Exchange.Data.Directory.Management.Mailbox\r\n"+
		`"DisplayName","PrimarySmtpAddress","UserPrincipalName","Sid"`+"\r\n"); err != nil {
		return err
	}
	domains := []string{"contoso.com", "fabrikam.com", "bücher.example", "northwindtraders.com"}
	for i := range n {
		d := domains[i%len(domains)]
		if _, err := fmt.Fprintf(w, "\"User %06d, Example\",\"user.%06d@%s\",\"user.%06d@corp.%s\",\"S-1-5-21-1493619105-1843311271-3936346804-%d\"\r\n",
			i, i, d, i, d, 1000+i); err != nil {
			return err
		}
	}
	return nil
}
