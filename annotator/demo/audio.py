"""Synthetic mono WAV clips made of labelled segments: speech-like, music, noise, silence.

The "speech" is a crude voice (a harmonic tone with a wandering pitch, amplitude-modulated at
syllable rate), enough for a labelling demo and cheap to make with numpy alone.
"""

import wave
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from annotator.demo.labelstudio import config_xml, label_elements, stable_id

AUDIO_LABELS: tuple[str, ...] = ("speech", "music", "noise", "silence")
_LABEL_STYLE: dict[str, tuple[str, str]] = {
    "speech": ("#4e79a7", "s"),
    "music": ("#f28e2b", "m"),
    "noise": ("#9c755f", "n"),
    "silence": ("#bab0ac", "i"),
}
# Segment boundaries sit on a 10 ms grid so region times are short, exact decimals.
_GRID_S = 0.01
_MIN_SEGMENT_S = 0.8
_FADE_S = 0.01
_TARGET_RMS = {"speech": 0.12, "music": 0.1, "noise": 0.08}
_SILENCE_DITHER = 3e-4


class AudioRegion(NamedTuple):
    label: str
    start: float  # seconds
    end: float  # seconds


@dataclass(frozen=True)
class DemoClip:
    path: Path
    duration: float  # seconds; regions tile [0, duration] without gaps or overlap
    sample_rate: int
    regions: list[AudioRegion]


def generate_audio_clips(
    n: int, out_dir: Path, *, seed: int = 0, sample_rate: int = 16000
) -> list[DemoClip]:
    """Write `n` 16-bit mono WAVs (4-10 s) named `demo_audio_NNNN.wav` into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    return [_make_clip(out_dir / f"demo_audio_{i:04d}.wav", sample_rate, rng) for i in range(n)]


def _make_clip(path: Path, sample_rate: int, rng: np.random.Generator) -> DemoClip:
    grid = round(_GRID_S * sample_rate)
    total_steps = int(rng.integers(400, 1001))  # 4-10 s in 10 ms steps
    min_steps = round(_MIN_SEGMENT_S / _GRID_S)
    bounds = _segment_bounds(total_steps, min_steps, rng)
    labels = _segment_labels(len(bounds) - 1, rng)
    chunks: list[np.ndarray] = []
    regions: list[AudioRegion] = []
    for label, start, end in zip(labels, bounds[:-1], bounds[1:], strict=True):
        chunks.append(_SYNTHS[label]((end - start) * grid, sample_rate, rng))
        # Times come from sample counts, so the last end equals the duration exactly.
        regions.append(
            AudioRegion(
                label, _seconds(start * grid, sample_rate), _seconds(end * grid, sample_rate)
            )
        )
    samples = np.concatenate(chunks)
    _write_wav(path, samples, sample_rate)
    duration = _seconds(len(samples), sample_rate)
    return DemoClip(path=path, duration=duration, sample_rate=sample_rate, regions=regions)


def _seconds(samples: int, sample_rate: int) -> float:
    return round(samples / sample_rate, 4)


def _segment_bounds(total: int, min_len: int, rng: np.random.Generator) -> list[int]:
    """Sorted cut points from 0 to `total`, every segment at least `min_len` long."""
    count = int(rng.integers(2, 6))
    count = max(1, min(count, total // min_len))
    # Spread the slack beyond the minimum lengths at random over the segments.
    slack = total - count * min_len
    cuts = np.sort(rng.integers(0, slack + 1, size=count - 1))
    lengths = np.diff(np.concatenate(([0], cuts, [slack]))) + min_len
    return [0, *np.cumsum(lengths).tolist()]


def _segment_labels(count: int, rng: np.random.Generator) -> list[str]:
    # Neighbours always differ, otherwise two regions would describe one stretch of sound.
    labels: list[str] = []
    for _ in range(count):
        options = [label for label in AUDIO_LABELS if not labels or label != labels[-1]]
        labels.append(options[int(rng.integers(len(options)))])
    return labels


def _speech(length: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(length) / sample_rate
    base = rng.uniform(100, 220)
    # Slow intonation drift around the base pitch; the phase integrates the frequency.
    pitch = base * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * t))
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 11))
    syllables = np.maximum(0.0, np.sin(2 * np.pi * rng.uniform(3.0, 6.0) * t)) ** 0.7
    breath = rng.normal(0.0, 0.05, length)
    return _scaled((voice + breath) * syllables, "speech", sample_rate)


def _music(length: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(length)
    start = 0
    while start < length:
        chord_len = min(length - start, int(sample_rate * rng.uniform(0.4, 0.9)))
        t = np.arange(chord_len) / sample_rate
        root = 220 * 2 ** (int(rng.integers(-5, 8)) / 12)
        third = 4 if rng.random() < 0.5 else 3  # major or minor triad
        chord = sum(np.sin(2 * np.pi * root * 2 ** (step / 12) * t) for step in (0, third, 7))
        envelope = np.minimum(1.0, t / 0.02) * np.exp(-t * rng.uniform(1.0, 3.0))
        out[start : start + chord_len] = chord * envelope
        start += chord_len
    return _scaled(out, "music", sample_rate)


def _noise(length: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(0.0, 1.0, length))
    freqs = np.fft.rfftfreq(length, 1 / sample_rate)
    low = rng.uniform(100, 1000)
    high = min(sample_rate / 2, low * rng.uniform(2, 8))
    spectrum[(freqs < low) | (freqs > high)] = 0
    return _scaled(np.fft.irfft(spectrum, n=length), "noise", sample_rate)


def _silence(length: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    # A little dither rather than digital zero, as a real recording would have.
    return rng.normal(0.0, _SILENCE_DITHER, length)


_SYNTHS: dict[str, Callable[[int, int, np.random.Generator], np.ndarray]] = {
    "speech": _speech,
    "music": _music,
    "noise": _noise,
    "silence": _silence,
}


def _scaled(signal: np.ndarray, label: str, sample_rate: int) -> np.ndarray:
    rms = float(np.sqrt(np.mean(signal**2)))
    if rms == 0.0:
        return signal
    out = signal * (_TARGET_RMS[label] / rms)
    # Short fades at both ends so segment joins do not click.
    fade = min(len(out) // 2, round(_FADE_S * sample_rate))
    ramp = np.linspace(0.0, 1.0, fade)
    out[:fade] *= ramp
    out[len(out) - fade :] *= ramp[::-1]
    return out


def _write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())


def audio_regions_config() -> str:
    """Label Studio config: label regions of the clip and transcribe each one."""
    view = ET.Element("View")
    ET.SubElement(view, "Audio", name="audio", value="$audio")
    labels = ET.SubElement(view, "Labels", name="kind", toName="audio")
    label_elements(labels, {label: _LABEL_STYLE[label] for label in AUDIO_LABELS})
    ET.SubElement(
        view,
        "TextArea",
        name="transcription",
        toName="audio",
        perRegion="true",
        editable="true",
        rows="2",
    )
    return config_xml(view)


def audio_task(clip: DemoClip, url: str, *, with_annotation: bool) -> dict[str, Any]:
    """A Label Studio task for `clip` served at `url`; result ids are stable per file and region."""
    result = [
        {
            "id": stable_id(clip.path.name, index),
            "from_name": "kind",
            "to_name": "audio",
            "type": "labels",
            "original_length": clip.duration,
            "value": {
                "start": region.start,
                "end": region.end,
                "channel": 0,
                "labels": [region.label],
            },
        }
        for index, region in enumerate(clip.regions)
    ]
    annotations = [{"result": result}] if with_annotation else []
    return {"data": {"audio": url}, "annotations": annotations, "predictions": []}
