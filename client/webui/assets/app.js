// The Parley page: it talks to its own client over a WebSocket (state,
// keys, commands) and a WebRTC connection (media). Frames are encrypted
// and decrypted in sframe-worker.js; this file captures, renders and shows
// what the client reports. See docs/PROTOCOL.md section 8.
'use strict';

// NUM_SLOTS: receive slots of each kind, as the client's numSlots (its
// last-N videos, the three loudest voices and a shared screen).
const NUM_SLOTS = 10;
const QUIET_MS = 1500;   // no frames for this long: camera off / muted
const RECENT_MS = 3000;  // a failure this recent is shown on the tile

const $ = (id) => document.getElementById(id);
let ws = null;
let conn = 'connecting';   // attached, or why not: busy, replaced, free, nokey, refused, lost
let connReason = '';       // the client's words for conn
let received = 0;          // messages from the client since the page loaded
let state = {phase: 'connecting'};
let epoch = null;          // last epoch message (with keys)
let meeting = null;        // last meeting message
let pc = null;             // RTCPeerConnection with the client, or 'starting'
let worker = null;
let workerStats = null;
const local = {stream: null, video: null, audio: null, vtr: null, atr: null, str: null, screen: null, muted: false, cameraOff: false};
const slots = [];          // {v, a, s, el, sel}: receive transceivers and the camera's and screen's video elements
const slotOwner = [];      // slot -> 'user/device' whose frames it shows, as the Worker names them by their key
let relay = null;          // the call's media relay link (the client's "paths" message), null on the mesh
const notices = new Map(); // key -> element

// For tests and the curious: what the page counted.
window.parley = {
  state: () => state,
  conn: () => conn,
  received: () => received,
  stats: () => pageStats(),
  epoch: () => epoch && epoch.epoch,
  asksShown: () => asksShown,
  chat: () => chatLines.slice(),
  hands: () => [...hands].filter(([, up]) => up).map(([k]) => k),
  reactions: () => reactionsSeen.slice(),
  names: () => Object.fromEntries(names),
  recorders: () => [...recorders].filter(([, on]) => on).map(([k]) => k),
  askedToMute: () => askedToMute,
  recorded: () => recordedBytes,
  relay: () => relay,
  paths: () => paths,
  slotOwners: () => slotOwner.slice(),
  // Each tile's slot element and the member the Worker last named on it.
  tileSlots: () => [...document.querySelectorAll('#tiles .tile')].map((t) => {
    const v = t.querySelector('video:not(.self)');
    const i = slots.findIndex((sl) => sl.el === v || sl.sel === v);
    return {tile: t.dataset.member, slot: i, owner: i >= 0 ? slotOwner[i] : ''};
  }),
  layers: () => (local.vtr ? local.vtr.sender.getParameters().encodings.map((e) => ({rid: e.rid, active: e.active})) : []),
};

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

// ---- the connection to the client
//
// The client takes one page at a time, and only one that proves the page
// secret. The secret came once, in the page that the link `parley ui`
// printed opened (a <meta> element), and lives in this origin's
// localStorage, which no other port's pages can read; the session cookie,
// which every server on 127.0.0.1 receives, is not enough. A tab attaches
// by itself only if it opened the link or was the page before it reloaded
// (sessionStorage, which is per tab, marks it); another tab asks, says
// whether Parley is open elsewhere, and attaches only when the person
// clicks. See docs/PROTOCOL.md section 8.

const SECRET = 'parley.secret'; // localStorage
const HOLDS = 'parley.holds';   // sessionStorage: this tab is the page
let memSecret = null;           // this load's secret, should storage fail
let memHolds = false;

function stored(area, key) {
  try { return area.getItem(key); } catch (e) { return null; }
}

function store(area, key, value) {
  try {
    if (value === null) area.removeItem(key); else area.setItem(key, value);
  } catch (e) { /* storage disabled: memSecret keeps this load going */ }
}

// takeSecret keeps the secret of a page that came with one, and drops
// the spent token from the address bar.
function takeSecret() {
  const m = document.querySelector('meta[name="parley-secret"]');
  if (m) {
    memSecret = m.content;
    store(localStorage, SECRET, m.content);
    setHolds(true);
    m.remove();
  }
  if (location.search) history.replaceState(null, '', location.pathname + location.hash);
}

function secret() { return memSecret || stored(localStorage, SECRET); }
function holds() { return memHolds || stored(sessionStorage, HOLDS) === '1'; }
function setHolds(yes) { memHolds = yes; store(sessionStorage, HOLDS, yes ? '1' : null); }

// connect opens the WebSocket and proves the secret; mode is resume (this
// tab is the page), ask (is Parley open in another tab?) or take (the
// person chose this tab).
function connect(mode) {
  const key = secret();
  if (!key) { setConn('nokey', ''); return; }
  const sock = new WebSocket(`ws://${location.host}/ws`);
  ws = sock;
  sock.onopen = () => sock.send(JSON.stringify({type: 'auth', secret: key, mode}));
  sock.onmessage = (e) => {
    received++;
    if (conn !== 'attached') { setHolds(true); clearNotice('ws'); setConn('attached', ''); }
    dispatch(JSON.parse(e.data));
  };
  sock.onclose = (e) => {
    if (ws !== sock) return;
    ws = null;
    switch (e.code) {
      case 4001: // replaced: another tab took over
      case 4002: // busy: another tab is the page
        setHolds(false);
        detach();
        setConn(e.code === 4001 ? 'replaced' : 'busy', e.reason);
        break;
      case 4003: // this secret is not the client's (an earlier run's)
        store(localStorage, SECRET, null);
        memSecret = null;
        setHolds(false);
        detach();
        setConn('nokey', e.reason);
        break;
      case 4004: setConn('free', e.reason); break;
      case 4000: detach(); setConn('refused', e.reason); break;
      default:
        if (TAB_TEXT[conn]) { // the person was choosing: let them choose again
          showNotice({level: 'error', text: 'Could not reach the Parley client. Is `parley ui` still running?'});
          render();
          break;
        }
        showNotice({level: 'error', key: 'ws', text: 'Lost the connection to the Parley client. Is `parley ui` still running? Retrying…'});
        conn = 'lost';
        setTimeout(() => connect(holds() ? 'resume' : 'ask'), 2000);
    }
  };
}

