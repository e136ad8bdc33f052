package sfu

import (
	"testing"

	"github.com/pion/rtp/codecs"
)

func TestParseVP8(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload []byte
		want    vp8Desc
		ok      bool
	}{
		{"empty", nil, vp8Desc{}, false},
		{"minimal key frame", []byte{0x10, 0x00}, vp8Desc{size: 1, keyStart: true}, true},
		{"minimal interframe", []byte{0x10, 0x01}, vp8Desc{size: 1}, true},
		{"not partition 0", []byte{0x11, 0x00}, vp8Desc{size: 1}, true},
		{"continuation", []byte{0x00, 0x00}, vp8Desc{size: 1}, true},
		{"15-bit picture ID", []byte{0x90, 0x80, 0x81, 0x02, 0x00}, vp8Desc{size: 4, keyStart: true, picOff: 2, picBits: 15, pic: 0x102}, true},
		{"7-bit picture ID", []byte{0x90, 0x80, 0x05, 0x01}, vp8Desc{size: 3, picOff: 2, picBits: 7, pic: 5}, true},
		{"all fields", []byte{0x90, 0xf0, 0x80, 0x07, 0x2a, 0x40, 0x00}, vp8Desc{size: 6, keyStart: true, picOff: 2, picBits: 15, pic: 7, tl0Off: 4, tl0: 0x2a}, true},
		{"truncated picture ID", []byte{0x90, 0x80, 0x81}, vp8Desc{}, false},
		{"truncated TL0PICIDX", []byte{0x90, 0x40}, vp8Desc{}, false},
		{"truncated extension", []byte{0x80}, vp8Desc{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseVP8(tc.payload)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Fatalf("parseVP8 = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestPutPictureID(t *testing.T) {
	p := []byte{0x90, 0xc0, 0x81, 0x02, 0x09, 0xaa}
	d, _ := parseVP8(p)
	d.putPictureID(p, 0x7ffe)
	if got, _ := parseVP8(p); got.pic != 0x7ffe || p[4] != 0x09 || p[5] != 0xaa {
		t.Fatalf("after putPictureID: %x", p)
	}
	q := []byte{0x90, 0x80, 0x05, 0x01}
	d, _ = parseVP8(q)
	d.putPictureID(q, 0x7f)
	if got, _ := parseVP8(q); got.pic != 0x7f || got.picBits != 7 || q[3] != 0x01 {
		t.Fatalf("after putPictureID: %x", q)
	}
}

// FuzzParseVP8 holds parseVP8 to pion's VP8 depacketizer: where pion
// reads a descriptor, parseVP8 reads the same one.
func FuzzParseVP8(f *testing.F) {
	f.Add([]byte{0x90, 0xf0, 0x80, 0x07, 0x2a, 0x40, 0x00})
	f.Add([]byte{0x10, 0x00})
	f.Add([]byte{0x90, 0x80, 0x05, 0x01})
	f.Fuzz(func(t *testing.T, payload []byte) {
		d, ok := parseVP8(payload)
		if ok && (d.size < 1 || d.size > len(payload)) {
			t.Fatalf("size %d of %d bytes", d.size, len(payload))
		}
		var v codecs.VP8Packet
		body, err := v.Unmarshal(payload)
		if err != nil {
			return
		}
		if !ok {
			t.Fatalf("pion reads %x, parseVP8 does not", payload)
		}
		if d.size != len(payload)-len(body) {
			t.Fatalf("descriptor of %d bytes, pion says %d", d.size, len(payload)-len(body))
		}
		if v.I == 1 && d.pic != v.PictureID&0x7fff {
			t.Fatalf("PictureID %d, pion says %d", d.pic, v.PictureID)
		}
		if v.L == 1 && d.tl0 != v.TL0PICIDX {
			t.Fatalf("TL0PICIDX %d, pion says %d", d.tl0, v.TL0PICIDX)
		}
		if key := v.S == 1 && v.PID == 0 && len(body) > 0 && body[0]&1 == 0; key != d.keyStart {
			t.Fatalf("key frame %v, pion's fields say %v", d.keyStart, key)
		}
	})
}
