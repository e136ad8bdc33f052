// Parley's SFrame in the browser: RFC 9605 with cipher suite
// AES_256_GCM_SHA512_128 (0x0005) and Parley's media layer (docs/PROTOCOL.md
// section 6): a clear codec prefix (VP8: 10 bytes of a key frame, 3 of a
// delta frame; Opus: the TOC byte) authenticated as associated data.
//
//   frame on the wire = prefix || header || AES-GCM(key, nonce, aad, rest) || tag
//   aad   = header || prefix
//   nonce = salt XOR (4 zero bytes || u64_be(ctr))
//
// The page gives this Worker each epoch's per-sender keys (sframe_key and
// sframe_salt, derived by the client; never the meeting key). It encrypts
// the page's camera and microphone under this device's KID, one counter for
// both, and decrypts the other members' frames, dropping those that fail,
// are replayed, or have no key, and counting each.
'use strict';

const TAG = 16;
const REPLAY_WINDOW = 1024;
const MAX_HEADER = 17;

let send = null;                // {kid, epoch, key, salt, ctr}
let staged = null;              // the next epoch's send key, held until 'send' (the key transition)
let sendTo = 0;                 // the newest epoch the client said to send under
// holdMax bounds a held key if the client's 'send' never comes: a little
// over the client's own transition bound (call.DefaultKeyTransition).
const holdMax = 3000;
const keys = new Map();         // kid -> {key, salt, epoch, seen: Set, top}
let graceMs = 2000;
// stats: what was decrypted of each member (named by the KID that
// authenticated it) and what failed on each receive slot (a frame that
// fails names no one for sure).
const stats = {encrypted: 0, notSent: 0, slots: {}, members: {}};

function slotStats(slot) {
  let s = stats.slots[slot];
  if (!s) {
    s = {slot, authFailed: 0, noKey: 0, replayed: 0, malformed: 0, lastFail: '', lastFailAt: 0};
    stats.slots[slot] = s;
  }
  return s;
}

function memberStats(who) {
  let s = stats.members[who];
  if (!s) {
    s = {video: 0, audio: 0, screen: 0, lastVideo: 0, lastAudio: 0, lastScreen: 0};
    stats.members[who] = s;
  }
  return s;
}

// Slot owners. The client gives a receive slot to whichever member's
// frames it has (a relay forwards the members who spoke last), so the
// page never takes a slot's member from the client: each frame is shown
// as the member whose key authenticated it. When that member changes on
// a slot, the page moves the slot's video element to the member's tile
// first (an 'owner' message, answered by 'owned'), and only then is the
// frame let through, so no frame of one member plays on another's tile.
const owners = [];              // slot -> 'user/device'
const moving = new Map();       // slot -> {seq, done, resolve}: the page's answer awaited
const ownerWait = 1000;         // a page that does not answer is not waited for longer
let ownerSeq = 0;

function own(slot, who) {
  owners[slot] = who;
  const st = slotStats(slot);
  st.lastFail = '';
  const seq = ++ownerSeq;
  let resolve;
  const done = new Promise((r) => { resolve = r; setTimeout(r, ownerWait); });
  moving.set(slot, {seq, done, resolve});
  done.then(() => { if (moving.get(slot)?.seq === seq) moving.delete(slot); });
  postMessage({type: 'owner', slot, member: who, seq});
}

function b64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// prefixLen: the clear bytes of a frame of kind ('video' and 'screen'
// are VP8, 'audio' is Opus), all of it when shorter.
function prefixLen(kind, data) {
  if (data.length === 0) return 0;
  let p = 1;
  if (kind === 'video' || kind === 'screen') p = (data[0] & 0x01) === 0 ? 10 : 3;
  return Math.min(p, data.length);
}

