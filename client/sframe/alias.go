package sframe

import "unsafe"

// grow extends in by n bytes, reusing its capacity when it can, and returns
// the extended slice and the n new bytes (the crypto/cipher idiom).
func grow(in []byte, n int) (ret, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		ret = in[:total]
	} else {
		ret = make([]byte, total, total+total/4)
		copy(ret, in)
	}
	return ret, ret[len(in):]
}

// growApart is grow that never hands back new bytes overlapping any of
// inputs: when dst's spare capacity lies over an input (a caller decrypting
// "in place"), it allocates instead. The frame layouts shift data by the
// header's length, and crypto/cipher panics on such inexact overlaps.
func growApart(dst []byte, n int, inputs ...[]byte) (ret, tail []byte) {
	ret, tail = grow(dst, n)
	for _, in := range inputs {
		if overlaps(tail, in) {
			ret = make([]byte, len(dst)+n)
			copy(ret, dst)
			return ret, ret[len(dst):]
		}
	}
	return ret, tail
}

// overlaps reports whether x and y share any byte of memory, as
// crypto/internal/alias.AnyOverlap does. unsafe is used only to compare
// addresses; nothing is read or written through them.
//
//nolint:gosec // G103: address comparison only.
func overlaps(x, y []byte) bool {
	return len(x) > 0 && len(y) > 0 &&
		uintptr(unsafe.Pointer(&x[0])) <= uintptr(unsafe.Pointer(&y[len(y)-1])) &&
		uintptr(unsafe.Pointer(&y[0])) <= uintptr(unsafe.Pointer(&x[len(x)-1]))
}
