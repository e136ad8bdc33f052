// Devices: the lobby's camera, microphone and speaker pickers, a mirrored
// self-view and a microphone level before joining. The choices are kept in
// localStorage and used by the call (app.js startMedia: mediaConstraints,
// applySpeaker). Nothing here leaves the computer.
'use strict';

const DEVICES = 'parley.devices'; // localStorage: {cam, mic, speaker} device IDs
let chosen = {cam: '', mic: '', speaker: ''};
try { chosen = Object.assign(chosen, JSON.parse(localStorage.getItem(DEVICES) || '{}')); } catch (e) { /* storage may be off */ }
const preview = {stream: null, ctx: null, timer: null, level: 0};

// mediaConstraints asks for the chosen camera and microphone (exactly when
// chosen, so that a missing device is told rather than swapped silently).
function mediaConstraints() {
  const video = {width: 640, height: 360, frameRate: 24};
  if (chosen.cam) video.deviceId = {exact: chosen.cam};
  const audio = chosen.mic ? {deviceId: {exact: chosen.mic}} : true;
  return {video, audio};
}

// applySpeaker plays el on the chosen speaker, where the browser can.
function applySpeaker(el) {
  if (chosen.speaker && typeof el.setSinkId === 'function') el.setSinkId(chosen.speaker).catch(() => {});
}

// listDevices fills the pickers; the browser names devices only after the
// person let the page use them once (Check camera and microphone).
async function listDevices() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
  let list = [];
  try { list = await navigator.mediaDevices.enumerateDevices(); } catch (e) { return; }
  const fill = (id, kind, key, what) => {
    const sel = $(id);
    const keep = sel.value || chosen[key];
    sel.innerHTML = '<option value="">default</option>';
    let n = 0;
    for (const d of list.filter((x) => x.kind === kind && x.deviceId && x.deviceId !== 'default')) {
      const o = document.createElement('option');
      o.value = d.deviceId;
      o.textContent = d.label || `${what} ${++n}`;
      sel.appendChild(o);
    }
    sel.value = [...sel.options].some((o) => o.value === keep) ? keep : '';
  };
  fill('cam-select', 'videoinput', 'cam', 'Camera');
  fill('mic-select', 'audioinput', 'mic', 'Microphone');
  fill('speaker-select', 'audiooutput', 'speaker', 'Speaker');
  $('speaker-select').disabled = typeof HTMLMediaElement.prototype.setSinkId !== 'function';
}

function choose() {
  chosen = {cam: $('cam-select').value, mic: $('mic-select').value, speaker: $('speaker-select').value};
  try { localStorage.setItem(DEVICES, JSON.stringify(chosen)); } catch (e) { /* storage may be off */ }
  for (const s of slots) applySpeaker(s.el);
  if (preview.stream) startPreview();
}

// startPreview shows the chosen camera, mirrored, and the microphone's
// level (the loudest sample of each 100 ms).
async function startPreview() {
  stopPreview();
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia(mediaConstraints());
  } catch (e) {
    showNotice({level: 'error', key: 'preview', text: `Camera and microphone are not available (${e.name}${e.message ? ': ' + e.message : ''}). Choose others, or join without them.`});
    return;
  }
  clearNotice('preview');
  preview.stream = stream;
  $('preview').srcObject = stream;
  $('preview-btn').innerHTML = '<span class="lbl">Stop checking</span>';
  if (stream.getAudioTracks().length && typeof AudioContext !== 'undefined') {
    const ctx = new AudioContext();
    const an = ctx.createAnalyser();
    an.fftSize = 1024;
    ctx.createMediaStreamSource(stream).connect(an);
    const buf = new Float32Array(an.fftSize);
    preview.ctx = ctx;
    preview.timer = setInterval(() => {
      an.getFloatTimeDomainData(buf);
      let peak = 0;
      for (const v of buf) peak = Math.max(peak, Math.abs(v));
      preview.level = peak;
      $('mic-level').style.width = `${Math.min(100, Math.round(Math.sqrt(peak) * 100))}%`;
    }, 100);
  }
  listDevices();
}

// stopPreview lets the camera and microphone go (the call takes them).
function stopPreview() {
  if (preview.timer) clearInterval(preview.timer);
  if (preview.ctx) preview.ctx.close().catch(() => {});
  if (preview.stream) preview.stream.getTracks().forEach((t) => t.stop());
  preview.stream = preview.ctx = preview.timer = null;
  preview.level = 0;
  $('preview').srcObject = null;
  $('mic-level').style.width = '0';
  $('preview-btn').innerHTML = '<span class="lbl">Check camera and microphone</span>';
}

$('preview-btn').onclick = () => (preview.stream ? stopPreview() : startPreview());
for (const id of ['cam-select', 'mic-select', 'speaker-select']) $(id).onchange = choose;
if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) navigator.mediaDevices.addEventListener('devicechange', listDevices);

window.parley.micLevel = () => preview.level;
window.parley.previewing = () => !!(preview.stream && preview.stream.getVideoTracks().some((t) => t.readyState === 'live'));
window.parley.devices = () => ({cams: $('cam-select').options.length - 1, mics: $('mic-select').options.length - 1, chosen: Object.assign({}, chosen)});
