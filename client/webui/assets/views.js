// Views: a grid of everyone, or a speaker view with one large tile (the
// tile the person pinned by clicking it, else a shared screen, else the
// member who spoke last) and the others in a strip. Who speaks is measured
// here, on the decrypted audio the page plays, so no server learns it.
'use strict';

let view = 'grid';    // 'grid' or 'speaker'
let pinned = '';      // tile key the person clicked, '' for automatic
let speaking = '';    // member heard last, by level
let audioCtx = null;
const meters = new Map(); // slot -> {track, an, buf}; the slot's member is slotOwner's
const SPEAKING_LEVEL = 0.02; // peak amplitude that counts as speech

// measureSpeakers follows the loudest remote member: the one whose peak
// over the last 100 ms is highest and above SPEAKING_LEVEL; the last
// speaker stays the speaker through pauses.
function measureSpeakers() {
  if (view !== 'speaker' || !epoch) return;
  if (!audioCtx && typeof AudioContext !== 'undefined') audioCtx = new AudioContext();
  if (!audioCtx) return;
  let best = '', bestLevel = SPEAKING_LEVEL;
  for (let i = 0; i < slots.length; i++) {
    const key = slotOwner[i], sl = slots[i];
    if (!key) continue;
    let me = meters.get(i);
    if (!me || me.track !== sl.a.receiver.track) {
      const an = audioCtx.createAnalyser();
      an.fftSize = 1024;
      audioCtx.createMediaStreamSource(new MediaStream([sl.a.receiver.track])).connect(an);
      me = {track: sl.a.receiver.track, an, buf: new Float32Array(an.fftSize)};
      meters.set(i, me);
    }
    me.an.getFloatTimeDomainData(me.buf);
    let peak = 0;
    for (const v of me.buf) peak = Math.max(peak, Math.abs(v));
    if (peak > bestLevel) { best = key; bestLevel = peak; }
  }
  if (best && best !== speaking) { speaking = best; applyView(); }
}

// mainTile is the tile the speaker view shows large.
function mainTile() {
  const tiles = [...document.querySelectorAll('#tiles .tile')];
  const byKey = (k) => tiles.find((t) => t.dataset.member === k);
  return byKey(pinned) || tiles.find((t) => t.classList.contains('screen')) || byKey(speaking) ||
    tiles.find((t) => !t.querySelector('video.self')) || tiles[0] || null;
}

// applyView lays the tiles out for the view; renderTiles calls it after
// each change of the tiles.
function applyView() {
  const box = $('tiles');
  box.classList.toggle('speaker', view === 'speaker');
  const main = view === 'speaker' ? mainTile() : null;
  for (const t of box.querySelectorAll('.tile')) {
    t.classList.toggle('main', t === main);
    t.classList.toggle('pinned', t.dataset.member === pinned);
  }
}

$('view-btn').onclick = () => {
  view = view === 'grid' ? 'speaker' : 'grid';
  if (view === 'speaker' && audioCtx) audioCtx.resume().catch(() => {});
  render();
};
// Clicking a tile pins it as the large one (and clicking it again unpins).
$('tiles').addEventListener('click', (ev) => {
  const t = ev.target.closest('.tile');
  if (!t || ev.target.closest('button')) return;
  pinned = pinned === t.dataset.member ? '' : t.dataset.member;
  if (pinned && view === 'grid') view = 'speaker';
  render();
});
setInterval(measureSpeakers, 100);

window.parley.view = () => ({view, main: (document.querySelector('#tiles .tile.main') || {dataset: {}}).dataset.member || '', speaking, pinned});