// u64be writes v (an integer below 2^53) as n big-endian bytes.
function beBytes(v, n) {
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

function minLen(v) {
  let n = 1;
  while (n < 8 && v >= 2 ** (8 * n)) n++;
  return n;
}

// encodeHeader: RFC 9605 section 4.3, config byte X|K(3)|Y|C(3).
function encodeHeader(kid, ctr) {
  let cfg = 0;
  const parts = [];
  if (kid < 8) {
    cfg |= kid << 4;
  } else {
    const n = minLen(kid);
    cfg |= 0x80 | ((n - 1) << 4);
    parts.push(beBytes(kid, n));
  }
  if (ctr < 8) {
    cfg |= ctr;
  } else {
    const n = minLen(ctr);
    cfg |= 0x08 | (n - 1);
    parts.push(beBytes(ctr, n));
  }
  const len = 1 + parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(len);
  out[0] = cfg;
  let off = 1;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

// parseHeader returns {kid, ctr, len} or null; like the Go code it refuses
// an extended field that a short one could hold.
function parseHeader(data, off) {
  if (off >= data.length) return null;
  const cfg = data[off];
  let pos = off + 1;
  const field = (ext, nibble) => {
    if (!ext) return nibble;
    const n = nibble + 1;
    if (pos + n > data.length) return null;
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + data[pos + i];
    pos += n;
    if (v < 8 || (n > 1 && data[pos - n] === 0)) return null;
    return v;
  };
  const kid = field(cfg & 0x80, (cfg >> 4) & 0x07);
  if (kid === null) return null;
  const ctr = field(cfg & 0x08, cfg & 0x07);
  if (ctr === null) return null;
  return {kid, ctr, len: pos - off};
}

function nonce(salt, ctr) {
  const iv = salt.slice();
  const c = beBytes(ctr, 8);
  for (let i = 0; i < 8; i++) iv[4 + i] ^= c[i];
  return iv;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

async function importKey(raw) {
  return crypto.subtle.importKey('raw', raw, {name: 'AES-GCM'}, false, ['encrypt', 'decrypt']);
}

// setEpoch installs an epoch's keys: this device's for sending (counter 0),
// everyone's for receiving. The previous epoch's receive keys stay for the
// grace window; older ones go now.
async function setEpoch(msg) {
  graceMs = msg.graceMs || graceMs;
  const fresh = new Map();
  for (const m of msg.members) {
    fresh.set(m.kid, {key: await importKey(b64(m.key)), salt: b64(m.salt), epoch: msg.epoch, seen: new Set(), top: -1, member: m});
  }
  for (const [kid, k] of keys) {
    if (k.epoch < msg.epoch - 1) keys.delete(kid);
    else if (k.epoch < msg.epoch) setTimeout(() => { if (keys.get(kid) === k) keys.delete(kid); }, graceMs);
  }
  for (const [kid, k] of fresh) keys.set(kid, k);
  // The client gives every page instance its own block of counters in an
  // epoch, so a reloaded page never reuses a nonce of the one before.
  const self = fresh.get(msg.selfKid);
  if (send && send.kid === msg.selfKid && send.epoch === msg.epoch && msg.ctrBase < send.ctr) return;
  const next = self ? {kid: msg.selfKid, epoch: msg.epoch, key: self.key, salt: self.salt, ctr: msg.ctrBase || 0, since: Date.now()} : null;
  // The key transition: frames stay under the current key until the
  // client says every member holds the new one ('send'). A page with no
  // current key (a new page) uses the new one at once.
  if (msg.hold && send && next && sendTo < msg.epoch) {
    staged = next;
    return;
  }
  send = next;
  staged = null;
}

// sendUnder moves to the held key of epoch (or a newer held one).
function sendUnder(epoch) {
  if (epoch > sendTo) sendTo = epoch;
  if (staged && staged.epoch <= epoch) {
    send = staged;
    staged = null;
  }
}

async function encrypt(kind, frame, controller) {
  if (staged && Date.now() - staged.since > holdMax) sendUnder(staged.epoch);
  const s = send;
  const data = new Uint8Array(frame.data);
  if (!s) { stats.notSent++; return; } // never send a frame in the clear
  const ctr = s.ctr++;
  const p = prefixLen(kind, data);
  const header = encodeHeader(s.kid, ctr);
  const prefix = data.subarray(0, p);
  const ct = new Uint8Array(await crypto.subtle.encrypt(
    {name: 'AES-GCM', iv: nonce(s.salt, ctr), additionalData: concat(header, prefix), tagLength: 128},
    s.key, data.subarray(p)));
  frame.data = concat(prefix, header, ct).buffer;
  stats.encrypted++;
  controller.enqueue(frame);
}

// replayed checks and, once the frame authenticated, records ctr.
function fresh(k, ctr) {
  return !(k.seen.has(ctr) || ctr <= k.top - REPLAY_WINDOW);
}

function record(k, ctr) {
  k.seen.add(ctr);
  if (ctr > k.top) {
    k.top = ctr;
    if (k.seen.size > REPLAY_WINDOW) {
      for (const c of k.seen) if (c <= k.top - REPLAY_WINDOW) k.seen.delete(c);
    }
  }
}

function fail(st, what) {
  st[what]++;
  st.lastFail = what;
  st.lastFailAt = Date.now();
}

async function decrypt(kind, slot, frame, controller) {
  const data = new Uint8Array(frame.data);
  const st = slotStats(slot);
  const p0 = prefixLen(kind, data);
  // Where the header may be: after the codec prefix, or, for a frame too
  // short to hold it whole, after a shorter prefix whose header ends where
  // the tag starts (docs/PROTOCOL.md section 6).
  const splits = [];
  const h0 = parseHeader(data, p0);
  if (h0 && p0 + h0.len + TAG <= data.length) splits.push({p: p0, h: h0});
  if (data.length <= 10 + MAX_HEADER + TAG) {
    for (let p = p0 - 1; p >= 0; p--) {
      const h = parseHeader(data, p);
      if (h && p + h.len + TAG === data.length) splits.push({p, h});
    }
  }
  if (splits.length === 0) { fail(st, 'malformed'); return; }
  let lastWhy = 'authFailed';
  for (const {p, h} of splits) {
    const k = keys.get(h.kid);
    if (!k) { lastWhy = 'noKey'; continue; }
    if (!fresh(k, h.ctr)) { lastWhy = 'replayed'; continue; }
    const prefix = data.subarray(0, p);
    const header = data.subarray(p, p + h.len);
    try {
      const plain = new Uint8Array(await crypto.subtle.decrypt(
        {name: 'AES-GCM', iv: nonce(k.salt, h.ctr), additionalData: concat(header, prefix), tagLength: 128},
        k.key, data.subarray(p + h.len)));
      record(k, h.ctr);
      frame.data = concat(prefix, plain).buffer;
      const who = `${k.member.user}/${k.member.device}`;
      if (owners[slot] !== who) own(slot, who);
      const mv = moving.get(slot);
      if (mv) await mv.done;
      const ms = memberStats(who);
      if (kind === 'video') { ms.video++; ms.lastVideo = Date.now(); } else if (kind === 'screen') { ms.screen++; ms.lastScreen = Date.now(); } else { ms.audio++; ms.lastAudio = Date.now(); }
      controller.enqueue(frame);
      return;
    } catch (e) {
      lastWhy = 'authFailed';
    }
  }
  fail(st, lastWhy);
}

onrtctransform = (event) => {
  const t = event.transformer;
  const {op, kind, slot} = t.options;
  const transform = op === 'encrypt'
    ? (frame, c) => encrypt(kind, frame, c)
    : (frame, c) => decrypt(kind, slot, frame, c);
  t.readable.pipeThrough(new TransformStream({transform})).pipeTo(t.writable).catch(() => {});
};

onmessage = async (event) => {
  const msg = event.data;
  if (msg.type === 'epoch') {
    await setEpoch(msg);
    postMessage({type: 'keys', epoch: msg.epoch});
  } else if (msg.type === 'owned') {
    // Only the answer to the latest owner message of the slot lets its
    // frames through.
    const mv = moving.get(msg.slot);
    if (mv && mv.seq === msg.seq) mv.resolve();
  } else if (msg.type === 'send') {
    sendUnder(msg.epoch);
  } else if (msg.type === 'forget') {
    send = null;
    staged = null;
    sendTo = 0;
    keys.clear();
  }
};

setInterval(() => postMessage({type: 'stats', stats}), 500);
