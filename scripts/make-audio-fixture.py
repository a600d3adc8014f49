"""Writes tests/Nabla.Tests/Fixtures/audio/: two short clips (16-bit PCM WAV, 16 kHz) and
logmel_reference.safetensors, their log-mel spectrograms computed in float64 by NumPy and SciPy
with torchaudio's conventions (centred frames, reflect padding, periodic Hann window of n_fft,
one-sided power spectrum, HTK mel filters without normalisation, 10 log10(max(x, 1e-10))).

Run with Debian's Python (python3-numpy, python3-scipy):  /usr/bin/python3 scripts/make-audio-fixture.py
The test checks Nabla's MelSpectrogram(decibels: true) against these values within 1e-4 (relative)."""
import json, os, struct
import numpy as np
import scipy.io.wavfile
import scipy.signal

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "tests", "Nabla.Tests", "Fixtures", "audio")
os.makedirs(out, exist_ok=True)
rate, n_fft, hop, n_mels, f_min, f_max = 16000, 512, 160, 40, 20.0, 7600.0
rng = np.random.default_rng(5)
t = np.arange(int(0.5 * rate)) / rate
clips = {
    "chirp": 0.5 * scipy.signal.chirp(t, f0=100, f1=6000, t1=t[-1], method="logarithmic") + 0.01 * rng.standard_normal(t.size),
    "vowel": sum(0.3 / k * np.sin(2 * np.pi * 140 * k * t) for k in range(1, 20)) * np.hanning(t.size) + 0.005 * rng.standard_normal(t.size),
}


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + f / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def log_mel(x):
    pad = n_fft // 2
    x = np.pad(x, pad, mode="reflect")
    frames = 1 + (x.size - n_fft) // hop
    window = scipy.signal.get_window("hann", n_fft, fftbins=True)
    spec = np.stack([np.fft.rfft(window * x[f * hop:f * hop + n_fft]) for f in range(frames)])
    power = np.abs(spec) ** 2
    freqs = np.linspace(0, rate // 2, n_fft // 2 + 1)
    pts = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    down = (freqs[:, None] - pts[None, :-2]) / (pts[1:-1] - pts[:-2])[None, :]
    up = (pts[None, 2:] - freqs[:, None]) / (pts[2:] - pts[1:-1])[None, :]
    fb = np.maximum(0, np.minimum(down, up))
    return (10 * np.log10(np.maximum(power @ fb, 1e-10))).T  # [n_mels, frames]


tensors = {}
for name, x in clips.items():
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)
    scipy.io.wavfile.write(os.path.join(out, f"{name}.wav"), rate, pcm)
    tensors[name] = log_mel(pcm.astype(np.float64) / 32768.0).astype(np.float32)

header, blobs, offset = {"__metadata__": {"sample_rate": str(rate), "n_fft": str(n_fft), "hop_length": str(hop), "n_mels": str(n_mels), "f_min": str(f_min), "f_max": str(f_max)}}, [], 0
for name, a in tensors.items():
    data = np.ascontiguousarray(a).tobytes()
    header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(os.path.join(out, "logmel_reference.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)))
    f.write(text)
    for b in blobs:
        f.write(b)
print("wrote", sorted(os.listdir(out)))
