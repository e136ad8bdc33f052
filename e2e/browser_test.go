package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian's chromium package puts the browser;
// scripts/install-chromium.sh installs it (make test runs that first).
const chromiumPath = "/usr/bin/chromium"

// chain is a localnet process for one test, with the parley environment
// that points at it.
type localChain struct {
	root, home string
	env        []string
}

func startLocalnet(t *testing.T, chainID string) *localChain {
	t.Helper()
	root := repoRoot(t)
	run(t, root, nil, "make", "build")
	home := t.TempDir()
	env := append(os.Environ(), goEnv(t)...)
	env = append(env, "LOCALNET_HOME="+filepath.Join(home, "chain"), "LOCALNET_PORT_BASE="+itoa(freePortBase(t)), "CHAIN_ID="+chainID)
	run(t, root, env, "scripts/localnet.sh", "start")
	t.Cleanup(func() { _ = command(root, env, "scripts/localnet.sh", "stop").Run() })
	out := run(t, root, env, "scripts/localnet.sh", "env")
	lc := &localChain{root: root, home: home, env: env}
	for _, m := range regexp.MustCompile(`(?m)^export (PARLEY_\w+)=(\S+)$`).FindAllStringSubmatch(out, -1) {
		lc.env = append(lc.env, m[1]+"="+m[2])
	}
	// The test trusts the validator it started: the anchor from a client
	// home of its own, passed to every client as PARLEY_TRUST.
	trustHome := filepath.Join(home, "trust")
	run(t, root, lc.env, filepath.Join(root, "build/parley"), "--home", trustHome, "trust", "init", "--yes")
	anchor := strings.TrimSpace(run(t, root, lc.env, filepath.Join(root, "build/parley"), "--home", trustHome, "trust", "show", "--anchor"))
	lc.env = append(lc.env, "PARLEY_TRUST="+anchor)
	return lc
}

func command(dir string, env []string, name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Dir, c.Env = dir, env
	return c
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	if env == nil {
		env = append(os.Environ(), goEnv(t)...)
	}
	out, err := command(dir, env, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// parley runs the client binary with its own home and paying account.
func (lc *localChain) parley(t *testing.T, clientHome, account string, args ...string) string {
	t.Helper()
	return run(t, lc.root, lc.env, filepath.Join(lc.root, "build/parley"), append([]string{"--home", clientHome, "--from", account}, args...)...)
}

// device makes and registers a device key (unencrypted: a test has no
// person to type a passphrase).
func (lc *localChain) device(t *testing.T, account, user, device string) string {
	t.Helper()
	h := filepath.Join(lc.home, user+"-"+device)
	lc.parley(t, h, account, "device", "init", "--user", user, "--device", device, "--unencrypted")
	lc.parley(t, h, account, "identity", "register", "--user", user, "--device", device)
	return h
}

// proc is a background process whose output is kept.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (lc *localChain) start(t *testing.T, clientHome, account string, args ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan error, 1)}
	p.cmd = command(lc.root, lc.env, filepath.Join(lc.root, "build/parley"), append([]string{"--home", clientHome, "--from", account}, args...)...)
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			p.mu.Lock()
			p.out.WriteString(s.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	go func() { err := p.cmd.Wait(); _ = w.Close(); p.done <- err }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
		}
	})
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func waitOK(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// browser starts headless Chromium with a fake camera and microphone;
// extra adds flags.
func browser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: run scripts/install-chromium.sh (make test does)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	}
	opts = append(opts, extra...)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancel2)
	return ctx
}

// pageStats is what window.parley.stats() returns.
type pageStats struct {
	Encrypted  int64 `json:"encrypted"`
	VideoShown int64 `json:"videoShown"`
	Slots      []struct {
		Member     string `json:"member"`
		Video      int64  `json:"video"`
		Audio      int64  `json:"audio"`
		AuthFailed int64  `json:"authFailed"`
		NoKey      int64  `json:"noKey"`
	} `json:"slots"`
}

