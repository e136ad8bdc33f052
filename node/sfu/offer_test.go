package sfu

import (
	"errors"
	"strings"
	"testing"
)

// sdpWith builds an offer of the given m-lines; each is "kind mid
// direction [extra attribute lines]".
func sdpWith(lines ...string) string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")
	for _, l := range lines {
		f := strings.Fields(l)
		kind, mid, dir := f[0], f[1], f[2]
		switch kind {
		case "application":
			b.WriteString("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:" + mid + "\r\n")
			continue
		case "audio":
			b.WriteString("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n")
		default:
			b.WriteString("m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n")
		}
		b.WriteString("a=mid:" + mid + "\r\na=" + dir + "\r\n")
		for _, extra := range f[3:] {
			b.WriteString("a=" + strings.ReplaceAll(extra, "_", " ") + "\r\n")
		}
	}
	return b.String()
}

func TestParseOffer(t *testing.T) {
	dc := "application 9 x"
	for _, tc := range []struct {
		name  string
		lines []string
		says  string // "" for a valid offer
	}{
		{"everything", []string{"audio pa sendonly", "video pv sendonly rid:q_send rid:h_send rid:f_send simulcast:send_q;h;f", "video ps sendonly", "audio ra0 recvonly", "audio ra1 recvonly", "video rv0 recvonly", "video rs0 recvonly", dc}, ""},
		{"only a data channel", []string{dc}, ""},
		{"no data channel", []string{"audio pa sendonly"}, "no data channel"},
		{"two data channels", []string{dc, "application 10 x"}, "more than one"},
		{"unknown mid", []string{"video cam sendonly", dc}, "unknown mid"},
		{"leading zero", []string{"video rv00 recvonly", dc}, "unknown mid"},
		{"audio on a video mid", []string{"audio pv sendonly", dc}, `want "video"`},
		{"slot that sends", []string{"video rv0 sendrecv", dc}, "want recvonly"},
		{"publisher that receives", []string{"audio pa recvonly", dc}, "want sendonly"},
		{"four audio slots", []string{"audio ra0 recvonly", "audio ra1 recvonly", "audio ra2 recvonly", "audio ra3 recvonly", dc}, "at most 3"},
		{"slot gap", []string{"video rv0 recvonly", "video rv2 recvonly", dc}, "rv2"},
		{"second screen slot", []string{"video rs1 recvonly", dc}, "unknown mid"},
		{"repeated mid", []string{"video rv0 recvonly", "video rv0 recvonly", dc}, "repeated"},
		{"simulcast on screen", []string{"video ps sendonly rid:q_send simulcast:send_q", dc}, "only on pv"},
		{"unknown RID", []string{"video pv sendonly rid:x_send simulcast:send_x", dc}, `"x"`},
		{"undeclared RID", []string{"video pv sendonly simulcast:send_q", dc}, "no a=rid"},
		{"receiving simulcast", []string{"video pv sendonly rid:q_recv simulcast:recv_q", dc}, "want send"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseOffer(sdpWith(tc.lines...))
			if tc.says == "" {
				if err != nil {
					t.Fatalf("parseOffer: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrBadOffer) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("parseOffer: %v; want ErrBadOffer saying %q", err, tc.says)
			}
		})
	}
}

func TestParseOfferShape(t *testing.T) {
	shape, err := parseOffer(sdpWith("audio pa sendonly", "video pv sendonly rid:q_send rid:f_send simulcast:send_q;f", "audio ra0 recvonly", "video rv0 recvonly", "video rv1 recvonly", "video rs0 recvonly", "application 9 x"))
	if err != nil {
		t.Fatal(err)
	}
	if !shape.publishes["pa"] || !shape.publishes["pv"] || shape.publishes["ps"] || shape.audioSlots != 1 || shape.videoSlots != 2 || !shape.screenSlot || strings.Join(shape.simulcast, ",") != "q,f" {
		t.Fatalf("shape %+v", shape)
	}
}

// FuzzParseOffer: nothing an offer says panics the parser, and what it
// accepts stays within the contract's limits.
func FuzzParseOffer(f *testing.F) {
	f.Add(sdpWith("audio pa sendonly", "video pv sendonly rid:q_send simulcast:send_q", "video rv0 recvonly", "application 9 x"))
	f.Add("v=0\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		shape, err := parseOffer(raw)
		if err != nil {
			if !errors.Is(err, ErrBadOffer) {
				t.Fatalf("error not ErrBadOffer: %v", err)
			}
			return
		}
		if shape.audioSlots > maxAudioSlots || shape.videoSlots > maxVideoSlots || len(shape.simulcast) > len(cameraRIDs) {
			t.Fatalf("accepted beyond the limits: %+v", shape)
		}
	})
}
