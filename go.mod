module github.com/sccsync/scc

go 1.24

require (
	github.com/Azure/go-ntlmssp v0.1.1
	github.com/beevik/etree v1.8.1
	github.com/google/go-cmp v0.7.0
	golang.org/x/net v0.38.0
	golang.org/x/sync v0.16.0
)

require golang.org/x/text v0.23.0