function setConn(c, reason) {
  conn = c;
  connReason = reason || '';
  render();
}

// detach forgets the meeting view of a page that is no longer the page.
function detach() {
  stopMedia();
  epoch = null;
  meeting = null;
  state = {phase: 'connecting'};
  for (const t of document.querySelectorAll('.tile')) t.remove();
}

// What a tab that is not the page shows: title, text, whether it offers
// to take over, whether it shows the client's reason.
const TAB_TEXT = {
  busy: ['Parley is open in another tab',
    'This Parley client works in one tab at a time, and another tab of this browser has it. Go on there, or use it here instead: the other tab then stops.', true, false],
  replaced: ['Parley is now open in another tab',
    'Another tab of this browser took over this Parley client, so this tab stopped. Go on there, or use it here again: the other tab then stops.', true, false],
  free: ['Parley is not open in another tab',
    'This tab has not used this Parley client yet; it starts when you choose.', true, false],
  nokey: ['This tab cannot use this Parley client',
    'Open the link that `parley ui` printed when it started. Each link works once: if it was opened already, use the tab it opened, or restart `parley ui` for a new link.', false, true],
  refused: ['The Parley client refused this page', 'Reload the page; if that does not help, restart `parley ui`.', false, true],
};

function dispatch(msg) {
  switch (msg.type) {
    case 'state': onState(msg); break;
    case 'epoch':
      epoch = msg;
      if (worker) worker.postMessage(msg);
      render();
      break;
    case 'send':
      if (worker) worker.postMessage(msg);
      break;
    case 'answer':
      if (pc && pc !== 'starting') pc.setRemoteDescription({type: 'answer', sdp: msg.sdp}).catch((e) =>
        showNotice({level: 'error', key: 'media', text: 'The client\'s media answer was refused: ' + e.message}));
      break;
    case 'meeting': announceAsks(msg); meeting = msg; render(); break;
    case 'talk': onTalk(msg); break;
    case 'setup': onSetup(msg); break;       // firstrun.js
    case 'linkinfo': onLinkInfo(msg); break; // firstrun.js
    case 'paths':
      paths = msg.paths || {};
      relay = msg.relay || null;
      setLayers(!!relay && relay.state === 'connected');
      break;
    case 'notice':
      if (msg.text) showNotice(msg); else clearNotice(msg.key);
      if (msg.key === 'chain') setChain(!msg.text);
      break;
  }
}

// announceAsks tells the host, with a notice and a short tone, of each
// person who asks to join since the last meeting message.
let asked = new Set();
let asksShown = 0; // for tests: notices shown
function announceAsks(msg) {
  // A request refused for its passcode is not the host's to decide.
  const now = new Set(((msg && msg.pending) || []).filter((p) => !p.wrongPasscode).map((p) => `${p.user}/${p.device}`));
  if (state.leader) {
    for (const who of now) {
      if (asked.has(who)) continue;
      asksShown++;
      showNotice({level: 'info', key: 'ask-' + who, sticky: true, text: `${who} asks to join: admit them under "Waiting to be admitted".`});
      tone();
    }
  }
  for (const who of asked) if (!now.has(who)) clearNotice('ask-' + who);
  asked = now;
}

// tone plays a short, quiet chime (WebAudio; nothing if the browser
// does not allow sound yet).
function tone() {
  try {
    const ac = new (window.AudioContext || window.webkitAudioContext)();
    const o = ac.createOscillator(), g = ac.createGain();
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.08, ac.currentTime);
    g.gain.exponentialRampToValueAtTime(0.001, ac.currentTime + 0.3);
    o.connect(g).connect(ac.destination);
    o.start();
    o.stop(ac.currentTime + 0.3);
    o.onended = () => ac.close();
  } catch (e) { /* no sound: the notice is enough */ }
}

