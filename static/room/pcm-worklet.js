// AudioWorklet: the microphone as PCM s16le mono at `targetRate` (16 kHz), posted in fixed-size frames.
// Downsampling averages the input samples that fall in each output sample (a box filter, enough for speech).

class Pcm16Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { targetRate = 16000, frameSamples = 800 } = (options && options.processorOptions) || {};
    this.step = sampleRate / targetRate;
    this.frame = new Int16Array(frameSamples);
    this.filled = 0;
    this.sum = 0;
    this.count = 0;
    this.phase = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || !channels.length) return true;
    const input = channels[0];
    for (let i = 0; i < input.length; i += 1) {
      let value = input[i];
      if (channels.length > 1) value = (value + channels[1][i]) / 2;
      this.sum += value;
      this.count += 1;
      this.phase += 1;
      if (this.phase >= this.step) {
        this.phase -= this.step;
        const mean = Math.max(-1, Math.min(1, this.sum / this.count));
        this.frame[this.filled] = mean < 0 ? mean * 32768 : mean * 32767;
        this.filled += 1;
        this.sum = 0;
        this.count = 0;
        if (this.filled === this.frame.length) {
          const out = this.frame.slice().buffer;
          this.port.postMessage(out, [out]);
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor("pcm16-capture", Pcm16Capture);
