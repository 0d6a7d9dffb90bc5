package ntlmserver

import (
	"encoding/binary"
	"math/bits"
)

// md4 returns the MD4 digest of data (RFC 1320). NTLM needs it only for the
// NT hash of a password, NTOWFv1 = MD4(UTF16LE(password)); it is not a
// general-purpose hash and is deliberately not exported.
func md4(data []byte) [16]byte {
	a, b, c, d := uint32(0x67452301), uint32(0xefcdab89), uint32(0x98badcfe), uint32(0x10325476)

	// Padding: a 1 bit, zeros up to 56 mod 64 bytes, then the bit length
	// as a little-endian uint64.
	n := len(data)
	padded := make([]byte, (n+8)/64*64+64)
	copy(padded, data)
	padded[n] = 0x80
	binary.LittleEndian.PutUint64(padded[len(padded)-8:], uint64(n)*8)

	var x [16]uint32
	for off := 0; off < len(padded); off += 64 {
		for i := range x {
			x[i] = binary.LittleEndian.Uint32(padded[off+4*i:])
		}
		aa, bb, cc, dd := a, b, c, d

		// Round 1: F(x,y,z) = xy | ~x z.
		for _, i := range [4]int{0, 4, 8, 12} {
			a = bits.RotateLeft32(a+(b&c|^b&d)+x[i], 3)
			d = bits.RotateLeft32(d+(a&b|^a&c)+x[i+1], 7)
			c = bits.RotateLeft32(c+(d&a|^d&b)+x[i+2], 11)
			b = bits.RotateLeft32(b+(c&d|^c&a)+x[i+3], 19)
		}
		// Round 2: G(x,y,z) = xy | xz | yz, constant 0x5a827999.
		for _, i := range [4]int{0, 1, 2, 3} {
			a = bits.RotateLeft32(a+(b&c|b&d|c&d)+x[i]+0x5a827999, 3)
			d = bits.RotateLeft32(d+(a&b|a&c|b&c)+x[i+4]+0x5a827999, 5)
			c = bits.RotateLeft32(c+(d&a|d&b|a&b)+x[i+8]+0x5a827999, 9)
			b = bits.RotateLeft32(b+(c&d|c&a|d&a)+x[i+12]+0x5a827999, 13)
		}
		// Round 3: H(x,y,z) = x ^ y ^ z, constant 0x6ed9eba1.
		for _, i := range [4]int{0, 2, 1, 3} {
			a = bits.RotateLeft32(a+(b^c^d)+x[i]+0x6ed9eba1, 3)
			d = bits.RotateLeft32(d+(a^b^c)+x[i+8]+0x6ed9eba1, 9)
			c = bits.RotateLeft32(c+(d^a^b)+x[i+4]+0x6ed9eba1, 11)
			b = bits.RotateLeft32(b+(c^d^a)+x[i+12]+0x6ed9eba1, 15)
		}
		a += aa
		b += bb
		c += cc
		d += dd
	}

	var sum [16]byte
	binary.LittleEndian.PutUint32(sum[0:], a)
	binary.LittleEndian.PutUint32(sum[4:], b)
	binary.LittleEndian.PutUint32(sum[8:], c)
	binary.LittleEndian.PutUint32(sum[12:], d)
	return sum
}