// Icons are inline SVG: a glyph such as a check mark or a warning sign
// shows as an empty box where the system's fonts lack it.
const ICON = {
  check: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M3 8.5l3.2 3.2L13 5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  warn: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M8 1.8L15 14H1z" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"/><path d="M8 6v4M8 11.8v.4" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/></svg>',
  hand: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M5 8V3.5a1 1 0 0 1 2 0V7M7 7V2.5a1 1 0 0 1 2 0V7M9 7V3.5a1 1 0 0 1 2 0V8M11 8V6a1 1 0 0 1 2 0v3.5C13 12.5 11 15 8.3 15 6 15 4.8 13.6 3.6 11.6L2.4 9.5a1 1 0 0 1 1.7-1L5 10" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  'thumbs-up': '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M2 7h2.5v7H2zM4.5 13.5l1.5.5h5.5c.8 0 1.3-.5 1.5-1.2l1-4.3c.2-.8-.4-1.5-1.2-1.5H9.5l.5-3c.1-.8-.5-1.5-1.2-1.5L4.5 7" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round"/></svg>',
  clap: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M4 9l3.5-5a1 1 0 0 1 1.6 1.2L7.5 7.5l3-4a1 1 0 0 1 1.6 1.2L9.5 8.5l2-2.3a1 1 0 0 1 1.5 1.3L10 11.5C8.5 13.5 6 14 4.3 12.5 3 11.4 3 10.3 4 9zM11 1.5l.3-1M13.5 2.5l.8-.7M14.5 5h1" fill="none" stroke="currentColor" stroke-width="1.2" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  heart: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M8 14S1.5 10 1.5 5.8A3.3 3.3 0 0 1 8 4.2a3.3 3.3 0 0 1 6.5 1.6C14.5 10 8 14 8 14z" fill="currentColor"/></svg>',
  laugh: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" stroke-width="1.3"/><path d="M4.5 9h7a3.5 3.5 0 0 1-7 0zM5.2 6.3l1.3-.8M10.8 6.3l-1.3-.8" fill="none" stroke="currentColor" stroke-width="1.2" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  mic: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><rect x="5.5" y="1.5" width="5" height="8" rx="2.5" fill="none" stroke="currentColor" stroke-width="1.4"/><path d="M3 7.5a5 5 0 0 0 10 0M8 12.5v2.5" fill="none" stroke="currentColor" stroke-width="1.4" stroke-linecap="round"/></svg>',
  micOff: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><rect x="5.5" y="1.5" width="5" height="8" rx="2.5" fill="none" stroke="currentColor" stroke-width="1.4"/><path d="M3 7.5a5 5 0 0 0 10 0M8 12.5v2.5M2 2l12 12" fill="none" stroke="currentColor" stroke-width="1.4" stroke-linecap="round"/></svg>',
  cam: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><rect x="1.5" y="4" width="9" height="8" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.4"/><path d="M10.5 7l4-2.5v7l-4-2.5" fill="none" stroke="currentColor" stroke-width="1.4" stroke-linejoin="round"/></svg>',
  camOff: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><rect x="1.5" y="4" width="9" height="8" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.4"/><path d="M10.5 7l4-2.5v7l-4-2.5M1 1.5l13 13" fill="none" stroke="currentColor" stroke-width="1.4" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  screen: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><rect x="1.5" y="2.5" width="13" height="9" rx="1" fill="none" stroke="currentColor" stroke-width="1.4"/><path d="M5 14.5h6M8 11.5v3M8 9.5v-5M5.8 6.5L8 4.3l2.2 2.2" fill="none" stroke="currentColor" stroke-width="1.4" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  grid: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M2 2h5v5H2zM9 2h5v5H9zM2 9h5v5H2zM9 9h5v5H9z" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round"/></svg>',
  speaker: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M1.5 2h13v8.5h-13zM1.5 12.5h3.5v2H1.5zM6.25 12.5h3.5v2h-3.5zM11 12.5h3.5v2H11z" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round"/></svg>',
  rec: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="6.3" fill="none" stroke="currentColor" stroke-width="1.4"/><circle cx="8" cy="8" r="3.2" fill="currentColor"/></svg>',
  leave: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M6 2.5H2.5v11H6M10 4.5L13.5 8 10 11.5M13.5 8H6" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  end: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M1.5 9.5c3.5-3.3 9.5-3.3 13 0l-1.8 2-2.5-1.2V8.2a8 8 0 0 0-4.4 0v2.1l-2.5 1.2z" fill="currentColor"/></svg>',
  surprise: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" stroke-width="1.3"/><circle cx="5.8" cy="6.3" r=".8" fill="currentColor"/><circle cx="10.2" cy="6.3" r=".8" fill="currentColor"/><ellipse cx="8" cy="10.5" rx="1.4" ry="1.8" fill="none" stroke="currentColor" stroke-width="1.2"/></svg>',
};

function setChain(ok) {
  const el = $('chain-status');
  el.innerHTML = ok ? `chain ${esc(state.chainId || '')} ${ICON.check}` : 'chain: see the message';
  el.className = 'pill ' + (ok ? 'ok' : 'bad');
}

function onState(msg) {
  const before = state.phase;
  state = msg;
  if (msg.phase === 'waiting' || msg.phase === 'call') {
    startMedia();
  } else {
    stopMedia();
    epoch = null;
    meeting = null;
    // The tiles belong to the call that ended (their elements to its
    // connection): the next call draws its own.
    for (const t of document.querySelectorAll('.tile')) t.remove();
  }
  if (msg.phase === 'signin' && before !== 'signin') fillDevices();
  // What went wrong in the lobby (a mistyped invite, say) is over once a
  // meeting starts: its notices do not follow the person into the call,
  // but for those about what lasts (the chain, the media, the browser).
  if (before === 'lobby' && msg.phase !== 'lobby') {
    for (const el of document.querySelectorAll('#notices .notice[data-phase="lobby"]')) {
      if (LASTING.has(el.dataset.key)) continue;
      el.remove();
      if (notices.get(el.dataset.key) === el) notices.delete(el.dataset.key);
    }
  }
  render();
}

// ---- notices

// Notices about what outlasts a phase, kept when the lobby's go.
const LASTING = new Set(['chain', 'media', 'browser', 'camera', 'ws']);

// A notice with a key stays until cleared, unless it is only info; sticky
// keeps an info notice too (a person asking to join, until admitted).
function showNotice({level, key, text, sticky}) {
  let el = key ? notices.get(key) : null;
  if (!el) {
    el = document.createElement('div');
    el.onclick = () => { el.remove(); if (key) notices.delete(key); };
    $('notices').appendChild(el);
    if (key) notices.set(key, el);
  }
  el.className = 'notice ' + (level || 'info');
  el.textContent = text;
  el.dataset.key = key || '';
  el.dataset.phase = state.phase || '';
  if (!key || (level === 'info' && !sticky)) {
    const ms = level === 'error' ? 20000 : level === 'warn' ? 12000 : 6000;
    setTimeout(() => { el.remove(); if (key && notices.get(key) === el) notices.delete(key); }, ms);
  }
}

function clearNotice(key) {
  const el = notices.get(key);
  if (el) { el.remove(); notices.delete(key); }
}

// ---- media

