// Audio for the room: question speech playback (PCM16 frames), a level meter, PCM16 16 kHz capture.

/**
 * Plays one question's speech: `begin(rate)`, then `push(arrayBuffer)` for each binary frame (PCM s16le
 * mono, back to back), then `finish(onDone)`: `onDone` runs once everything pushed has played.
 * `stop()` cuts it short (and does not call `onDone`).
 */
export class SpeechPlayer {
  constructor(context) {
    this.context = context;
    this.sources = new Set();
    this.rate = 22050;
    this.next = 0;
    this.onDone = null;
    this.timer = null;
    this.playedUntil = 0;
  }

  begin(rate) {
    this.stop();
    this.rate = rate || 22050;
    this.finished = false;
    this.next = 0;
    this.wallEnd = performance.now();
  }

  push(data) {
    const samples = new Int16Array(data, 0, Math.floor(data.byteLength / 2));
    if (!samples.length) return;
    const floats = new Float32Array(samples.length);
    for (let i = 0; i < samples.length; i += 1) floats[i] = samples[i] / 32768;
    const buffer = this.context.createBuffer(1, floats.length, this.rate);
    buffer.copyToChannel(floats, 0);
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    const at = Math.max(this.context.currentTime + 0.04, this.next);
    source.start(at);
    this.next = at + buffer.duration;
    this.wallEnd = Math.max(this.wallEnd, performance.now() + 40) + buffer.duration * 1000;
    this.sources.add(source);
    source.addEventListener("ended", () => {
      this.sources.delete(source);
      this.check();
    });
  }

  /** No more frames: call `onDone` once playback drains (or by the wall clock, should the device stall). */
  finish(onDone) {
    this.finished = true;
    this.onDone = onDone;
    const wait = Math.max(0, this.wallEnd - performance.now()) + 600;
    this.timer = setTimeout(() => this.done(), wait);
    this.check();
  }

  get playing() {
    return this.sources.size > 0;
  }

  check() {
    if (this.finished && this.sources.size === 0) this.done();
  }

  done() {
    clearTimeout(this.timer);
    const callback = this.onDone;
    this.onDone = null;
    if (callback) callback();
  }

  stop() {
    clearTimeout(this.timer);
    this.onDone = null;
    for (const source of this.sources) {
      try { source.stop(); } catch { /* already stopped */ }
    }
    this.sources.clear();
  }
}

/** Animate `meter` (an element with a <span> bar) with the level of `stream`'s audio. Returns stop(). */
export function levelMeter(context, stream, meter) {
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  const source = context.createMediaStreamSource(stream);
  source.connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  const bar = meter.querySelector("span");
  let frame = 0;
  let last = 0;
  const tick = (now) => {
    frame = requestAnimationFrame(tick);
    if (now - last < 60) return;
    last = now;
    analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const v of data) sum += v * v;
    const level = Math.min(100, Math.round(Math.sqrt(sum / data.length) * 400));
    bar.style.width = `${level}%`;
    meter.setAttribute("aria-valuenow", String(level));
  };
  frame = requestAnimationFrame(tick);
  return () => {
    cancelAnimationFrame(frame);
    source.disconnect();
  };
}

/** A short two-note chime, for the speaker test. */
export function chime(context) {
  const now = context.currentTime;
  [660, 880].forEach((freq, n) => {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + n * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.3, now + n * 0.25 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + n * 0.25 + 0.4);
    osc.connect(gain).connect(context.destination);
    osc.start(now + n * 0.25);
    osc.stop(now + n * 0.25 + 0.45);
  });
}

/**
 * Capture `stream`'s audio as PCM s16le mono at 16 kHz in 50 ms frames (an AudioWorklet); `onFrame`
 * gets each ArrayBuffer. Returns stop().
 */
export async function capturePcm(context, stream, onFrame) {
  await context.audioWorklet.addModule("/static/room/pcm-worklet.js");
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, "pcm16-capture", { processorOptions: { targetRate: 16000, frameSamples: 800 } });
  const sink = context.createGain();
  sink.gain.value = 0;
  node.port.onmessage = (event) => onFrame(event.data);
  source.connect(node).connect(sink).connect(context.destination);
  return () => {
    node.port.onmessage = null;
    source.disconnect();
    node.disconnect();
  };
}
