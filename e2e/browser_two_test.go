package e2e

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestTwoBrowsers: two people, each with their own `parley ui` and their
// own Chromium, as two people would use Parley. Alice creates a meeting;
// bob pastes her invite and asks to join; alice is told, admits him from
// her page, and both pages decrypt each other and show the same security
// code; alice makes bob the host, and the host's controls move from her
// page to his.
func TestTwoBrowsers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a chain, two clients and two browsers")
	}
	lc := startLocalnet(t, "parley-two")
	open := func(user, device string) *browserPerson {
		home := lc.device(t, user, user, device)
		ui := lc.start(t, home, user, "ui", "--port", "0")
		var link string
		waitOK(t, 30*time.Second, user+"'s parley ui to print its link", func() bool {
			link = regexp.MustCompile(`http://127\.0\.0\.1:\d+/\?t=[0-9a-f]+`).FindString(ui.output())
			return link != ""
		})
		ctx, cancel := context.WithTimeout(browser(t), 6*time.Minute)
		t.Cleanup(cancel)
		p := &browserPerson{name: user, ui: ui, ctx: ctx}
		p.do(t, "sign in",
			chromedp.Navigate(link),
			chromedp.WaitVisible(`#signin`),
			chromedp.Click(`#signin-btn`),
			chromedp.WaitVisible(`#lobby`),
		)
		return p
	}
	alice, bob := open("alice", "browser"), open("bob", "laptop")
	poll := func(js string) chromedp.Action {
		return chromedp.Poll(js, nil, chromedp.WithPollingTimeout(60*time.Second))
	}

	var invite string
	alice.do(t, "create a meeting",
		chromedp.Click(`#create-btn`),
		chromedp.WaitVisible(`#call`),
		poll(`document.querySelector('#invite-link').textContent.startsWith('parley:join?')`),
		chromedp.Text(`#invite-link`, &invite),
	)
	bob.do(t, "ask to join with alice's invite",
		chromedp.SetValue(`#invite-input`, invite),
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

	// The host role moves: alice's page loses the host's controls, bob's
	// page gains them.
	alice.do(t, "make bob the host",
		chromedp.Evaluate(`document.querySelector('.tile[data-member="bob/laptop"] button.transfer').click()`, nil),
		poll(`!window.parley.state().leader && !document.querySelector('button.transfer') && document.querySelector('#end-btn').hidden`),
	)
	bob.do(t, "become the host",
		poll(`window.parley.state().leader && !document.querySelector('#end-btn').hidden && !!document.querySelector('.tile[data-member="alice/browser"] button.remove')`),
		poll(`[...document.querySelectorAll('.notice')].some(n => n.textContent.includes('You are the host now'))`),
	)
}

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