async function startMedia() {
  if (pc) return;
  if (typeof RTCRtpScriptTransform === 'undefined') {
    showNotice({level: 'error', key: 'browser', text: 'This browser cannot encrypt media end to end (no RTCRtpScriptTransform); use a current Chromium, Chrome, Firefox or Safari.'});
    return;
  }
  pc = 'starting';
  try {
    stopPreview(); // devices.js: the lobby's preview gives the camera to the call
    local.stream = await navigator.mediaDevices.getUserMedia(mediaConstraints());
    clearNotice('camera');
  } catch (e) {
    local.stream = null;
    showNotice({level: 'error', key: 'camera', text: `Camera and microphone are not available (${e.name}${e.message ? ': ' + e.message : ''}). You can still see and hear the others; they cannot see or hear you.`});
  }
  if (pc !== 'starting') return; // the call ended meanwhile
  local.video = local.stream ? local.stream.getVideoTracks()[0] || null : null;
  local.audio = local.stream ? local.stream.getAudioTracks()[0] || null : null;
  worker = new Worker('sframe-worker.js');
  worker.onmessage = (e) => {
    const d = e.data;
    if (d.type === 'stats') workerStats = d.stats;
    else if (d.type === 'owner') { takeSlot(d.slot, d.member); e.target.postMessage({type: 'owned', slot: d.slot, seq: d.seq}); }
  };
  if (epoch) worker.postMessage(epoch);
  const conn = new RTCPeerConnection();
  const streams = local.stream ? [local.stream] : [];
  // Transforms are attached right after each transceiver is made, before
  // the offer: Chromium ignores a receiver transform set later on the
  // offering side.
  // The camera goes out in three layers (quarter, half and full size):
  // on a media relay each member gets the one its bandwidth allows. On
  // the mesh only the full one is sent (setLayers).
  local.vtr = conn.addTransceiver(local.video || 'video', {direction: 'sendonly', streams, sendEncodings: [
    {rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000, active: false},
    {rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000, active: false},
    {rid: 'f', maxBitrate: 1500000},
  ]});
  local.layersOn = false;
  local.vtr.sender.transform = new RTCRtpScriptTransform(worker, {op: 'encrypt', kind: 'video'});
  local.atr = conn.addTransceiver(local.audio || 'audio', {direction: 'sendonly', streams});
  local.atr.sender.transform = new RTCRtpScriptTransform(worker, {op: 'encrypt', kind: 'audio'});
  // The shared screen's sender, silent until Share screen (screen.js).
  local.str = conn.addTransceiver('video', {direction: 'sendonly'});
  local.str.sender.transform = new RTCRtpScriptTransform(worker, {op: 'encrypt', kind: 'screen'});
  slots.length = 0;
  for (let i = 0; i < NUM_SLOTS; i++) {
    const v = conn.addTransceiver('video', {direction: 'recvonly'});
    v.receiver.transform = new RTCRtpScriptTransform(worker, {op: 'decrypt', kind: 'video', slot: i});
    const a = conn.addTransceiver('audio', {direction: 'recvonly'});
    a.receiver.transform = new RTCRtpScriptTransform(worker, {op: 'decrypt', kind: 'audio', slot: i});
    const el = document.createElement('video');
    el.autoplay = true;
    el.playsInline = true;
    el.srcObject = new MediaStream([v.receiver.track, a.receiver.track]);
    applySpeaker(el); // devices.js
    const s = conn.addTransceiver('video', {direction: 'recvonly'});
    s.receiver.transform = new RTCRtpScriptTransform(worker, {op: 'decrypt', kind: 'screen', slot: i});
    const sel = document.createElement('video');
    sel.autoplay = sel.playsInline = sel.muted = true;
    sel.srcObject = new MediaStream([s.receiver.track]);
    slots.push({v, a, s, el, sel});
  }
  pc = conn;
  conn.onconnectionstatechange = () => {
    if (conn.connectionState === 'failed') showNotice({level: 'error', key: 'media', text: 'The media connection to the Parley client failed; reload the page.'});
  };
  const offer = await conn.createOffer();
  await conn.setLocalDescription(offer);
  await new Promise((resolve) => {
    if (conn.iceGatheringState === 'complete') return resolve();
    conn.onicegatheringstatechange = () => { if (conn.iceGatheringState === 'complete') resolve(); };
    setTimeout(resolve, 3000);
  });
  send({type: 'offer', sdp: conn.localDescription.sdp, video: slots.map((s) => s.v.mid), audio: slots.map((s) => s.a.mid),
    screen: slots.map((s) => s.s.mid), screenSend: local.str.mid});
  render();
}

function stopMedia() {
  if (pc && pc !== 'starting') pc.close();
  pc = null;
  if (worker) worker.terminate();
  worker = null;
  workerStats = null;
  if (local.stream) local.stream.getTracks().forEach((t) => t.stop());
  if (local.screen) local.screen.stop();
  local.stream = local.video = local.audio = local.screen = local.str = null;
  local.muted = local.cameraOff = false;
  slots.length = 0;
  slotOwner.length = 0;
  relay = null;
}

// takeSlot shows slot i as member key's from now on: the Worker saw a
// frame of key's there (it waits for this before letting the frame
// through). A member is on one slot at a time.
function takeSlot(i, key) {
  for (let j = 0; j < slotOwner.length; j++) if (slotOwner[j] === key) slotOwner[j] = '';
  slotOwner[i] = key;
  if (state.phase === 'call') renderTiles();
}

function slotOf(key) { return slotOwner.indexOf(key); }
function memberStats(key) { return workerStats && workerStats.members ? workerStats.members[key] : null; }
function slotFails(key) { const i = slotOf(key); return i >= 0 && workerStats ? workerStats.slots[i] : null; }

// setLayers turns the camera's quarter and half layers on while the call
// goes through a media relay, and off on the mesh, which takes the full
// layer only.
async function setLayers(on) {
  if (!local.vtr || local.layersOn === on) return;
  local.layersOn = on;
  const p = local.vtr.sender.getParameters();
  if (!p.encodings || p.encodings.length !== 3) return;
  for (const e of p.encodings) if (e.rid !== 'f') e.active = on;
  try { await local.vtr.sender.setParameters(p); } catch (e) { local.layersOn = null; }
}

async function toggle(which) {
  if (which === 'audio') {
    local.muted = !local.muted;
    if (local.atr) await local.atr.sender.replaceTrack(local.muted ? null : local.audio);
  } else {
    local.cameraOff = !local.cameraOff;
    if (local.vtr) await local.vtr.sender.replaceTrack(local.cameraOff ? null : local.video);
  }
  render();
}

