package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestFirstRunCLI: with the real binaries on a localnet, a device whose
// own account holds no tokens registers with the demo organisation's fee
// grant, and a second device is linked with `parley device link` and
// `parley identity approve --link`; a wrong verification code is refused.
func TestFirstRunCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a chain")
	}
	lc := startLocalnet(t, "parley-firstrun")
	laptop := filepath.Join(lc.home, "erin-laptop")
	phone := filepath.Join(lc.home, "erin-phone")
	lc.parley(t, laptop, "", "device", "init", "--user", "erin", "--device", "laptop", "--unencrypted")
	acct := strings.TrimSpace(lc.parley(t, laptop, "", "device", "account", "--user", "erin", "--device", "laptop"))

	out, err := command(lc.root, lc.env, filepath.Join(lc.root, "build/parley"), "--home", laptop,
		"identity", "register", "--user", "erin", "--device", "laptop").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not on the chain yet") {
		t.Fatalf("register with an unfunded account and no grant: %v\n%s", err, out)
	}
	grant := lc.parley(t, laptop, "org", "org", "grant", acct, "--spend-limit", "1000000uparley", "--expires", "24h")
	m := regexp.MustCompile(`--fee-granter (\S+)`).FindStringSubmatch(grant)
	if m == nil {
		t.Fatalf("org grant printed no granter:\n%s", grant)
	}
	granter := m[1]
	reg := lc.parley(t, laptop, "", "--fee-granter", granter, "identity", "register", "--user", "erin", "--device", "laptop")
	if !strings.Contains(reg, "registered erin with device laptop (owner "+acct+")") {
		t.Fatalf("register: %s", reg)
	}

	link := lc.start(t, phone, "", "device", "link", "--user", "erin", "--device", "phone", "--unencrypted", "--wait", "3m")
	var token, code string
	waitOK(t, 60*time.Second, "the link token and code", func() bool {
		o := link.output()
		tm := regexp.MustCompile(`(parley-link-v1:\S+)`).FindStringSubmatch(o)
		cm := regexp.MustCompile(`verification code: (\d{5} \d{5} \d{5} \d{5})`).FindStringSubmatch(o)
		if tm == nil || cm == nil {
			return false
		}
		token, code = tm[1], cm[1]
		return true
	})
	out, err = command(lc.root, lc.env, filepath.Join(lc.root, "build/parley"), "--home", laptop, "--fee-granter", granter,
		"identity", "approve", "--user", "erin", "--device", "laptop", "--link", token, "--code", "00000 00000 00000 00000").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "verification code") || !strings.Contains(string(out), code) {
		t.Fatalf("approve with a wrong code: %v\n%s", err, out)
	}
	ok := lc.parley(t, laptop, "", "--fee-granter", granter, "identity", "approve", "--user", "erin", "--device", "laptop", "--link", token, "--code", code)
	if !strings.Contains(ok, "added device phone to erin (approved by laptop)") {
		t.Fatalf("approve: %s", ok)
	}
	waitOK(t, 60*time.Second, "the phone to see itself linked", func() bool {
		return strings.Contains(link.output(), "linked: erin/phone is active (approved by laptop")
	})
	if audit := lc.parley(t, laptop, "", "identity", "audit", "--user", "erin"); !strings.Contains(audit, "audit OK") {
		t.Errorf("audit on the laptop: %s", audit)
	}
}

