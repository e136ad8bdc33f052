package call_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/parleynet/parley/client/call"
	"github.com/parleynet/parley/client/keyschedule"
	"github.com/parleynet/parley/client/sframe"
)

func readFrames(t *testing.T, src call.Source, n int) ([][]byte, []time.Duration) {
	t.Helper()
	var frames [][]byte
	var durs []time.Duration
	for range n {
		f, d, err := src.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, append([]byte(nil), f...))
		durs = append(durs, d)
	}
	return frames, durs
}

func TestIVFSource(t *testing.T) {
	src, err := call.NewIVFSource("testdata/clip.ivf")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	frames, durs := readFrames(t, src, 130) // the clip has 60 frames
	if frames[0][0]&0x01 != 0 {
		t.Error("first frame is not a key frame")
	}
	for i, d := range durs {
		if d < 33*time.Millisecond || d > 34*time.Millisecond {
			t.Fatalf("frame %d lasts %v, want 1/30 s", i, d)
		}
	}
	if !bytes.Equal(frames[0], frames[60]) || !bytes.Equal(frames[61], frames[121]) {
		t.Error("the source does not loop after 60 frames")
	}
	if _, err := call.NewIVFSource("testdata/clip.ogg"); !errors.Is(err, call.ErrUnsupportedMedia) {
		t.Errorf("Ogg as IVF: %v, want ErrUnsupportedMedia", err)
	}
}

func TestOggSource(t *testing.T) {
	src, err := call.NewOggSource("testdata/clip.ogg")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	frames, durs := readFrames(t, src, 250) // the clip has about 100 packets
	for i, d := range durs {
		if d != 20*time.Millisecond {
			t.Fatalf("packet %d lasts %v, want 20 ms", i, d)
		}
	}
	if !bytes.Equal(frames[0], frames[findRepeat(t, frames)]) {
		t.Error("the source does not loop")
	}

	multi, err := call.NewOggSource("testdata/multipacket.ogg")
	if err != nil {
		t.Fatal(err)
	}
	defer multi.Close()
	var readErr error
	for range 30 {
		if _, _, readErr = multi.ReadFrame(); readErr != nil {
			break
		}
	}
	if !errors.Is(readErr, call.ErrUnsupportedMedia) {
		t.Errorf("pages of several packets: %v, want ErrUnsupportedMedia", readErr)
	}
}

// findRepeat returns the index where frames start again from frames[0].
func findRepeat(t *testing.T, frames [][]byte) int {
	t.Helper()
	for i := 1; i+1 < len(frames); i++ {
		if bytes.Equal(frames[i], frames[0]) && bytes.Equal(frames[i+1], frames[1]) {
			return i
		}
	}
	t.Fatal("no repeat")
	return 0
}

func TestSyntheticSource(t *testing.T) {
	v, err := call.NewSyntheticSource(call.Video, 2_500_000, 30)
	if err != nil {
		t.Fatal(err)
	}
	frames, durs := readFrames(t, v, 31)
	for i, f := range frames {
		key := i%30 == 0
		if len(f) != 2_500_000/8/30 || durs[i] != time.Second/30 || (f[0]&0x01 == 0) != key {
			t.Fatalf("video frame %d: %d bytes, %v, tag %#x", i, len(f), durs[i], f[0])
		}
		if key && !bytes.Equal(f[3:6], []byte{0x9d, 0x01, 0x2a}) {
			t.Fatalf("key frame %d has no start code", i)
		}
	}
	a, err := call.NewSyntheticSource(call.Audio, 48_000, 50)
	if err != nil {
		t.Fatal(err)
	}
	frames, durs = readFrames(t, a, 2)
	if len(frames[0]) != 120 || durs[0] != 20*time.Millisecond || frames[0][0] != 0xfc {
		t.Fatalf("audio frame: %d bytes, %v, TOC %#x", len(frames[0]), durs[0], frames[0][0])
	}
	if _, err := call.NewSyntheticSource(call.Audio, 48_000, 30); !errors.Is(err, call.ErrInvalidConfig) {
		t.Errorf("30 fps audio: %v, want ErrInvalidConfig", err)
	}
}