function pageStats() {
  const s = workerStats || {encrypted: 0, notSent: 0, slots: {}, members: {}};
  let shown = 0;
  for (const sl of slots) {
    const q = sl.el.getVideoPlaybackQuality ? sl.el.getVideoPlaybackQuality() : null;
    if (q) shown += q.totalVideoFrames;
  }
  return {
    encrypted: s.encrypted, notSent: s.notSent, videoShown: shown,
    // One line per member decrypted (with its slot's failures), and one
    // per slot of failures that no member owns.
    slots: Object.entries(s.members || {}).map(([member, x]) => {
      const f = s.slots[slotOf(member)] || {};
      return {slot: slotOf(member), member, video: x.video, audio: x.audio, screen: x.screen,
        authFailed: f.authFailed || 0, noKey: f.noKey || 0, replayed: f.replayed || 0, malformed: f.malformed || 0};
    }).concat(Object.values(s.slots).filter((f) => !slotOwner[f.slot]).map((f) => ({slot: f.slot, member: '', video: 0, audio: 0, screen: 0,
      authFailed: f.authFailed, noKey: f.noKey, replayed: f.replayed, malformed: f.malformed}))),
  };
}

setInterval(() => {
  if (state.phase === 'call') renderTiles();
}, 1000);

// ---- rendering

function show(id) {
  for (const s of ['tab', 'signin', 'lobby', 'waiting', 'call', 'over']) $(s).hidden = s !== id;
}

function renderTab() {
  const [title, text, canTake, why] = TAB_TEXT[conn];
  show('tab');
  $('tab').dataset.conn = conn;
  $('tab-title').textContent = title;
  $('tab-text').textContent = text;
  $('tab-reason').textContent = connReason ? 'The client said: ' + connReason : '';
  $('tab-reason').hidden = !why || !connReason;
  $('take-btn').hidden = !canTake;
  $('take-btn').disabled = false;
}

function render() {
  $('chain-status').hidden = !!TAB_TEXT[conn];
  if (TAB_TEXT[conn]) { $('whoami').textContent = ''; renderTab(); return; }
  const self = state.self;
  $('whoami').textContent = self ? `${self.user}/${self.device}` : '';
  if (state.phase !== 'call' && recorder) {
    // The call ended: the recording ends with it (and its notice with the
    // call).
    recorder.stop();
    recorder = null;
  }
  if (state.phase !== 'lobby' && preview.stream) stopPreview(); // devices.js
  switch (state.phase) {
    case 'signin': show('signin'); renderSetup(); break; // firstrun.js
    case 'lobby': show('lobby'); listDevices(); break;
    case 'waiting': show('waiting'); $('waiting-id').textContent = state.meeting; break;
    case 'call': show('call'); renderCall(); break;
    case 'over': show('over'); $('over-reason').textContent = state.reason; break;
    default: show('');
  }
}

function fillDevices() {
  const sel = $('device-select');
  sel.innerHTML = '';
  for (const d of state.devices || []) {
    const o = document.createElement('option');
    o.value = d.user + '/' + d.device;
    o.textContent = `${d.user}/${d.device}` + (d.encrypted ? '' : ' (unencrypted key)');
    o.dataset.encrypted = d.encrypted ? '1' : '';
    sel.appendChild(o);
  }
  const upd = () => { const o = sel.selectedOptions[0]; $('passphrase-label').hidden = !(o && o.dataset.encrypted); };
  sel.onchange = upd;
  upd();
}

// ctl sets a control bar button: an inline SVG icon (no glyphs from fonts
// the system may lack) and its label, which is the button's whole text.
function ctl(id, icon, label) {
  const b = $(id);
  const html = ICON[icon] + `<span class="lbl">${esc(label)}</span>`;
  if (b.innerHTML !== html) b.innerHTML = html;
  b.setAttribute('aria-label', label);
}

function renderCall() {
  $('meeting-id').textContent = state.meeting || '';
  const startsAt = meeting && meeting.startsAt ? meeting.startsAt * 1000 : 0;
  $('starts').hidden = !(startsAt > Date.now());
  if (startsAt > Date.now()) $('starts').textContent = `Starts at ${new Date(startsAt).toLocaleString()}: people who come early wait in the lobby until then.`;
  $('invite-link').textContent = state.invite || '';
  $('epoch').textContent = epoch ? epoch.epoch : '–';
  $('code').textContent = epoch ? epoch.code : 'waiting for the key…';
  ctl('end-btn', 'end', 'End for all');
  ctl('leave-btn', 'leave', 'Leave');
  $('end-btn').hidden = !state.leader;
  $('leave-btn').hidden = !!state.leader;
  $('leader-panel').hidden = !state.leader;
  ctl('mute-btn', local.muted || !local.audio ? 'micOff' : 'mic', local.muted ? 'Unmute' : 'Mute');
  ctl('hand-btn', 'hand', handUp ? 'Lower hand' : 'Raise hand');
  ctl('record-btn', 'rec', recorder ? 'Stop recording' : 'Record');
  ctl('camera-btn', local.cameraOff || !local.video ? 'camOff' : 'cam', local.cameraOff ? 'Camera on' : 'Camera off');
  ctl('screen-btn', 'screen', local.screen ? 'Stop sharing' : 'Share screen');
  ctl('view-btn', view === 'grid' ? 'speaker' : 'grid', view === 'grid' ? 'Speaker view' : 'Grid view');
  $('mute-btn').classList.toggle('off', local.muted || !local.audio);
  $('camera-btn').classList.toggle('off', local.cameraOff || !local.video);
  $('screen-btn').classList.toggle('on', !!local.screen);
  $('record-btn').classList.toggle('on', !!recorder);
  $('hand-btn').classList.toggle('on', handUp);
  $('mute-btn').disabled = !local.audio;
  $('camera-btn').disabled = !local.video;
  if (state.leader) {
    const ul = $('pending');
    ul.innerHTML = '';
    const pending = (meeting && meeting.pending) || [];
    if (pending.length === 0) ul.innerHTML = '<li class="small">nobody</li>';
    for (const p of pending) {
      const li = document.createElement('li');
      li.textContent = `${p.user}/${p.device} `;
      if (p.removedEarlier) {
        // A removal stands: this person is let back in only by this click.
        const note = document.createElement('span');
        note.className = 'small warn';
        note.textContent = '(removed earlier) ';
        li.appendChild(note);
      }
      if (p.wrongPasscode) {
        const note = document.createElement('span');
        note.className = 'small warn';
        note.textContent = '(wrong passcode: refused, and told so)';
        li.appendChild(note);
        ul.appendChild(li);
        continue;
      }
      const b = document.createElement('button');
      b.className = 'admit';
      b.dataset.member = `${p.user}/${p.device}`;
      b.textContent = p.removedEarlier ? 'Let back in' : 'Admit';
      b.onclick = () => { b.disabled = true; send({type: 'admit', user: p.user, device: p.device}); };
      li.appendChild(b);
      ul.appendChild(li);
    }
  }
  renderTiles();
  renderPeople();
}

