package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestTwoBrowsers: two people, each with their own `parley ui` and their
// own Chromium, as two people would use Parley, each starting from
// nothing (the page's first run makes the device key and claims the user
// ID, the demo organisation paying the fees). Alice checks her camera
// and microphone in the lobby and schedules a meeting with a passcode, 30 s
// ahead; her page offers a signed invite link and a calendar file. Bob asks
// early with a wrong passcode, waits in the lobby, and is told at the start
// (alice is not asked about it); he clicks alice's invite link, which opens
// his own parley ui, is asked for the passcode and asks with it; alice is
// told, admits him from her page, and both pages decrypt each other and show the same security
// code; they chat both ways under the names they gave (each line shown
// with the sender's proven user and device), bob raises his hand and
// alice sees it, alice reacts and bob sees it; alice records (from before
// bob joined: he is told on joining) and bob sees the notice until she
// stops, and her page saves what it decrypted of him; alice asks bob to
// mute and his own client mutes him, while bob's request to mute alice
// is not honoured (he does not lead); bob shares his screen and alice sees
// it decrypted on its own tile, large in the speaker view; alice makes bob
// the host, and the host's controls move from her page to his, with his
// own signed invite (hers is refused now); bob removes alice, and she is
// let back in only by his explicit click.
func TestTwoBrowsers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a chain, two clients and two browsers")
	}
	lc := startLocalnet(t, "parley-two")
	// Each starts from nothing: no device key, no tokens. The page's
	// first run makes the key under a passphrase and claims the user ID;
	// the localnet's demo organisation pays the device's fees (--org, from
	// PARLEY_ORG).
	open := func(user, device, port string) *browserPerson {
		home := filepath.Join(lc.home, user+"-"+device)
		ui := lc.start(t, home, "", "ui", "--port", port)
		var link string
		waitOK(t, 30*time.Second, user+"'s parley ui to print its link", func() bool {
			link = regexp.MustCompile(`http://127\.0\.0\.1:\d+/\?t=[0-9a-f]+`).FindString(ui.output())
			return link != ""
		})
		ctx, cancel := context.WithTimeout(browser(t), 6*time.Minute)
		t.Cleanup(cancel)
		p := &browserPerson{name: user, ui: ui, ctx: ctx}
		p.do(t, "claim a user ID in the first run",
			chromedp.Navigate(link),
			chromedp.WaitVisible(`#setup`),
			chromedp.Click(`input[name="setup-mode"][value="register"]`),
			chromedp.SetValue(`#setup-user`, user),
			chromedp.SetValue(`#setup-device`, device),
			chromedp.SetValue(`#setup-pass`, "a passphrase of "+user),
			chromedp.SetValue(`#setup-pass2`, "a passphrase of "+user),
			chromedp.Click(`#setup-btn`),
			chromedp.WaitVisible(`#lobby`),
		)
		return p
	}
	// bob's parley ui is on the default port, as a person's is, so that
	// alice's invite link opens it.
	alice, bob := open("alice", "browser", "0"), open("bob", "laptop", "8765")
	poll := func(js string) chromedp.Action {
		return chromedp.Poll(js, nil, chromedp.WithPollingTimeout(60*time.Second))
	}

	alice.do(t, "check her camera and microphone in the lobby",
		chromedp.Evaluate(`document.querySelector('#preview-btn').click(), true`, nil),
		poll(`window.parley.previewing() && window.parley.micLevel() > 0 && window.parley.devices().cams >= 1 && window.parley.devices().mics >= 1`),
		poll(`document.querySelector('#mic-level').style.width !== '0px' && document.querySelector('#mic-level').style.width !== ''`),
	)
	var invite string
	var ics string
	alice.do(t, "give her name and schedule a meeting with a passcode, starting in 30 s",
		chromedp.SetValue(`#name-input`, "Alice Liddell"),
		chromedp.SetValue(`#create-passcode`, "open sesame"),
		chromedp.Evaluate(`(() => { const d = new Date(Date.now() + 30000); d.setMinutes(d.getMinutes() - d.getTimezoneOffset()); document.querySelector('#start-at').value = d.toISOString().slice(0, 19); return true; })()`, nil),
		chromedp.SetValue(`#length`, "30"),
		chromedp.Click(`#create-btn`),
		chromedp.WaitVisible(`#call`),
		poll(`document.querySelector('#invite-link').textContent.startsWith('http://127.0.0.1:8765/join#')`),
		chromedp.Text(`#invite-link`, &invite),
		poll(`!document.querySelector('#starts').hidden && document.querySelector('#starts').textContent.startsWith('Starts at')`),
		poll(`!!document.querySelector('a[download="parley-meeting.ics"]') && !document.querySelector('a[download="parley-meeting.ics"]').hidden`),
		// What the download link holds (the page's CSP lets it fetch
		// nothing but its own origin, blob URLs included).
		chromedp.Evaluate(`window.parley.state().inviteIcs`, &ics),
	)
	if !strings.Contains(ics, "BEGIN:VCALENDAR\r\n") || !strings.Contains(ics, "BEGIN:VEVENT\r\n") || !strings.Contains(ics, "\r\nDTSTART:") {
		t.Fatalf("alice's page offers a calendar file that is not one:\n%s", ics)
	}
	alice.do(t, "start recording (bob, who joins later, must be told)",
		chromedp.WaitVisible(`#record-btn`),
		chromedp.Evaluate(`document.querySelector('#record-btn').click(), true`, nil),
		poll(`document.querySelector('#record-btn').textContent === 'Stop recording'`),
	)
	bob.do(t, "ask to join early with a wrong passcode, wait in the lobby, and be told at the start",
		chromedp.SetValue(`#invite-input`, invite),
		chromedp.SetValue(`#join-passcode`, "open sesame!"),
		chromedp.Click(`#join-btn`),
		chromedp.WaitVisible(`#waiting`),
		poll(`[...document.querySelectorAll('.notice')].some(n => n.textContent.includes('The meeting has not started'))`),
		chromedp.WaitVisible(`#over`),
		poll(`document.querySelector('#over-reason').textContent.includes('the passcode is wrong. Ask to join again with the right one.')`),
		chromedp.Click(`#lobby-btn`),
		chromedp.WaitVisible(`#lobby`),
	)
	alice.do(t, "not be asked to admit a request with a wrong passcode",
		poll(`window.parley.asksShown() === 0 && !document.querySelector('button.admit') && ![...document.querySelectorAll('.notice')].some(n => n.textContent.includes('bob/laptop asks to join'))`),
	)
	bob.do(t, "click alice's invite link, be asked for the passcode, and ask to join with it",
		chromedp.Evaluate(fmt.Sprintf(`(() => { const a = document.createElement('a'); a.href = %q; a.textContent = 'the invite'; document.body.appendChild(a); a.click(); return true; })()`, invite), nil),
		chromedp.WaitVisible(`#lobby`),
		poll(`document.querySelector('#invite-input').value.startsWith('http://127.0.0.1:8765/join#') && location.hash === ''`),
		poll(`[...document.querySelectorAll('.notice')].some(n => n.textContent.includes('enter the one its host gave you'))`),
		chromedp.SetValue(`#name-input`, "Bob"),
		chromedp.SetValue(`#join-passcode`, "open sesame"),
		chromedp.Click(`#join-btn`),
		chromedp.WaitVisible(`#waiting`),
	)
	alice.do(t, "be told bob asks, and admit him",
		poll(`[...document.querySelectorAll('.notice')].some(n => n.textContent.includes('bob/laptop asks to join'))`),
		chromedp.Evaluate(`document.querySelector('button.admit[data-member="bob/laptop"]').click()`, nil),
	)
	// Both decrypt and render the other, and read the same code.
	hears := func(other string) string {
		return fmt.Sprintf(`(() => { const s = window.parley.stats(); return s.videoShown > 0 && s.slots.some(x => x.member === %q && x.video >= 20 && x.audio >= 20); })()`, other)
	}
	alice.do(t, "decrypt bob", poll(hears("bob/laptop")))
	bob.do(t, "decrypt alice", chromedp.WaitVisible(`#call`), poll(hears("alice/browser")))
	var codeA, codeB string
	alice.do(t, "read the code", chromedp.Text(`#code`, &codeA))
	bob.do(t, "read the code", chromedp.Text(`#code`, &codeB))
	if !regexp.MustCompile(`^\d{5}( \d{5}){5}$`).MatchString(codeA) || codeA != codeB {
		t.Fatalf("security codes: alice %q, bob %q", codeA, codeB)
	}

	// In-call messages: names on the tiles, chat both ways, a raised hand,
	// a reaction; each shown with the sender's proven user and device.
	alice.do(t, "see bob's name on his tile",
		poll(`window.parley.names()['bob/laptop'] === 'Bob' && document.querySelector('.tile[data-member="bob/laptop"] .label').textContent.includes('Bob')`),
	)
	bob.do(t, "see alice's name and that she records (she began before he joined), and write to her",
		poll(`window.parley.names()['alice/browser'] === 'Alice Liddell'`),
		poll(`window.parley.recorders().includes('alice/browser') && document.querySelector('#rec-banner').textContent.includes('Alice Liddell (alice/browser) is recording this call')`),
		chromedp.SetValue(`#chat-input`, "hello alice, can you hear me?"),
		chromedp.Evaluate(`document.querySelector("#chat-form").requestSubmit(), true`, nil), // Enter, as people send a line
		poll(`window.parley.chat().some(l => l.self && l.text === 'hello alice, can you hear me?')`),
	)
	alice.do(t, "read bob's line and answer",
		poll(`window.parley.chat().some(l => !l.self && l.from === 'bob/laptop' && l.name === 'Bob' && l.text === 'hello alice, can you hear me?')`),
		poll(`document.querySelector('#chat-log').textContent.includes('Bob (bob/laptop):hello alice')`),
		chromedp.SetValue(`#chat-input`, "yes <b>loud</b> and clear"),
		chromedp.Evaluate(`document.querySelector("#chat-form").requestSubmit(), true`, nil), // Enter, as people send a line
	)
	bob.do(t, "read alice's answer as text, and raise his hand",
		poll(`window.parley.chat().some(l => l.from === 'alice/browser' && l.text === 'yes <b>loud</b> and clear')`),
		poll(`!document.querySelector('#chat-log b')`),
		chromedp.Evaluate(`document.querySelector("#hand-btn").click(), true`, nil),
		poll(`document.querySelector('#hand-btn').textContent.includes('Lower hand')`),
	)
	alice.do(t, "see bob's hand on his tile and in the list of people, and react",
		poll(`window.parley.hands().includes('bob/laptop') && !!document.querySelector('.tile[data-member="bob/laptop"] .hand svg')`),
		poll(`(() => { const li = document.querySelector('#people-list li[data-member="bob/laptop"]'); return !!li && li.textContent.includes('Bob') && !!li.querySelector('.hand svg') && !!li.querySelector('.verified svg'); })()`),
		poll(`document.querySelector('#people-count').textContent === '(2)' && document.querySelector('#people-list li[data-member="alice/browser"]').textContent.includes('you')`),
		poll(`[...document.querySelectorAll('.notice')].some(n => n.textContent.includes('Bob raised a hand'))`),
		chromedp.Evaluate(`document.querySelector("#react-bar button[data-reaction=\"clap\"]").click(), true`, nil),
	)
	bob.do(t, "see alice's reaction, and lower his hand",
		poll(`window.parley.reactions().some(r => r.from === 'alice/browser' && r.reaction === 'clap')`),
		chromedp.Evaluate(`document.querySelector("#hand-btn").click(), true`, nil),
	)
	alice.do(t, "see bob's hand lowered", poll(`!window.parley.hands().includes('bob/laptop')`))

	// Screen sharing: a third track, sealed like the camera, shown on its
	// own tile beside bob's camera; the speaker view makes it the large one.
	bob.do(t, "share his screen", chromedp.Evaluate(`document.querySelector('#screen-btn').click(), true`, nil))
	if err := chromedp.Run(bob.ctx, chromedp.Poll(`window.parley.screens().includes('bob/laptop')`, nil, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Logf("headless Chromium gave no screen to share (%v): bob shares a drawn canvas instead", err)
		bob.do(t, "share a drawn canvas", chromedp.Evaluate(`window.parley.shareCanvas(), true`, nil), poll(`window.parley.screens().includes('bob/laptop')`))
	}
	bob.do(t, "see his button say he shares", poll(`document.querySelector('#screen-btn').textContent === 'Stop sharing'`))
	alice.do(t, "see bob's screen, decrypted, on its own tile beside his camera, and show it large",
		poll(`window.parley.stats().slots.some(x => x.member === 'bob/laptop' && x.screen >= 10 && x.video >= 20)`),
		poll(`window.parley.screens().includes('bob/laptop') && (() => { const v = document.querySelector('.tile[data-member="bob/laptop#screen"] video'); return !!v && v.videoWidth > 0; })()`),
		poll(`!!document.querySelector('.tile[data-member="bob/laptop"]') && document.querySelector('.tile[data-member="bob/laptop#screen"] .label').textContent.includes('Bob (bob/laptop) is sharing the screen')`),
		chromedp.Evaluate(`document.querySelector('#view-btn').click(), true`, nil),
		poll(`window.parley.view().view === 'speaker' && window.parley.view().main === 'bob/laptop#screen' && document.querySelector('#tiles').classList.contains('speaker')`),
	)
	var shot []byte
	alice.do(t, "screenshot the speaker view", chromedp.CaptureScreenshot(&shot))
	saveArtifact(t, lc.root, "two-browsers-speaker.png", shot)
	phoneWidth(t, alice.ctx, "alice's call with bob's screen", filepath.Join(lc.root, "build", "test-artifacts", "two-browsers-phone.png"))
	bob.do(t, "stop sharing", chromedp.Evaluate(`document.querySelector('#screen-btn').click(), true`, nil), poll(`window.parley.screens().length === 0`))
	alice.do(t, "see bob's screen go, pin bob's camera, and go back to the grid",
		poll(`!window.parley.screens().includes('bob/laptop') && !document.querySelector('.tile[data-member="bob/laptop#screen"]')`),
		chromedp.Evaluate(`document.querySelector('.tile[data-member="bob/laptop"] .label').click(), true`, nil),
		poll(`window.parley.view().main === 'bob/laptop' && window.parley.view().pinned === 'bob/laptop'`),
		chromedp.Evaluate(`document.querySelector('#view-btn').click(), true`, nil),
		poll(`window.parley.view().view === 'grid' && !document.querySelector('#tiles .tile.main')`),
	)

	// Recording notice: bob joined after alice began to record, and sees it.
	alice.do(t, "record again, now that bob is in the call",
		chromedp.Evaluate(`document.querySelector("#record-btn").click(), true`, nil),
		poll(`document.querySelector('#record-btn').textContent === 'Record'`),
		chromedp.Evaluate(`document.querySelector("#record-btn").click(), true`, nil),
	)
	bob.do(t, "see that alice records",
		poll(`window.parley.recorders().includes('alice/browser') && !!document.querySelector('.tile[data-member="alice/browser"] .badge.rec')`),
		poll(`document.querySelector('#rec-banner').textContent.includes('Alice Liddell (alice/browser) is recording this call')`),
	)
	// Ask to mute: the host's request is honoured by bob's own client; a
	// request from bob, who does not lead, is not honoured by alice's.
	alice.do(t, "ask bob to mute",
		chromedp.Evaluate(`document.querySelector(".tile[data-member=\"bob/laptop\"] button.askmute").click(), true`, nil),
	)
	bob.do(t, "be muted at the host's request, and send one himself",
		poll(`window.parley.askedToMute() === 1 && document.querySelector('#mute-btn').textContent === 'Unmute'`),
		poll(`[...document.querySelectorAll('.notice')].some(n => n.textContent.includes('asked you to mute'))`),
		// Read, the notice is put away, as a person would, by clicking it.
		chromedp.Click(`.notice[data-key="askmute"]`),
		poll(`!document.querySelector('button.askmute') && !document.querySelector('.notice[data-key="askmute"]')`),
		// bob's page offers no such button; he sends one by hand.
		chromedp.Evaluate(`send({type: 'askmute', user: 'alice', device: 'browser'}), true`, nil),
		chromedp.SetValue(`#chat-input`, "after my request"),
		chromedp.Evaluate(`document.querySelector("#chat-form").requestSubmit(), true`, nil), // Enter, as people send a line
	)
	alice.do(t, "not be muted by bob, and stop recording",
		poll(`window.parley.chat().some(l => l.from === 'bob/laptop' && l.text === 'after my request')`),
		poll(`window.parley.askedToMute() === 0 && document.querySelector('#mute-btn').textContent === 'Mute'`),
		chromedp.Evaluate(`document.querySelector("#record-btn").click(), true`, nil),
		poll(`window.parley.recorded() > 0 && !!document.querySelector('#recordings a[download$="-bob-laptop.webm"]')`),
	)
	bob.do(t, "see the recording stop", poll(`!window.parley.recorders().includes('alice/browser') && !document.querySelector('.badge.rec') && document.querySelector('#rec-banner').hidden`))

	// The host role moves: alice's page loses the host's controls, bob's
	// page gains them.
	alice.do(t, "make bob the host",
		chromedp.Evaluate(`document.querySelector('.tile[data-member="bob/laptop"] button.transfer').click()`, nil),
		poll(`!window.parley.state().leader && !document.querySelector('button.transfer') && document.querySelector('#end-btn').hidden`),
	)
	// An invite is signed by the host: the new host's page offers its own.
	var invite2 string
	bob.do(t, "become the host, with an invite of his own",
		poll(`window.parley.state().leader && !document.querySelector('#end-btn').hidden && !!document.querySelector('.tile[data-member="alice/browser"] button.remove')`),
		poll(`[...document.querySelectorAll('.notice')].some(n => n.textContent.includes('You are the host now'))`),
		poll(fmt.Sprintf(`document.querySelector('#invite-link').textContent.startsWith('http://127.0.0.1:8765/join#') && document.querySelector('#invite-link').textContent !== %q`, invite)),
		chromedp.Text(`#invite-link`, &invite2),
	)

	// A removal stands: alice, removed by bob, asks again and is let in
	// only by bob's explicit click, and then both decrypt each other again.
	bob.do(t, "remove alice",
		chromedp.Evaluate(`document.querySelector('.tile[data-member="alice/browser"] button.remove').click()`, nil),
	)
	alice.do(t, "be told she was removed, be refused with her own invite (bob leads now), and ask again with his",
		chromedp.WaitVisible(`#over`),
		poll(`document.querySelector('#over-reason').textContent.includes('You were removed')`),
		chromedp.Click(`#lobby-btn`),
		chromedp.WaitVisible(`#lobby`),
		chromedp.SetValue(`#invite-input`, invite),
		chromedp.SetValue(`#join-passcode`, "open sesame"),
		chromedp.Click(`#join-btn`),
		poll(`[...document.querySelectorAll('.notice')].some(n => n.textContent.includes('ask the host for a new invite'))`),
		chromedp.SetValue(`#invite-input`, invite2),
		chromedp.SetValue(`#join-passcode`, "open sesame"),
		chromedp.Click(`#join-btn`),
		chromedp.WaitVisible(`#waiting`),
	)
	bob.do(t, "see alice ask as one removed earlier, and let her back in",
		poll(`!!document.querySelector('button.admit[data-member="alice/browser"]') && document.querySelector('button.admit[data-member="alice/browser"]').textContent === 'Let back in'`),
		chromedp.Evaluate(`document.querySelector('button.admit[data-member="alice/browser"]').click()`, nil),
	)
	// (bob's microphone is still off, as alice asked: his video is what
	// arrives.)
	alice.do(t, "decrypt bob's video again", chromedp.WaitVisible(`#call`),
		poll(`window.parley.stats().slots.some(x => x.member === 'bob/laptop' && x.video >= 20)`))
}

// Buttons in the call are clicked in the page, not at screen
// coordinates: the call's layout moves as tiles, banners and notices come
// and go, and a click at a button's old place hits something else.

// browserPerson is one person's `parley ui` and the browser on its page.
type browserPerson struct {
	name string
	ui   *proc
	ctx  context.Context
}

// do runs actions in the person's page; a failure names the step and
// shows the person's client output.
func (p *browserPerson) do(t *testing.T, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(p.ctx, actions...); err != nil {
		t.Fatalf("%s: %s: %v\n%s's parley ui:\n%s", p.name, what, err, p.name, p.ui.output())
	}
}
