package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestRelayInTheBrowser: a meeting of five, more than the mesh carries
// (call.DefaultMeshLimit is 4), so the call moves to the node's media
// relay: alice and bob each in their own Chromium with their own
// `parley ui`, whose microphones play a steady tone, and carol, dave and
// erin as headless `parley call` bots that send video only. Through the
// relay, bob's page decrypts alice's camera and voice and carol's camera;
// each page's client verifies the other members' frame signatures and
// cuts no one; alice's page sends its camera in simulcast layers; every
// tile shows the slot whose frames the member's own key authenticated;
// the bots verify the pages' frame signatures and decrypt them. Then
// alice removes erin from her page, and the call goes on without erin.
func TestRelayInTheBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a chain with its media relay, two clients with browsers and three bots")
	}
	lc := startLocalnet(t, "parley-relay-page")
	tone := writeTone(t, 440, 0.3)
	open := func(name, account, device string) *browserPerson {
		home := lc.device(t, account, name, device)
		ui := lc.start(t, home, account, "ui", "--port", "0")
		var link string
		waitOK(t, 30*time.Second, name+"'s parley ui to print its link", func() bool {
			link = regexp.MustCompile(`http://127\.0\.0\.1:\d+/\?t=[0-9a-f]+`).FindString(ui.output())
			return link != ""
		})
		ctx, cancel := context.WithTimeout(browser(t, chromedp.Flag("use-file-for-fake-audio-capture", tone)), 7*time.Minute)
		t.Cleanup(cancel)
		p := &browserPerson{name: name, ui: ui, ctx: ctx}
		p.do(t, "sign in",
			chromedp.Navigate(link),
			chromedp.WaitVisible(`#signin`),
			chromedp.Poll(`document.querySelector('#device-select').value === '`+name+`/`+device+`'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
			chromedp.Click(`#signin-btn`),
			chromedp.WaitVisible(`#lobby`),
		)
		return p
	}
	alice, bob := open("alice", "alice", "browser"), open("bob", "bob", "laptop")
	poll := func(js string) chromedp.Action {
		return chromedp.Poll(js, nil, chromedp.WithPollingTimeout(2*time.Minute))
	}
	var meetingID string
	alice.do(t, "create a meeting that admits everyone who asks",
		chromedp.Evaluate(`document.querySelector('#admit-all').checked = true`, nil),
		chromedp.Click(`#create-btn`),
		chromedp.WaitVisible(`#call`),
		chromedp.Poll(`document.querySelector('#meeting-id').textContent.length === 32`, nil, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Text(`#meeting-id`, &meetingID),
	)
	bob.do(t, "join alice's meeting",
		chromedp.SetValue(`#invite-input`, meetingID),
		chromedp.Click(`#join-btn`),
		chromedp.WaitVisible(`#call`),
	)
	bots := map[string]*proc{}
	t.Cleanup(func() {
		if t.Failed() {
			for name, b := range bots {
				t.Logf("%s's parley call:\n%s", name, b.output())
			}
		}
	})
	for _, name := range []string{"carol", "dave", "erin"} {
		home, pay := "", []string{}
		if name == "erin" {
			// The localnet funds four accounts: erin's device pays with
			// its own, under the demo organisation's grant.
			home, pay = lc.grantedDevice(t, name, "phone")
		} else {
			home = lc.device(t, name, name, "phone")
		}
		account := name
		if name == "erin" {
			account = ""
		}
		args := append(pay, "call", meetingID, "--user", name, "--device", "phone", "--no-audio", "--duration", "6m", "--status-every", "1s")
		bots[name] = lc.start(t, home, account, args...)
	}

	onRelay := `(() => { const r = window.parley.relay(); return !!r && r.state === 'connected'; })()`
	alice.do(t, "move to the relay once five are in the call", poll(onRelay), poll(`document.querySelectorAll('#tiles .tile').length === 5`))
	// Once the relay carries everyone the mesh closes (make before
	// break): from then on what bob decrypts came through the relay,
	// alice's voice only because her page told the relay how loud it is.
	meshGone := `Object.values(window.parley.paths()).every((p) => !p)`
	bob.do(t, "move to the relay, the mesh closed", poll(onRelay), poll(meshGone))
	alice.do(t, "close her mesh", poll(meshGone))
	var base pageStats
	bob.do(t, "read what he decrypted so far", chromedp.Evaluate(`window.parley.stats()`, &base))
	baseAV, baseAA := base.decryptedFrom("alice/browser")
	baseCV, _ := base.decryptedFrom("carol/phone")
	var stats pageStats
	waitOK(t, 2*time.Minute, "bob's page to decrypt alice's camera and voice and carol's camera through the relay", func() bool {
		if err := chromedp.Run(bob.ctx, chromedp.Evaluate(`window.parley.stats()`, &stats)); err != nil {
			t.Fatal(err)
		}
		av, aa := stats.decryptedFrom("alice/browser")
		cv, _ := stats.decryptedFrom("carol/phone")
		return av >= baseAV+30 && aa >= baseAA+30 && cv >= baseCV+30
	})

	// Every relayed frame's sender signature checked by each page's
	// client, and no one cut; alice's camera goes out in layers.
	type relayInfo struct {
		Node     string    `json:"node"`
		State    string    `json:"state"`
		Layers   [3]uint64 `json:"layers"`
		Verified uint64    `json:"verified"`
		Cut      uint64    `json:"cut"`
		Held     uint64    `json:"held"`
	}
	var ra, rb relayInfo
	alice.do(t, "read her relay link", chromedp.Evaluate(`window.parley.relay()`, &ra))
	bob.do(t, "read his relay link", chromedp.Evaluate(`window.parley.relay()`, &rb))
	t.Logf("alice's relay link: %+v; bob's: %+v", ra, rb)
	for who, r := range map[string]relayInfo{"alice": ra, "bob": rb} {
		if r.Verified == 0 || r.Cut != 0 {
			t.Errorf("%s's client verified %d relayed frames' signatures and cut %d senders; want some verified and none cut", who, r.Verified, r.Cut)
		}
	}
	// Chromium chooses which of the three encodings it makes from its
	// own bandwidth estimate (seen here: all three, or q and f alone):
	// at least two must have gone to the relay.
	for who, r := range map[string]relayInfo{"alice": ra, "bob": rb} {
		sent := 0
		for _, n := range r.Layers {
			if n > 0 {
				sent++
			}
		}
		if sent < 2 {
			t.Errorf("%s's page sent camera layers q %d, h %d, f %d to the relay: want simulcast, at least two", who, r.Layers[0], r.Layers[1], r.Layers[2])
		}
	}
	var layers []struct {
		RID    string `json:"rid"`
		Active bool   `json:"active"`
	}
	alice.do(t, "read her camera's encodings", chromedp.Evaluate(`window.parley.layers()`, &layers))
	for _, l := range layers {
		if !l.Active {
			t.Errorf("on the relay alice's camera encoding %q is inactive: %+v", l.RID, layers)
		}
	}

	// Each tile shows the slot whose frames the member's own key
	// authenticated.
	for _, p := range []*browserPerson{alice, bob} {
		var tiles []struct {
			Tile  string `json:"tile"`
			Slot  int    `json:"slot"`
			Owner string `json:"owner"`
		}
		p.do(t, "read which slot each tile shows", chromedp.Evaluate(`window.parley.tileSlots()`, &tiles))
		shown := 0
		for _, tl := range tiles {
			if tl.Slot < 0 {
				continue
			}
			shown++
			if strings.TrimSuffix(tl.Tile, "#screen") != tl.Owner {
				t.Errorf("%s's tile of %s shows slot %d, whose frames are %q's", p.name, tl.Tile, tl.Slot, tl.Owner)
			}
		}
		if shown < 3 {
			t.Errorf("%s's page shows %d members' media: %+v", p.name, shown, tiles)
		}
	}
	var shot []byte
	bob.do(t, "screenshot the call on the relay", chromedp.CaptureScreenshot(&shot))
	saveArtifact(t, lc.root, "relay-call.png", shot)

	// The bots, on the relay too, verify the pages' signatures and decrypt
	// them.
	for name, b := range bots {
		waitOK(t, time.Minute, name+" to decrypt alice's and bob's frames through the relay, their signatures verified", func() bool {
			verified, cut, ok := relayLine(b.output())
			return ok && verified > 0 && cut == 0 && bobDecrypted(b.output(), "alice") >= 60 && bobDecrypted(b.output(), "bob") >= 60
		})
	}

	// alice removes erin from her page: erin's bot is told, and the others
	// go on in the new epoch through the relay.
	alice.do(t, "remove erin",
		poll(`!!document.querySelector('.tile[data-member="erin/phone"] button.remove')`),
		chromedp.Evaluate(`document.querySelector('.tile[data-member="erin/phone"] button.remove').click(), true`, nil),
	)
	waitOK(t, time.Minute, "erin's bot to be told it was removed", func() bool {
		return strings.Contains(bots["erin"].output(), "call over") && strings.Contains(bots["erin"].output(), "removed")
	})
	var ep int
	alice.do(t, "read the epoch without erin", chromedp.Evaluate(`window.parley.epoch()`, &ep))
	bob.do(t, "decrypt alice in the epoch without erin",
		poll(`window.parley.epoch() >= `+strconv.Itoa(ep)+` && !document.querySelector('.tile[data-member="erin/phone"]')`),
		chromedp.Evaluate(`window.parley.stats()`, &base))
	baseAV, _ = base.decryptedFrom("alice/browser")
	waitOK(t, time.Minute, "bob's page to decrypt alice after erin's removal", func() bool {
		if err := chromedp.Run(bob.ctx, chromedp.Evaluate(`window.parley.stats()`, &stats)); err != nil {
			t.Fatal(err)
		}
		av, _ := stats.decryptedFrom("alice/browser")
		return av >= baseAV+30
	})
}

// grantedDevice makes a device of user whose own account holds no tokens
// and registers it under the demo organisation's fee grant, as
// TestFirstRunCLI does; it returns the device's home and the flags that
// pay with the grant.
func (lc *localChain) grantedDevice(t *testing.T, user, device string) (string, []string) {
	t.Helper()
	home := filepath.Join(lc.home, user+"-"+device)
	lc.parley(t, home, "", "device", "init", "--user", user, "--device", device, "--unencrypted")
	acct := strings.TrimSpace(lc.parley(t, home, "", "device", "account", "--user", user, "--device", device))
	grant := lc.parley(t, home, "org", "org", "grant", acct, "--spend-limit", "1000000uparley", "--expires", "24h")
	m := regexp.MustCompile(`--fee-granter (\S+)`).FindStringSubmatch(grant)
	if m == nil {
		t.Fatalf("org grant printed no granter:\n%s", grant)
	}
	pay := []string{"--fee-granter", m[1]}
	lc.parley(t, home, "", append(pay, "identity", "register", "--user", user, "--device", device)...)
	return home, pay
}

// relayLine reads the last relay status line of a `parley call`: the
// frame signatures it verified and the senders it cut.
func relayLine(out string) (verified, cut int, ok bool) {
	for _, m := range regexp.MustCompile(`(?m)^\s+relay \S+ connected .*signatures verified (\d+) held \d+ cut (\d+)$`).FindAllStringSubmatch(out, -1) {
		verified, _ = strconv.Atoi(m[1])
		cut, _ = strconv.Atoi(m[2])
		ok = true
	}
	return verified, cut, ok
}

// writeTone writes two seconds of a sine tone (hz, amplitude 0..1) as a
// 48 kHz mono 16-bit WAV file, which Chromium loops as its fake
// microphone: a steady voice, which a relay forwards as one speaking.
func writeTone(t *testing.T, hz, amp float64) string {
	t.Helper()
	const rate = 48000
	var pcm bytes.Buffer
	for i := range 2 * rate {
		v := amp * math.Sin(2*math.Pi*hz*float64(i)/rate)
		_ = binary.Write(&pcm, binary.LittleEndian, int16(v*math.MaxInt16))
	}
	var w bytes.Buffer
	le := func(v any) { _ = binary.Write(&w, binary.LittleEndian, v) }
	w.WriteString("RIFF")
	le(uint32(36 + pcm.Len()))
	w.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1)) // PCM
	le(uint16(1)) // mono
	le(uint32(rate))
	le(uint32(rate * 2))
	le(uint16(2))
	le(uint16(16))
	w.WriteString("data")
	le(uint32(pcm.Len()))
	w.Write(pcm.Bytes())
	path := filepath.Join(t.TempDir(), "tone.wav")
	if err := os.WriteFile(path, w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