// renderPeople lists the members of the epoch: the name each gave beside
// the user and device the chain proves, the verified mark, host, you, a
// raised hand and a recording.
function renderPeople() {
  const members = epoch ? epoch.members : [];
  const ul = $('people-list');
  ul.innerHTML = '';
  $('people-count').textContent = members.length ? `(${members.length})` : '';
  for (const m of members) {
    const key = `${m.user}/${m.device}`;
    const li = document.createElement('li');
    li.dataset.member = key;
    const name = m.self ? $('name-input').value.trim() : names.get(key);
    const raised = m.self ? handUp : hands.get(key);
    const recording = m.self ? !!recorder : recorders.get(key);
    const mark = m.verified ? `<span class="verified" title="device registered on chain with this key">${ICON.check}</span>`
      : `<span class="unverified" title="${esc(m.problem || '')}">${ICON.warn}</span>`;
    li.innerHTML = (name ? `<b>${esc(name)}</b> <span class="small">${esc(key)}</span>` : `<b>${esc(key)}</b>`) + ` ${mark}` +
      (meeting && meeting.leader === key ? '<span class="badge">host</span>' : '') + (m.self ? '<span class="badge">you</span>' : '') +
      (raised ? `<span class="hand" title="hand raised">${ICON.hand}</span>` : '') +
      (recording ? '<span class="badge rec" title="recording this call">REC</span>' : '');
    ul.appendChild(li);
  }
}

function tileFor(key) {
  let t = document.querySelector(`.tile[data-member="${CSS.escape(key)}"]`);
  if (!t) {
    t = document.createElement('div');
    t.className = 'tile';
    t.dataset.member = key;
    t.innerHTML = '<div class="label"></div><div class="status" hidden></div>';
    $('tiles').appendChild(t);
  }
  return t;
}

let paths = {}; // member → "direct" or "relayed" (the client's "paths" message)

// ---- talk: chat, hands, reactions, names (what members say besides
// media; each comes with the sender's user and device, proven by the
// sender's signature under the device key the chain binds to it)

const names = new Map();    // member → display name it gave
const hands = new Map();    // member → raised
const chatLines = [];       // for tests: {from, name, text, self}
const reactionsSeen = [];   // for tests: {from, reaction}
let handUp = false;
const recorders = new Map(); // member → recording (its signed notice)
let askedToMute = 0;         // for tests: the host's requests honoured
let recorder = null;         // this page's MediaRecorder, while recording
let recordedBytes = 0;       // for tests: size of the last recording
const REACTIONS = ['thumbs-up', 'clap', 'heart', 'laugh', 'surprise'];

function onTalk(msg) {
  const key = `${msg.user}/${msg.device}`;
  if (msg.name) names.set(key, msg.name);
  switch (msg.what) {
    case 'chat': {
      chatLines.push({from: key, name: msg.name || '', text: msg.text, self: !!msg.self});
      const li = document.createElement('li');
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = (msg.self ? 'You' : (msg.name ? `${msg.name} (${key})` : key)) + ':';
      who.title = msg.self ? '' : `signed by ${key}'s device key, which the chain binds to it`;
      const text = document.createElement('span');
      text.textContent = msg.text;
      li.append(who, text);
      $('chat-log').appendChild(li);
      $('chat-log').scrollTop = $('chat-log').scrollHeight;
      if (!msg.self && document.hidden) tone();
      break;
    }
    case 'hand':
      if (msg.self) handUp = msg.raised; else hands.set(key, msg.raised);
      if (msg.raised && !msg.self) showNotice({level: 'info', key: 'hand-' + key, text: `${msg.name || key} raised a hand.`});
      if (!msg.raised) clearNotice('hand-' + key);
      break;
    case 'mute':
      // Only the host's request reaches the page (the client checks the
      // sender against the proven leader); the page mutes its own mic.
      if (msg.self) break;
      askedToMute++;
      if (!local.muted) toggle('audio');
      showNotice({level: 'warn', key: 'askmute', sticky: true,
        text: `The host (${msg.name || key}) asked you to mute. Your microphone is off; unmute when you want to speak.`});
      break;
    case 'record':
      if (msg.self) break;
      recorders.set(key, msg.on);
      break;
    case 'react': {
      reactionsSeen.push({from: key, reaction: msg.reaction});
      const t = document.querySelector(`.tile[data-member="${CSS.escape(key)}"]`);
      if (t && ICON[msg.reaction]) {
        const r = document.createElement('div');
        r.className = 'reaction';
        r.innerHTML = ICON[msg.reaction];
        t.appendChild(r);
        setTimeout(() => r.remove(), 3000);
      }
      break;
    }
  }
  render();
}

function resetTalk() {
  names.clear();
  hands.clear();
  recorders.clear();
  handUp = false;
  $('chat-log').innerHTML = '';
}