func TestFileSinks(t *testing.T) {
	dir := t.TempDir()
	sinks := call.FileSinks(dir)
	from := call.Member{UserID: "bob", DeviceID: "phone/1"}

	vsrc, err := call.NewIVFSource("testdata/clip.ivf")
	if err != nil {
		t.Fatal(err)
	}
	defer vsrc.Close()
	video, _ := readFrames(t, vsrc, 60)
	vs, err := sinks(from, call.Video)
	if err != nil {
		t.Fatal(err)
	}
	// A delta frame before the first key frame is skipped.
	if err := vs.WriteFrame(call.Frame{Data: video[5], Timestamp: 0}); err != nil {
		t.Fatal(err)
	}
	for i, f := range video {
		if err := vs.WriteFrame(call.Frame{Data: f, Timestamp: uint32(1000 + i*3000)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := vs.Close(); err != nil {
		t.Fatal(err)
	}

	asrc, err := call.NewOggSource("testdata/clip.ogg")
	if err != nil {
		t.Fatal(err)
	}
	defer asrc.Close()
	audio, _ := readFrames(t, asrc, 50)
	as, err := sinks(from, call.Audio)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range audio {
		if err := as.WriteFrame(call.Frame{Data: f, Timestamp: uint32(i * 960)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := as.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(filepath.Join(dir, "bob_phone_1_1.ivf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, h, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	if h.Width != 320 || h.Height != 240 || h.NumFrames != 60 {
		t.Errorf("IVF header %dx%d, %d frames; want 320x240, 60", h.Width, h.Height, h.NumFrames)
	}
	for i := range video {
		got, _, err := r.ParseNextFrame()
		if err != nil || !bytes.Equal(got, video[i]) {
			t.Fatalf("IVF frame %d differs (%v)", i, err)
		}
	}

	g, err := os.Open(filepath.Join(dir, "bob_phone_1_2.ogg"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	or, _, err := oggreader.NewWith(g)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for {
		page, _, err := or.ParseNextPage()
		if err != nil {
			break
		}
		if len(page) > 0 && !bytes.HasPrefix(page, []byte("OpusTags")) {
			got = append(got, page)
		}
	}
	if len(got) != len(audio) {
		t.Fatalf("Ogg has %d packets, want %d", len(got), len(audio))
	}
	for i := range got {
		if !bytes.Equal(got[i], audio[i]) {
			t.Fatalf("Ogg packet %d differs", i)
		}
	}
}

// TestClearPrefixThroughRTP checks that an SFrame-encrypted frame keeps
// its codec header readable and survives pion's packetizer and
// depacketizer byte for byte.
func TestClearPrefixThroughRTP(t *testing.T) {
	mk := keyschedule.NewMeetingKey()
	snd, _ := sframe.NewSender()
	rcv, _ := sframe.NewKeyring()
	if err := snd.SetEpoch(1, mk, 0); err != nil {
		t.Fatal(err)
	}
	if err := rcv.SetEpoch(1, mk, 1); err != nil {
		t.Fatal(err)
	}
	vsrc, err := call.NewIVFSource("testdata/clip.ivf")
	if err != nil {
		t.Fatal(err)
	}
	defer vsrc.Close()
	video, _ := readFrames(t, vsrc, 2)
	asrc, err := call.NewOggSource("testdata/clip.ogg")
	if err != nil {
		t.Fatal(err)
	}
	defer asrc.Close()
	audio, _ := readFrames(t, asrc, 1)

	for _, tc := range []struct {
		name   string
		codec  sframe.Codec
		frame  []byte
		prefix int
		pay    interface{ Payload(uint16, []byte) [][]byte }
		unpack func([]byte) ([]byte, error)
	}{
		{"VP8 key frame", sframe.CodecVP8, video[0], 10, &codecs.VP8Payloader{EnablePictureID: true}, func(b []byte) ([]byte, error) { return (&codecs.VP8Packet{}).Unmarshal(b) }},
		{"VP8 delta frame", sframe.CodecVP8, video[1], 3, &codecs.VP8Payloader{EnablePictureID: true}, func(b []byte) ([]byte, error) { return (&codecs.VP8Packet{}).Unmarshal(b) }},
		{"Opus", sframe.CodecOpus, audio[0], 1, &codecs.OpusPayloader{}, func(b []byte) ([]byte, error) { return (&codecs.OpusPacket{}).Unmarshal(b) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := snd.Encrypt(nil, tc.codec, tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc[:tc.prefix], tc.frame[:tc.prefix]) || bytes.Equal(enc[tc.prefix:tc.prefix+8], tc.frame[tc.prefix:tc.prefix+8]) {
				t.Fatalf("clear prefix wrong: frame %x…, encrypted %x…", tc.frame[:tc.prefix+8], enc[:tc.prefix+8])
			}
			var joined []byte
			for _, p := range tc.pay.Payload(1200, enc) {
				b, err := tc.unpack(p)
				if err != nil {
					t.Fatal(err)
				}
				joined = append(joined, b...)
			}
			if !bytes.Equal(joined, enc) {
				t.Fatal("packetizing changed the frame")
			}
			dec, err := rcv.Decrypt(nil, tc.codec, joined)
			if err != nil || !bytes.Equal(dec, tc.frame) {
				t.Fatalf("decrypted frame differs: %v", err)
			}
		})
	}
}
