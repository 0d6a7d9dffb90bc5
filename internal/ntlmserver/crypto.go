package ntlmserver

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
)

// hmacMD5 returns HMAC_MD5(key, concatenation of parts).
func hmacMD5(key []byte, parts ...[]byte) []byte {
	mac := hmac.New(md5.New, key)
	for _, p := range parts {
		mac.Write(p)
	}
	return mac.Sum(nil)
}

// ntHash is NTOWFv1: MD4(UTF16LE(password)).
func ntHash(password string) [16]byte {
	return md4(encodeString(password, true))
}

// ntowfv2 is NTOWFv2 ([MS-NLMP] 3.3.2): HMAC_MD5(MD4(UTF16LE(password)),
// UTF16LE(Uppercase(user) + domain)). The domain is not uppercased.
func ntowfv2(password, user, domain string) []byte {
	h := ntHash(password)
	return hmacMD5(h[:], encodeString(upper(user)+domain, true))
}

// ntProofStr is HMAC_MD5(ResponseKeyNT, ServerChallenge || temp).
func ntProofStr(responseKeyNT, serverChallenge, temp []byte) []byte {
	return hmacMD5(responseKeyNT, serverChallenge, temp)
}

// exportedSessionKey derives the ExportedSessionKey of NTLMv2 from the
// response key and NTProofStr: SessionBaseKey = KeyExchangeKey =
// HMAC_MD5(ResponseKeyNT, NTProofStr), then RC4-decrypted
// EncryptedRandomSessionKey when NTLMSSP_NEGOTIATE_KEY_EXCH is set.
func exportedSessionKey(responseKeyNT, proof []byte, keyExch bool, encryptedRandomSessionKey []byte) ([]byte, error) {
	keyExchangeKey := hmacMD5(responseKeyNT, proof)
	if !keyExch || len(encryptedRandomSessionKey) == 0 {
		return keyExchangeKey, nil
	}
	c, err := rc4.NewCipher(keyExchangeKey)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(encryptedRandomSessionKey))
	c.XORKeyStream(out, encryptedRandomSessionKey)
	return out, nil
}
