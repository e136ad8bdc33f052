package keyschedule

import (
	"crypto/sha256"
	"fmt"
	"strings"
)

const labelCode = "parley/v1/code"

// Shape of the security code.
const (
	codeGroups      = 6
	codeGroupBytes  = 5      // a big-endian uint40 per group
	codeGroupModulo = 100000 // five decimal digits
)

// SecurityCode returns the security code of an epoch, which members compare
// out of band: equal codes mean the same chain, meeting, epoch, roster and
// key. With d = SHA-256("parley/v1/code" || ctx || key_commitment), group i
// (0 to 5) is the big-endian uint40 of d[5i:5i+5] mod 100000 as five
// zero-padded digits; the groups are joined by single spaces, for example
// "01234 56789 00042 99999 10000 31415".
func SecurityCode(c Context, commitment []byte) (string, error) {
	c, err := c.checked()
	if err != nil {
		return "", err
	}
	if len(commitment) != CommitmentSize {
		return "", fmt.Errorf("%w: key commitment is %d bytes, want %d", ErrInvalidArgument, len(commitment), CommitmentSize)
	}
	h := sha256.New()
	h.Write(c.labeled(labelCode))
	h.Write(commitment)
	d := h.Sum(nil)

	groups := make([]string, codeGroups)
	for i := range groups {
		var v uint64
		for _, b := range d[i*codeGroupBytes : (i+1)*codeGroupBytes] {
			v = v<<8 | uint64(b)
		}
		groups[i] = fmt.Sprintf("%05d", v%codeGroupModulo)
	}
	return strings.Join(groups, " "), nil
}
