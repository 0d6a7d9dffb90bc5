// Package ntlmserver is the server side of NTLMv2 authentication over HTTP,
// as IIS does it for Exchange's /EWS ([MS-NLMP], [MS-NTHT]). The client side
// is github.com/Azure/go-ntlmssp; this package lets a fake Exchange server
// (scctest) and our own tests verify real NTLMv2 responses: a wrong password
// fails.
//
// # Messages
//
// [Server.Challenge] parses a NEGOTIATE_MESSAGE and builds the
// CHALLENGE_MESSAGE: the flags Windows offers (UNICODE, REQUEST_TARGET,
// NTLM, ALWAYS_SIGN, TARGET_TYPE_DOMAIN, EXTENDED_SESSIONSECURITY,
// TARGET_INFO, VERSION, 128, 56, KEY_EXCH, SIGN, SEAL) intersected with the
// client's, a random 8-byte server challenge from [Config.Rand], and
// TargetInfo with NbDomainName, NbComputerName, DnsDomainName,
// DnsComputerName, DnsTreeName, Timestamp and EOL.
//
// [Handshake.Authenticate] parses the AUTHENTICATE_MESSAGE (every field read
// is bounds-checked: hostile input gives [ErrMalformedMessage], never a
// panic) and verifies it per [MS-NLMP] 3.2.5.1.2 and 3.3.2:
// NTOWFv2 = HMAC_MD5(MD4(UTF16LE(password)), UTF16LE(Uppercase(user) +
// domain)), NTProofStr = HMAC_MD5(NTOWFv2, ServerChallenge || temp),
// compared in constant time. NTLMv1 (24-byte responses), LM-only and
// anonymous logons are refused. When the client's echoed AV pairs carry
// MsvAvFlags 0x2 the MIC is checked with the ExportedSessionKey (the
// RC4-decrypted EncryptedRandomSessionKey under KEY_EXCH). An optional
// clock-skew window checks the client's timestamp.
//
// Like Windows, if the proof does not match with the domain the client
// sent, verification is retried with the domain uppercased and with an
// empty domain: clients differ in which domain string they hash.
//
// # Accounts
//
// [Config.Password] is called with the user and domain as the client sent
// them. go-ntlmssp (and Windows) send a DOMAIN\user logon as user "user",
// domain "DOMAIN", and a user@domain logon as user "user@domain" with an
// empty domain; resolve both to the same account if you accept both.
//
// # HTTP
//
// NTLM authenticates a TCP connection, not a request. [Server.ConnContext]
// gives each connection its state; install it as http.Server.ConnContext.
// [Server.Authenticate] then handles one request and returns a [Result]:
//
//   - Unauthenticated: no NTLM/Negotiate token and the connection is not
//     authenticated; the caller offers its schemes in a 401.
//   - ChallengeSent: the 401 with the CHALLENGE is written; the caller
//     returns.
//   - Authenticated: serve the request as Result.Identity.
//   - Failed: answer 401 with the caller's WWW-Authenticate list;
//     Result.Err says why, and a [*LogonError] (wrong password, unknown
//     account, ...) is what a caller counts for account lockout.
//
// The caller stays in control of which other schemes (Basic, Bearer) it
// offers, of lockout policy and of the 401 bodies. Both clients that
// re-send the body on every leg and clients that send a body-less request
// first are supported, and so are "NTLM" and "Negotiate" (raw NTLMSSP; the
// challenge echoes the client's word; SPNEGO tokens are refused with
// [ErrUnsupportedToken]). Tokens over HTTP/2 are refused ([ErrHTTP2]).
//
// The package holds no global state; a [Server] is safe for concurrent use.
package ntlmserver
