package call

import (
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// TestSDESInterceptor: the packets of a camera layer's stream carry mid pv
// and the layer's RID under the negotiated extension IDs; other streams,
// streams of a forgotten link and links that did not negotiate both
// extensions are left alone.
func TestSDESInterceptor(t *testing.T) {
	rids := &ssrcRIDs{}
	rids.put(7, "h")
	rids.put(8, "q")
	rids.forget([]uint32{8})
	both := []interceptor.RTPHeaderExtension{{URI: sdp.SDESMidURI, ID: 4}, {URI: sdp.SDESRTPStreamIDURI, ID: 9}}
	for _, tc := range []struct {
		name     string
		info     interceptor.StreamInfo
		mid, rid string
	}{
		{"camera layer", interceptor.StreamInfo{SSRC: 7, MimeType: "video/VP8", RTPHeaderExtensions: both}, "pv", "h"},
		{"another stream", interceptor.StreamInfo{SSRC: 6, MimeType: "video/VP8", RTPHeaderExtensions: both}, "", ""},
		{"forgotten link", interceptor.StreamInfo{SSRC: 8, MimeType: "video/VP8", RTPHeaderExtensions: both}, "", ""},
		{"audio", interceptor.StreamInfo{SSRC: 7, MimeType: "audio/opus", RTPHeaderExtensions: both}, "", ""},
		{"no RID extension", interceptor.StreamInfo{SSRC: 7, MimeType: "video/VP8", RTPHeaderExtensions: both[:1]}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, err := sdesFactory{rids: rids}.NewInterceptor("")
			if err != nil {
				t.Fatal(err)
			}
			var got *rtp.Header
			w := i.BindLocalStream(&tc.info, interceptor.RTPWriterFunc(func(h *rtp.Header, _ []byte, _ interceptor.Attributes) (int, error) {
				got = h
				return 0, nil
			}))
			if _, err := w.Write(&rtp.Header{Version: 2, SSRC: tc.info.SSRC}, []byte{1}, nil); err != nil {
				t.Fatal(err)
			}
			if mid, rid := string(got.GetExtension(4)), string(got.GetExtension(9)); mid != tc.mid || rid != tc.rid {
				t.Errorf("mid %q, rid %q; want %q, %q", mid, rid, tc.mid, tc.rid)
			}
		})
	}
}