function renderTiles() {
  const members = epoch ? epoch.members : (state.self ? [Object.assign({verified: true}, state.self)] : []);
  const keep = new Set();
  const now = Date.now();
  const peers = new Map(((meeting && meeting.peers) || []).map((p) => [p.member, p]));
  for (const m of members) {
    const key = `${m.user}/${m.device}`;
    keep.add(key);
    const t = tileFor(key);
    let v = t.querySelector('video');
    const mine = m.self ? -1 : slotOf(key);
    const want = mine >= 0 ? slots[mine].el : null;
    if (m.self) {
      // The self-view shows this call's camera track: a tile kept from an
      // earlier call would still show that call's stopped track (black).
      const shown = v && v.srcObject ? v.srcObject.getVideoTracks()[0] : null;
      if (local.video && shown !== local.video) {
        if (!v) {
          v = document.createElement('video');
          v.autoplay = v.muted = v.playsInline = true;
          v.className = 'self';
          t.prepend(v);
        }
        v.srcObject = new MediaStream([local.video]);
      } else if (!local.video && v) {
        v.remove();
      }
    } else if (want && v !== want) {
      if (v) v.remove();
      t.prepend(want);
      v = want;
    } else if (!m.self && !want && v) {
      // Its slot went to another member (a relay forwards the members
      // who spoke last): the element went with it.
      v.remove();
      v = null;
    }
    // A video element taken out of the page is paused (a removed member's
    // tile goes, and its slot's element with it), and autoplay does not
    // start it again when it is put back: a member let back in would stay
    // frozen.
    if (v && v.paused && v.srcObject) v.play().catch(() => {});
    const leader = meeting && meeting.leader === key;
    const mark = m.verified ? `<span class="verified" title="device registered on chain with this key">${ICON.check} verified</span>`
      : `<span class="unverified" title="${esc(m.problem || '')}">${ICON.warn} not verified</span>`;
    let audioState = '', status = '', bad = false;
    if (m.self) {
      audioState = local.muted || !local.audio ? 'mic muted' : 'mic on';
      if (!local.video || local.cameraOff) status = 'Your camera is off';
    } else {
      const st = memberStats(key), fl = slotFails(key);
      const peer = peers.get(key);
      const onRelay = !!relay && relay.state === 'connected';
      // On a relay only the loudest voices come: silence says nothing.
      audioState = st && now - st.lastAudio < QUIET_MS ? 'mic on' : (onRelay ? '' : 'mic muted');
      if (st && now - st.lastVideo < QUIET_MS) status = '';
      else if (fl && fl.lastFail === 'noKey' && now - fl.lastFailAt < RECENT_MS) { status = `Cannot show ${key} yet: waiting for the call's new key.`; bad = true; }
      else if (fl && fl.lastFail && now - fl.lastFailAt < RECENT_MS) { status = `What arrives as ${key} cannot be decrypted (${fl.authFailed + fl.replayed + fl.malformed} pieces so far): it is not under this call's key, so it is not shown.`; bad = true; }
      else if (onRelay && !st) status = `Only the ${NUM_SLOTS - 4} people who spoke last are shown; ${key} is not among them now.`;
      else if (!onRelay && peer && peer.state !== 'connected') status = `Connecting to ${key}… (${peer.state || 'no connection yet'})`;
      else if (st && st.video > 0) status = `${key} turned the camera off`;
      else status = `Waiting for video from ${key}…`;
    }
    const shownName = m.self ? ($('name-input').value.trim() || '') : (names.get(key) || '');
    const raised = m.self ? handUp : hands.get(key);
    t.querySelector('.label').innerHTML = (shownName ? `<b class="name">${esc(shownName)}</b> <span class="small">${esc(m.user)}/${esc(m.device)}</span>` : `<b>${esc(m.user)}</b> <span class="small">${esc(m.device)}</span>`) + ` ${mark}` +
      (raised ? `<span class="hand" title="hand raised">${ICON.hand}</span>` : '') +
      ((m.self ? recorder : recorders.get(key)) ? '<span class="badge rec" title="recording this call">REC</span>' : '') +
      (leader ? '<span class="badge">host</span>' : '') + (m.self ? '<span class="badge">you</span>' : '') +
      ` <span class="small">${audioState}</span>` + (paths[key] ? ` <span class="small path">${paths[key]}</span>` : '');
    const s = t.querySelector('.status');
    s.hidden = !status;
    s.textContent = status;
    s.className = 'status' + (bad ? ' bad' : '');
    let rb = t.querySelector('button.remove');
    let hb = t.querySelector('button.transfer');
    if (state.leader && !m.self && !rb) {
      rb = document.createElement('button');
      rb.className = 'remove danger';
      rb.dataset.member = key;
      rb.textContent = 'Remove';
      rb.onclick = () => { rb.disabled = true; send({type: 'remove', user: m.user, device: m.device}); };
      t.appendChild(rb);
      hb = document.createElement('button');
      hb.className = 'transfer quiet';
      hb.dataset.member = key;
      hb.textContent = 'Make host';
      hb.title = 'Hand the meeting over: they admit and remove people from then on';
      hb.onclick = () => { hb.disabled = true; send({type: 'transfer', user: m.user, device: m.device}); };
      t.appendChild(hb);
      const mb = document.createElement('button');
      mb.className = 'askmute quiet';
      mb.dataset.member = key;
      mb.textContent = 'Ask to mute';
      mb.title = 'Asks them to mute: their own client turns their microphone off and tells them';
      mb.onclick = () => send({type: 'askmute', user: m.user, device: m.device});
      t.appendChild(mb);
    } else if (!state.leader) {
      // No longer the host (handed over, or claimed by another).
      if (rb) rb.remove();
      if (hb) hb.remove();
      const mb = t.querySelector('button.askmute');
      if (mb) mb.remove();
    }
  }
  renderScreens(members, keep); // screen.js
  for (const t of document.querySelectorAll('.tile')) if (!keep.has(t.dataset.member)) t.remove();
  applyView(); // views.js
  // A member who left cannot stop its recording notice: it ends with it.
  for (const k of recorders.keys()) if (epoch && !keep.has(k)) recorders.delete(k);
  // Who records, for as long as it lasts, above the tiles.
  const who = [...recorders].filter(([, on]) => on).map(([k]) => (names.get(k) ? `${names.get(k)} (${k})` : k));
  if (recorder) who.unshift('You are');
  const banner = $('rec-banner');
  banner.hidden = who.length === 0;
  banner.textContent = who.length === 0 ? '' : (recorder && who.length === 1 ? 'You are recording this call; everyone in it is told.'
    : `${who.filter((w) => w !== 'You are').join(', ')} ${who.length - (recorder ? 1 : 0) > 1 ? 'are' : 'is'} recording this call` + (recorder ? ', and so are you.' : '.'));
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
}

