"""Text → WAV with an offline voice, cached per phrase.

The cache file name is the SHA-256 of the voice's identity and the text, so a phrase is
synthesised once per voice setting; a file is written to a temporary name and renamed into
place, so a reader never sees half a WAV and two processes may share one cache folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

MAX_TEXT = 500
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class SpeechError(RuntimeError):
    """Synthesis failed; the message says why and what to do."""


class Voice(Protocol):
    """Something that turns text into a WAV file."""

    @property
    def identity(self) -> str:
        """Everything that changes the sound (engine, voice, rate...): part of the cache key."""
        ...

    def render(self, text: str, out: Path) -> None:
        """Write ``text`` spoken as a WAV file at ``out``; raise :class:`SpeechError`."""
        ...


@dataclass(frozen=True)
class EspeakVoice:
    """espeak-ng (Debian ``espeak-ng``) with its Mandarin voice ``cmn``.

    ``rate`` in words per minute (80-450), ``pitch`` 0-99, ``gap_ms`` pause between words
    (a small gap makes digit-by-digit numbers clearer), ``amplitude`` 0-200.
    """

    voice: str = "cmn"
    rate: int = 140
    pitch: int = 50
    gap_ms: int = 2
    amplitude: int = 120
    program: str = "espeak-ng"
    timeout_s: float = 30.0

    @property
    def identity(self) -> str:
        return (f"espeak-ng/{self.voice}/s{self.rate}/p{self.pitch}/g{self.gap_ms}"
                f"/a{self.amplitude}")

    def render(self, text: str, out: Path) -> None:
        exe = shutil.which(self.program)
        if exe is None:
            raise SpeechError(f"{self.program} is not installed: apt-get install espeak-ng "
                              "(or set another voice)")
        cmd = [exe, "-v", self.voice, "-s", str(self.rate), "-p", str(self.pitch),
               "-g", str(max(0, self.gap_ms // 10)), "-a", str(self.amplitude),
               "-w", str(out), "--stdin"]
        try:
            done = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True,
                                  timeout=self.timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise SpeechError(f"{self.program} took over {self.timeout_s:.0f} s") from None
        if done.returncode != 0 or not out.exists() or out.stat().st_size <= 44:
            detail = done.stderr.decode("utf-8", "replace").strip()[:200]
            raise SpeechError(f"{self.program} -v {self.voice} failed "
                              f"(exit {done.returncode}): {detail or 'no audio written'}")


_default = EspeakVoice()


def default_voice() -> Voice:
    return _default


def _key_lock(key: str) -> threading.Lock:
    with _locks_guard:
        lock = _locks.get(key)
        if lock is None:
            lock = _locks[key] = threading.Lock()
        return lock


def cache_path(text: str, *, cache_dir: Path | str, voice: Voice | None = None) -> Path:
    """Where the WAV of ``text`` is (or will be) cached."""
    voice = voice or _default
    digest = hashlib.sha256(f"{voice.identity}\n{text}".encode()).hexdigest()[:32]
    return Path(cache_dir) / f"{digest}.wav"


def synthesize(text: str, *, cache_dir: Path | str, voice: Voice | None = None) -> Path:
    """The WAV file of ``text`` spoken by ``voice`` (default: espeak-ng Mandarin).

    Made once and cached in ``cache_dir`` (created, mode 0700); later calls return the same
    path without running the synthesiser. Thread-safe. Raises :class:`SpeechError` (empty or
    over-long text, synthesiser missing or failing) and ``OSError`` for an unusable folder.
    """
    text = " ".join(str(text).split())
    if not text:
        raise SpeechError("nothing to say: the text is empty")
    if len(text) > MAX_TEXT:
        raise SpeechError(f"text of {len(text)} characters: at most {MAX_TEXT} per phrase")
    voice = voice or _default
    target = cache_path(text, cache_dir=cache_dir, voice=voice)
    if target.exists():
        return target
    with _key_lock(str(target)):
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp_name = tempfile.mkstemp(prefix=".speech-", suffix=".wav", dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            voice.render(text, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    return target


@dataclass(frozen=True)
class WavInfo:
    seconds: float
    rate: int
    channels: int
    peak: float  # 0..1 of full scale
    rms: float  # 0..1 of full scale


def wav_info(path: Path | str) -> WavInfo:
    """Length and loudness of a 16-bit PCM WAV (to check a rendered phrase is not silent)."""
    import array

    with wave.open(str(path), "rb") as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        frames = wav.getnframes()
        raw = wav.readframes(frames)
    if width != 2:
        raise SpeechError(f"{path}: {8 * width}-bit samples, expected 16-bit PCM")
    samples = array.array("h", raw)
    peak = max((abs(s) for s in samples), default=0) / 32768
    rms = (sum(s * s for s in samples) / len(samples)) ** 0.5 / 32768 if samples else 0.0
    return WavInfo(seconds=frames / rate if rate else 0.0, rate=rate, channels=channels,
                   peak=peak, rms=rms)