// decryptedFrom returns how many of member's video and audio frames the
// page decrypted.
func (s pageStats) decryptedFrom(member string) (video, audio int64) {
	for _, sl := range s.Slots {
		if sl.Member == member {
			video += sl.Video
			audio += sl.Audio
		}
	}
	return video, audio
}

// bobDecrypted reads the last count of frames the headless participant
// decrypted from the browser participant, from its status lines.
func bobDecrypted(out, peer string) int {
	n := 0
	for _, m := range regexp.MustCompile(`(?m)^\s+`+regexp.QuoteMeta(peer)+`\s.*decrypted\s+(\d+)`).FindAllStringSubmatch(out, -1) {
		n, _ = strconv.Atoi(m[1])
	}
	return n
}

// TestBrowserCall: alice joins from headless Chromium through `parley ui`,
// bob from a headless `parley call`; each decrypts the other's frames;
// alice (the leader) removes bob from the page, and the page shows it.
// The meeting has a passcode, which bob proves to the page's client.
// Bad input on the way: a malformed invite and a meeting that does not
// exist each give a clear message. A screenshot of the call is saved in
// build/test-artifacts/.
func TestBrowserCall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a chain, a browser and a call")
	}
	lc := startLocalnet(t, "parley-browser")
	aliceHome := lc.device(t, "alice", "alice", "browser")
	bobHome := lc.device(t, "bob", "bob", "phone")

	ui := lc.start(t, aliceHome, "alice", "ui", "--port", "0")
	var url string
	waitOK(t, 30*time.Second, "parley ui to print its link", func() bool {
		m := regexp.MustCompile(`http://127\.0\.0\.1:\d+/\?t=[0-9a-f]+`).FindString(ui.output())
		url = m
		return m != ""
	})

	ctx := browser(t)
	ctx, cancel := context.WithTimeout(ctx, 8*time.Minute)
	defer cancel()
	must := func(what string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			t.Fatalf("%s: %v\nparley ui:\n%s", what, err, ui.output())
		}
	}
	noticeWith := func(text string) chromedp.Action {
		return chromedp.Poll(fmt.Sprintf(`[...document.querySelectorAll('.notice')].some(n => n.textContent.includes(%q))`, text), nil, chromedp.WithPollingTimeout(30*time.Second))
	}

	must("sign in",
		chromedp.Navigate(url),
		chromedp.WaitVisible(`#signin`),
		chromedp.Poll(`document.querySelector('#device-select').value === 'alice/browser'`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Click(`#signin-btn`),
		chromedp.WaitVisible(`#lobby`),
	)
	must("a malformed invite link",
		chromedp.SendKeys(`#invite-input`, "parley:join?chain=parley-browser&meeting=xyz"),
		chromedp.Click(`#join-btn`),
		noticeWith(`want 32 hex digits`),
	)
	must("a meeting that does not exist",
		chromedp.SetValue(`#invite-input`, strings.Repeat("0", 32)),
		chromedp.Click(`#join-btn`),
		noticeWith(`no meeting 00000000000000000000000000000000`),
	)
	var meetingID string
	must("create a meeting with a passcode",
		chromedp.SendKeys(`#create-passcode`, "correct horse"),
		chromedp.Click(`#create-btn`),
		chromedp.WaitVisible(`#call`),
		chromedp.Poll(`document.querySelector('#meeting-id').textContent.length === 32`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Text(`#meeting-id`, &meetingID),
		// The lobby's mistakes stay in the lobby.
		chromedp.Poll(`![...document.querySelectorAll('.notice')].some(n => n.textContent.includes('no meeting 0000') || n.textContent.includes('32 hex digits'))`, nil, chromedp.WithPollingTimeout(5*time.Second)),
	)
	t.Logf("meeting %s", meetingID)

	media := filepath.Join(lc.root, "client/call/testdata")
	// bob records what he decrypts (--record): the page must be told.
	bob := lc.start(t, bobHome, "bob", "call", meetingID, "--user", "bob", "--device", "phone", "--passcode", "correct horse",
		"--video", filepath.Join(media, "clip.ivf"), "--audio", filepath.Join(media, "clip.ogg"), "--duration", "3m",
		"--record", t.TempDir())
	must("admit bob from the page",
		chromedp.WaitVisible(`button.admit[data-member="bob/phone"]`),
		noticeWith(`bob/phone asks to join`), // the host is told, with a tone
		// Clicked in the page: the list is drawn again every second, and a
		// node found by one call may be gone by the next (chromedp.Click
		// then fails with "Could not find node with given id").
		chromedp.Evaluate(`document.querySelector('button.admit[data-member="bob/phone"]').click()`, nil),
	)

	var stats pageStats
	waitOK(t, 90*time.Second, "the page and bob to decrypt each other's frames", func() bool {
		if err := chromedp.Run(ctx, chromedp.Evaluate(`window.parley.stats()`, &stats)); err != nil {
			t.Fatal(err)
		}
		v, a := stats.decryptedFrom("bob/phone")
		return v >= 30 && a >= 30 && stats.VideoShown > 0 && bobDecrypted(bob.output(), "alice") >= 30
	})
	v, a := stats.decryptedFrom("bob/phone")
	t.Logf("page decrypted %d video and %d audio frames of bob and rendered %d; it encrypted %d; bob decrypted %d of alice's",
		v, a, stats.VideoShown, stats.Encrypted, bobDecrypted(bob.output(), "alice"))
	var code string
	must("the security code is shown",
		chromedp.Text(`#code`, &code),
	)
	// The marks are drawn, not typed: a check mark or warning glyph shows
	// as an empty box where the system's fonts lack it.
	var glyphs bool
	must("the verified marks are icons",
		chromedp.Poll(`document.querySelectorAll('.tile .verified svg.icon').length === 2`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`/[\u2600-\u27bf]/.test(document.body.innerText)`, &glyphs),
	)
	if glyphs {
		t.Errorf("the page shows symbol glyphs (U+2600–U+27BF) that a system font may lack")
	}
	if !regexp.MustCompile(`^\d{5}( \d{5}){5}$`).MatchString(code) {
		t.Errorf("security code on the page: %q", code)
	}
	if !strings.Contains(bob.output(), code) {
		t.Errorf("bob printed no security code %q:\n%s", code, bob.output())
	}
	// In-call messages between the page and the CLI: bob's recording
	// notice on the page (banner and badge), and chat lines from the page
	// printed by bob's client with their proven sender, escaped: a member
	// cannot write control sequences to another's terminal.
	must("the page shows that bob records, and sends him lines",
		chromedp.Poll(`window.parley.recorders().includes('bob/phone') && !!document.querySelector('.tile[data-member="bob/phone"] .badge.rec') && document.querySelector('#rec-banner').textContent.includes('bob/phone is recording this call')`,
			nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.SetValue(`#chat-input`, "\u001b[2J"),
		chromedp.Evaluate(`document.querySelector("#chat-form").requestSubmit(), true`, nil), // Enter, as people send a line
		chromedp.SetValue(`#chat-input`, "Hello bob, can you see me?"),
		chromedp.Evaluate(`document.querySelector("#chat-form").requestSubmit(), true`, nil),
	)
	waitOK(t, 20*time.Second, "bob's client to print the page's chat lines", func() bool {
		out := bob.output()
		return strings.Contains(out, `chat from alice/browser: "\x1b[2J"`) && strings.Contains(out, `chat from alice/browser: "Hello bob, can you see me?"`)
	})
	// The first line, on the page, is text; the screenshot shows the second.
	must("clear the first line from the page's log", chromedp.Evaluate(`document.querySelector('#chat-log li').remove(), true`, nil))
	time.Sleep(2 * time.Second) // let the tiles show a few seconds of video
	var png []byte
	must("screenshot", chromedp.FullScreenshot(&png, 100))
	dir := filepath.Join(lc.root, "build", "test-artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "browser-call.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
	phoneWidth(t, ctx, "the call", filepath.Join(dir, "browser-call-phone.png"))

	var epochBefore int
	must("read the epoch", chromedp.Evaluate(`window.parley.epoch()`, &epochBefore))
	must("remove bob from the page",
		chromedp.WaitVisible(`.tile[data-member="bob/phone"] button.remove`),
		chromedp.Evaluate(`document.querySelector('.tile[data-member="bob/phone"] button.remove').click()`, nil),
		chromedp.Poll(fmt.Sprintf(`window.parley.epoch() > %d && !document.querySelector('.tile[data-member="bob/phone"]')`, epochBefore), nil, chromedp.WithPollingTimeout(30*time.Second)),
	)
	select {
	case <-bob.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("bob's call did not end after the removal:\n%s", bob.output())
	}
	if !strings.Contains(bob.output(), "no longer in the meeting's roster") {
		t.Errorf("bob's call did not end with the removal:\n%s", bob.output())
	}
	var tiles int
	must("count tiles", chromedp.Evaluate(`document.querySelectorAll('.tile').length`, &tiles))
	if tiles != 1 {
		t.Errorf("after the removal the page shows %d tiles, want only alice's", tiles)
	}

	// bob asks again; alice lets him back in from the page, and his video
	// plays in her page again: his tile went with his removal, and its
	// video element, paused when taken out of the page, stayed frozen
	// when put back.
	bob = lc.start(t, bobHome, "bob", "call", meetingID, "--user", "bob", "--device", "phone", "--passcode", "correct horse",
		"--video", filepath.Join(media, "clip.ivf"), "--audio", filepath.Join(media, "clip.ogg"), "--duration", "3m")
	must("let bob back in from the page",
		chromedp.WaitVisible(`button.admit[data-member="bob/phone"]`),
		chromedp.Evaluate(`document.querySelector('button.admit[data-member="bob/phone"]').click()`, nil),
	)
	waitPlaying(t, ctx, `.tile[data-member="bob/phone"] video`, "bob's video after he was let back in")

	// alice hands the meeting to bob from the page: her page stops
	// offering the host's controls, and bob's client leads.
	must("make bob the host from the page",
		chromedp.WaitVisible(`.tile[data-member="bob/phone"] button.transfer`),
		chromedp.Evaluate(`document.querySelector('.tile[data-member="bob/phone"] button.transfer').click()`, nil),
		chromedp.Poll(`!window.parley.state().leader && !document.querySelector('button.transfer') && !document.querySelector('#leave-btn').hidden && document.querySelector('#end-btn').hidden`,
			nil, chromedp.WithPollingTimeout(30*time.Second)),
	)
	waitOK(t, 30*time.Second, "bob's client to lead", func() bool { return strings.Contains(bob.output(), "this device leads the meeting") })

	// A second call from the same page: the person's own picture shows
	// this call's camera (it was black: the tile kept the first call's
	// stopped track).
	// (The transfer's own wait for its proven block may still hold the
	// client's one operation: "leave" is clicked again every 3 s.)
	must("leave the meeting and start another",
		clickUntil(`#leave-btn`, `!document.querySelector('#over').hidden || !document.querySelector('#lobby').hidden`, 60*time.Second),
		chromedp.Evaluate(`if (!document.querySelector('#over').hidden) document.querySelector('#lobby-btn').click()`, nil),
		chromedp.WaitVisible(`#lobby`),
	)
	phoneWidth(t, ctx, "the lobby", filepath.Join(dir, "browser-lobby-phone.png"))
	// The client takes one operation at a time, and alice's leave may
	// still wait for its block: "create" is clicked again every 3 s until
	// the call shows (a refused click says "still working").
	must("create a second meeting",
		clickUntil(`#create-btn`, `!document.querySelector('#call').hidden`, 90*time.Second),
	)
	waitPlaying(t, ctx, `.tile video.self`, "alice's own picture in her second call")
	var live bool
	must("read the self-view's track", chromedp.Evaluate(`document.querySelector('.tile video.self').srcObject.getVideoTracks()[0].readyState === 'live'`, &live))
	if !live {
		t.Errorf("the self-view in the second call shows a stopped track")
	}

	// A second tab whose camera is denied (getUserMedia rejects as a
	// browser does when the person says no): told that Parley is open in
	// the first tab, it takes over when the person chooses it, says why
	// nobody sees the person, and the client goes on.
	tab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	u := url[:strings.Index(url, "/?t=")] + "/"
	var phase string
	if err := chromedp.Run(tab,
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(`navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));`).Do(ctx)
			return err
		}),
		chromedp.Navigate(u),
		chromedp.WaitVisible(`#tab[data-conn="busy"] #take-btn`),
		chromedp.Click(`#take-btn`),
		chromedp.WaitVisible(`#call`),
		chromedp.Poll(`[...document.querySelectorAll('.notice')].some(n => n.textContent.includes('Camera and microphone are not available (NotAllowedError'))`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Evaluate(`window.parley.state().phase`, &phase),
	); err != nil {
		t.Fatalf("a tab with the camera denied: %v\nparley ui:\n%s", err, ui.output())
	}
	if phase != "call" {
		t.Errorf("with the camera denied the page is in phase %q, want call", phase)
	}
	select {
	case err := <-ui.done:
		t.Fatalf("parley ui exited: %v\n%s", err, ui.output())
	default:
	}
}

// waitPlaying waits until the video element sel finds plays: not paused,
// and its playback position moving between two looks a second apart.
func waitPlaying(t *testing.T, ctx context.Context, sel, what string) {
	t.Helper()
	last := -1.0
	waitOK(t, 60*time.Second, what+" to play", func() bool {
		var pos float64
		js := fmt.Sprintf(`(() => { const v = document.querySelector(%q); return v && !v.paused ? v.currentTime : -1; })()`, sel)
		if err := chromedp.Run(ctx, chromedp.Evaluate(js, &pos)); err != nil {
			t.Fatal(err)
		}
		moved := pos > 0 && last >= 0 && pos > last
		last = pos
		if !moved {
			time.Sleep(time.Second)
		}
		return moved
	})
}

// phoneWidth shows the page at a phone's width (360 CSS pixels): nothing
// may stick out sideways (the page would scroll sideways). A screenshot
// of the whole page is saved at shot, and one of what the phone's screen
// shows (with the fixed control bar) beside it as shot's name with
// "-screen"; the desktop size is restored.
func phoneWidth(t *testing.T, ctx context.Context, what, shot string) {
	t.Helper()
	var wide []string
	var png, screen []byte
	if err := chromedp.Run(ctx,
		chromedp.EmulateViewport(360, 740),
		chromedp.CaptureScreenshot(&screen),
		chromedp.Sleep(300*time.Millisecond),
		chromedp.Evaluate(`[...document.querySelectorAll('body *')].filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''))`, &wide),
		chromedp.FullScreenshot(&png, 100),
		chromedp.EmulateViewport(1280, 860),
	); err != nil {
		t.Fatalf("%s at phone width: %v", what, err)
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(strings.TrimSuffix(shot, ".png")+"-screen.png", screen, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(wide) > 0 {
		t.Errorf("%s at 360 px: these stick out on the right, so the page scrolls sideways: %v (screenshot %s)", what, wide, shot)
	}
}

// clickUntil clicks button every 3 s until the expression done holds: the
// page's client takes one operation at a time and answers a click during
// another with "still working".
func clickUntil(button, done string, timeout time.Duration) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`(() => {
		if (%s) return true;
		window.lastClick = window.lastClick || {};
		const now = Date.now();
		if (!window.lastClick[%[2]q] || now - window.lastClick[%[2]q] > 3000) { window.lastClick[%[2]q] = now; document.querySelector(%[2]q).click(); }
		return false;
	})()`, done, button), nil, chromedp.WithPollingTimeout(timeout))
}