// ---- controls

$('signin-btn').onclick = () => {
  const [user, device] = ($('device-select').value || '/').split('/');
  if (!user) { showNotice({level: 'error', text: 'Choose a device key first.'}); return; }
  send({type: 'signin', user, device, passphrase: $('passphrase').value});
  $('passphrase').value = '';
};
$('create-btn').onclick = () => {
  resetTalk();
  sendName();
  const start = $('start-at').value ? Math.floor(new Date($('start-at').value).getTime() / 1000) : 0;
  send({type: 'create', admitAll: $('admit-all').checked, passcode: $('create-passcode').value, relayOnly: $('relay-only').checked,
    startsAt: start, minutes: Number($('length').value)});
  $('create-passcode').value = '';
};
$('join-btn').onclick = () => {
  resetTalk();
  sendName();
  send({type: 'join', invite: $('invite-input').value, passcode: $('join-passcode').value, relayOnly: $('relay-only').checked});
  $('join-passcode').value = '';
};
$('signout-btn').onclick = () => send({type: 'signout'});
const NAME = 'parley.name'; // localStorage: the display name
try { $('name-input').value = localStorage.getItem(NAME) || ''; } catch (e) { /* storage may be off */ }
function sendName() {
  const name = $('name-input').value.trim();
  try { localStorage.setItem(NAME, name); } catch (e) { /* storage may be off */ }
  if (name) send({type: 'name', text: name});
}
$('name-input').onchange = sendName;
$('chat-form').onsubmit = (ev) => {
  ev.preventDefault();
  const text = $('chat-input').value;
  if (!text.trim()) return;
  send({type: 'chat', text});
  $('chat-input').value = '';
};
$('hand-btn').onclick = () => send({type: 'hand', raised: !handUp});
$('record-btn').onclick = () => (recorder ? stopRecording() : startRecording());

// Recording: what this page receives, already decrypted, one WebM file
// per member (as \`parley call --record\` writes one file per peer), saved
// on this computer. The others are told first (a signed notice, sent
// again at every epoch while it lasts) and see a banner and a badge until
// it stops. Members who join while it runs are not in it.
function startRecording() {
  const parts = [];
  for (const m of (epoch ? epoch.members : [])) {
    const key = `${m.user}/${m.device}`;
    const sl = !m.self && slots[slotOf(key)];
    if (!sl) continue;
    let rec;
    try { rec = new MediaRecorder(new MediaStream([sl.v.receiver.track, sl.a.receiver.track]), {mimeType: 'video/webm'}); } catch (e) {
      showNotice({level: 'error', text: 'This browser cannot record: ' + e.message});
      return;
    }
    const chunks = [];
    rec.ondataavailable = (ev) => { if (ev.data.size) chunks.push(ev.data); };
    rec.onstop = () => {
      const blob = new Blob(chunks, {type: 'video/webm'});
      recordedBytes += blob.size;
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `parley-${state.meeting || 'call'}-${key.replace('/', '-')}.webm`;
      a.textContent = `Save the recording of ${names.get(key) || key} (${Math.round(blob.size / 1024)} KB)`;
      $('recordings').appendChild(a);
    };
    parts.push(rec);
  }
  send({type: 'record', raised: true});
  recordedBytes = 0;
  for (const r of parts) r.start(1000);
  recorder = {stop: () => { for (const r of parts) if (r.state !== 'inactive') r.stop(); }};
  render();
}

function stopRecording() {
  if (!recorder) return;
  recorder.stop();
  recorder = null;
  send({type: 'record', raised: false});
  render();
}
for (const r of REACTIONS) {
  const b = document.createElement('button');
  b.className = 'react quiet';
  b.dataset.reaction = r;
  b.title = r.replace('-', ' ');
  b.innerHTML = ICON[r];
  b.onclick = () => send({type: 'react', reaction: r});
  $('react-bar').appendChild(b);
}
$('cancel-btn').onclick = () => send({type: 'leave'});
$('leave-btn').onclick = () => send({type: 'leave'});
$('end-btn').onclick = () => { if (confirm('End the meeting for everyone?')) send({type: 'end'}); };
$('lobby-btn').onclick = () => send({type: 'lobby'});
$('mute-btn').onclick = () => toggle('audio');
$('camera-btn').onclick = () => toggle('video');
$('take-btn').onclick = () => { $('take-btn').disabled = true; connect('take'); };
$('copy-invite').onclick = async () => {
  try { await navigator.clipboard.writeText(state.invite); showNotice({level: 'info', text: 'Invite link copied.'}); } catch (e) {
    showNotice({level: 'warn', text: 'Copy the invite link by hand: ' + state.invite});
  }
};

// Invite links open /join#<invite> (joinroute.go): the invite goes into
// the join box and out of the address bar and history (the fragment never
// left the browser), and is joined once this page is signed in. The
// leader's page also offers its signed invite as an .ics download.
(function inviteLinks() {
  let pending = '';
  if (location.pathname === '/join' && location.hash.length > 1) {
    pending = location.origin + '/join' + location.hash;
    $('invite-input').value = pending;
    history.replaceState(null, '', '/');
  }
  const ics = document.createElement('a');
  ics.textContent = 'Calendar file (.ics)';
  ics.download = 'parley-meeting.ics';
  ics.hidden = true;
  $('copy-invite').after(' ', ics);
  let icsText = '';
  setInterval(() => {
    if (pending && state.phase === 'lobby' && $('invite-input').value === pending) {
      pending = '';
      $('join-btn').click();
    }
    const text = state.leader && state.inviteIcs || '';
    if (text !== icsText) {
      if (ics.href.startsWith('blob:')) URL.revokeObjectURL(ics.href);
      icsText = text;
      ics.href = text ? URL.createObjectURL(new Blob([text], {type: 'text/calendar'})) : '';
      ics.hidden = !text;
    }
  }, 250);
})();

takeSecret();
connect(holds() ? 'resume' : 'ask');
