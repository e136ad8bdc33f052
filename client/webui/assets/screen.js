// Screen sharing: the page's third sending track. The shared screen goes
// through the same Worker as the camera, sealed under this device's SFrame
// key (kind 'screen'), to the client, which checks it and sends it on the
// call's screen track; the others' screens come back sealed on each
// slot's screen receiver and are decrypted the same way. A member's screen
// is shown as its own tile while its frames arrive.
'use strict';

let screensShown = []; // for tests: members whose shared screen is on a tile

async function toggleScreen() {
  if (local.screen) { stopScreen(); return; }
  if (!local.str) { showNotice({level: 'warn', text: 'Share your screen once the call has started.'}); return; }
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({video: {frameRate: 10}, audio: false});
  } catch (e) {
    if (e.name !== 'NotAllowedError') showNotice({level: 'error', key: 'screen', text: `Cannot share the screen (${e.name}${e.message ? ': ' + e.message : ''}).`});
    return;
  }
  await shareTrack(stream.getVideoTracks()[0]);
}

// shareTrack sends track as this device's shared screen.
async function shareTrack(track) {
  if (!track || !local.str) return;
  if (local.screen) local.screen.stop();
  local.screen = track;
  // The browser's own "Stop sharing" ends the track.
  track.onended = () => { if (local.screen === track) stopScreen(); };
  try { track.contentHint = 'detail'; } catch (e) { /* older browsers */ }
  await local.str.sender.replaceTrack(track);
  clearNotice('screen');
  render();
}

function stopScreen() {
  const t = local.screen;
  local.screen = null;
  if (local.str) local.str.sender.replaceTrack(null).catch(() => {});
  if (t) t.stop();
  render();
}

// renderScreens shows a tile for each shared screen: this device's own (a
// preview) and each other member's while its screen frames arrive. keep
// collects the tiles' keys, as renderTiles does for the members.
function renderScreens(members, keep) {
  const now = Date.now();
  const shown = [];
  for (const m of members) {
    const key = `${m.user}/${m.device}`;
    let el = null;
    if (m.self) {
      if (local.screen) {
        el = document.querySelector('video.own-screen') || document.createElement('video');
        el.className = 'own-screen';
        el.autoplay = el.muted = el.playsInline = true;
        if (!el.srcObject || el.srcObject.getVideoTracks()[0] !== local.screen) el.srcObject = new MediaStream([local.screen]);
      }
    } else {
      const st = memberStats(key), i = slotOf(key);
      if (st && st.lastScreen && now - st.lastScreen < QUIET_MS && i >= 0) el = slots[i].sel;
    }
    if (!el) continue;
    const tkey = key + '#screen';
    keep.add(tkey);
    shown.push(key);
    const t = tileFor(tkey);
    t.classList.add('screen');
    if (el.parentNode !== t) { t.prepend(el); }
    if (el.paused && el.srcObject) el.play().catch(() => {});
    const name = m.self ? 'You are' : (names.get(key) ? `${names.get(key)} (${key}) is` : `${key} is`);
    const label = `${ICON.screen} ${esc(name)} sharing the screen`;
    const lab = t.querySelector('.label');
    if (lab.innerHTML !== label) lab.innerHTML = label;
  }
  screensShown = shown;
}

$('screen-btn').onclick = toggleScreen;
window.parley.screens = () => screensShown.slice();
// Tests share a drawn canvas when the browser offers no screen to pick.
window.parley.shareCanvas = () => {
  const c = document.createElement('canvas');
  c.width = 640; c.height = 360;
  const g = c.getContext('2d');
  let n = 0;
  const draw = () => { g.fillStyle = `hsl(${(n++ * 7) % 360} 60% 40%)`; g.fillRect(0, 0, 640, 360); g.fillStyle = '#fff'; g.font = '48px sans-serif'; g.fillText('shared ' + n, 40, 200); };
  draw();
  setInterval(draw, 100);
  return shareTrack(c.captureStream(10).getVideoTracks()[0]);
};