// TestFirstRunInThePage: two `parley ui` clients with empty homes on a
// localnet (the demo organisation grants their accounts fees, --org from
// PARLEY_ORG): the first page claims a user ID; the second is told the ID
// is taken, then links to it, and the first page approves it after
// showing the same verification code.
func TestFirstRunInThePage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a chain and a browser")
	}
	lc := startLocalnet(t, "parley-firstpage")
	ui1 := lc.start(t, filepath.Join(lc.home, "page1"), "", "ui", "--port", "0")
	ui2 := lc.start(t, filepath.Join(lc.home, "page2"), "", "ui", "--port", "0")
	// A client that nobody pays for: no --org, no --fee-granter.
	ui3 := lc.start(t, filepath.Join(lc.home, "page3"), "", "ui", "--port", "0", "--org", "")
	url := func(p *proc) string {
		var u string
		waitOK(t, 30*time.Second, "parley ui to print its link", func() bool {
			u = regexp.MustCompile(`http://127\.0\.0\.1:\d+/\?t=[0-9a-f]+`).FindString(p.output())
			return u != ""
		})
		return u
	}
	ctx := browser(t)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	must := func(ctx context.Context, what string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			t.Fatalf("%s: %v\npage 1's client:\n%s\npage 2's client:\n%s", what, err, ui1.output(), ui2.output())
		}
	}
	// Polled by interval, not by animation frame, which a tab in the
	// background does not get.
	poll := func(js string) chromedp.Action {
		return chromedp.Poll(js, nil, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second))
	}
	fill := func(mode, user, device string) chromedp.Action {
		return chromedp.Tasks{
			chromedp.Click(fmt.Sprintf(`input[name="setup-mode"][value=%q]`, mode)),
			chromedp.SetValue(`#setup-user`, user),
			chromedp.SetValue(`#setup-device`, device),
			chromedp.SetValue(`#setup-pass`, "correct horse battery"),
			chromedp.SetValue(`#setup-pass2`, "correct horse battery"),
			chromedp.Click(`#setup-btn`),
		}
	}

	must(ctx, "page 1: the first-run form instead of sign-in",
		chromedp.Navigate(url(ui1)),
		chromedp.WaitVisible(`#setup`),
	)
	must(ctx, "page 1: passphrases that differ",
		chromedp.SetValue(`#setup-user`, "gina"),
		chromedp.SetValue(`#setup-pass`, "correct horse battery"),
		chromedp.SetValue(`#setup-pass2`, "correct horse batterx"),
		chromedp.Click(`#setup-btn`),
		poll(`document.querySelector('#setup-error').textContent.includes('passphrases differ')`),
	)
	must(ctx, "page 1: claim gina, fees granted by the demo organisation",
		fill("register", "gina", "laptop"),
		chromedp.WaitVisible(`#lobby`, chromedp.ByQuery),
	)
	// A second tab of the same browser (made once the browser runs, or it
	// would start a browser of its own on the same profile).
	tab2, cancel2 := chromedp.NewContext(ctx)
	defer cancel2()
	must(tab2, "page 2: gina is taken",
		chromedp.Navigate(url(ui2)),
		chromedp.WaitVisible(`#setup`),
		fill("register", "gina", "tablet"),
		poll(`document.querySelector('#setup-error').textContent.includes('"gina" is taken')`),
	)
	var token, code2 string
	must(tab2, "page 2: link to gina shows a request and a code",
		fill("link", "gina", "tablet"),
		poll(`!!(window.parley.setup().link && window.parley.setup().link.token)`),
		chromedp.Evaluate(`window.parley.setup().link.token`, &token),
		chromedp.Text(`#setup-code`, &code2),
	)
	var shot []byte
	must(tab2, "page 2: screenshot", page.BringToFront(), chromedp.FullScreenshot(&shot, 100))
	saveArtifact(t, lc.root, "firstrun-link.png", shot)
	var code1 string
	must(ctx, "page 1: the request shows the same code",
		chromedp.SetValue(`#link-token`, token),
		chromedp.Click(`#link-check`),
		chromedp.WaitVisible(`#link-info`),
		chromedp.Text(`#link-code`, &code1),
		page.BringToFront(),
		chromedp.ScrollIntoView(`#link-card`),
		chromedp.CaptureScreenshot(&shot),
	)
	saveArtifact(t, lc.root, "firstrun-approve.png", shot)
	if code1 != code2 || !regexp.MustCompile(`^\d{5}( \d{5}){3}$`).MatchString(code1) {
		t.Fatalf("verification codes: page 1 %q, page 2 %q", code1, code2)
	}
	must(ctx, "page 1: approve", chromedp.Click(`#link-approve`), poll(`!window.parley.linkShown()`))
	must(tab2, "page 2: linked, in the lobby", chromedp.WaitVisible(`#lobby`, chromedp.ByQuery))
	var who string
	must(tab2, "page 2: signed in as gina/tablet", chromedp.Text(`#whoami`, &who))
	if who != "gina/tablet" {
		t.Errorf("page 2 signed in as %q", who)
	}

	tab3, cancel3 := chromedp.NewContext(ctx)
	defer cancel3()
	must(tab3, "page 3: no one pays the fees, and the key is not kept",
		chromedp.Navigate(url(ui3)),
		chromedp.WaitVisible(`#setup`),
		fill("register", "hana", "laptop"),
		poll(`document.querySelector('#setup-error').textContent.includes('No one pays this device') && document.querySelector('#setup-error').textContent.includes('parley org grant')`),
		poll(`[...document.querySelectorAll('#setup-steps li')].some(li => li.className === 'failed' && li.textContent.includes('Get the fees paid'))`),
	)
	// The error is shown once the key is deleted (the run has ended).
	keys, _ := filepath.Glob(filepath.Join(lc.home, "page3", "keys", "*.key.json"))
	if len(keys) != 0 {
		t.Errorf("page 3's client kept device keys after a failed first run: %v", keys)
	}
}
