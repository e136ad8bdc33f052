// First run and device linking in the page. When this client holds no
// device key, the sign-in screen becomes a first-run form: choose a
// passphrase and claim a user ID, or link to a user ID through another
// device (show a link request and its verification code, wait for the
// approval). A signed-in page approves link requests in the lobby. The
// client does the work (keys, chain); this file only asks and shows.
// See docs/PROTOCOL.md sections 8 and 9.
'use strict';

let setup = {available: false};
let setupWanted = false; // the person chose "Set up a new device key" beside existing keys
let linkShown = null;    // the link request checked in the lobby, {token, code}

window.parley.setup = () => setup;
window.parley.linkShown = () => linkShown;

function onSetup(msg) {
  setup = msg;
  renderSetup();
}

function renderSetup() {
  if (state.phase !== 'signin') return;
  const haveKeys = (state.devices || []).length > 0;
  const busy = setup.running;
  const showSetup = setup.available && (!haveKeys || setupWanted || busy || !!setup.error);
  $('setup').hidden = !showSetup;
  $('signin-form').hidden = showSetup;
  $('setup-open').hidden = !setup.available;
  $('setup-close').hidden = !haveKeys || busy;
  // While it runs, the steps (and a link request) take the form's place.
  $('setup-form').hidden = busy;

  const list = $('setup-steps');
  list.innerHTML = '';
  for (const st of setup.steps || []) {
    const li = document.createElement('li');
    li.className = st.state;
    // Words, not check-mark glyphs, which a system's fonts may lack.
    const how = {done: ' (done)', failed: ' (failed)', doing: '…'}[st.state] || '';
    li.innerHTML = esc(st.label + how) + (st.detail ? `<span class="small">${esc(st.detail)}</span>` : '');
    list.appendChild(li);
  }
  const link = setup.link;
  $('setup-link').hidden = !link;
  if (link) {
    $('setup-link-user').textContent = link.user;
    if ($('setup-token').value !== link.token) $('setup-token').value = link.token;
    $('setup-code').textContent = link.code;
  }
  $('setup-error').hidden = !setup.error;
  $('setup-error').textContent = setup.error || '';
  $('setup-cancel').hidden = !(busy && setup.mode === 'link');
}

$('setup-open').onclick = () => { setupWanted = true; renderSetup(); };
$('setup-close').onclick = () => { setupWanted = false; setup.error = ''; renderSetup(); };
$('setup-btn').onclick = () => {
  const mode = document.querySelector('input[name="setup-mode"]:checked').value;
  const pass = $('setup-pass').value, pass2 = $('setup-pass2').value;
  if (pass !== pass2) {
    setup.error = 'The two passphrases differ.';
    renderSetup();
    return;
  }
  setup.error = '';
  send({type: 'setup', mode, user: $('setup-user').value.trim().toLowerCase(), device: $('setup-device').value.trim().toLowerCase(), passphrase: pass, passphrase2: pass2});
  $('setup-pass').value = '';
  $('setup-pass2').value = '';
};
$('setup-cancel').onclick = () => send({type: 'setupcancel'});
$('setup-copy').onclick = () => {
  navigator.clipboard.writeText($('setup-token').value).then(
    () => showNotice({level: 'info', text: 'Link request copied.'}),
    () => { $('setup-token').select(); showNotice({level: 'warn', text: 'Select the request and copy it by hand.'}); });
};

// ---- the approving side, in the lobby

function onLinkInfo(msg) {
  if (msg.code === 'approved') {
    linkShown = null;
    $('link-token').value = '';
    $('link-info').hidden = true;
    return;
  }
  linkShown = {token: $('link-token').value, code: msg.code};
  $('link-user').textContent = msg.user;
  $('link-device').textContent = msg.device;
  $('link-code').textContent = msg.code;
  $('link-info').hidden = false;
}

$('link-check').onclick = () => {
  linkShown = null;
  $('link-info').hidden = true;
  send({type: 'linkcheck', token: $('link-token').value});
};
$('link-token').oninput = () => { linkShown = null; $('link-info').hidden = true; };
$('link-approve').onclick = () => {
  if (!linkShown) return;
  send({type: 'linkapprove', token: linkShown.token, code: linkShown.code});
};
$('link-reject').onclick = () => {
  linkShown = null;
  $('link-info').hidden = true;
  showNotice({level: 'warn', text: 'Not added. If the codes differed, the request was changed on its way: make a new one on the new device and pass it another way.'});
};
