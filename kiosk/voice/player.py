"""Playing speech off the UI thread.

:class:`VoicePlayer` owns one worker thread. :meth:`VoicePlayer.say` only hands the text over
(it never blocks the caller: the UI thread calls it) and replaces anything still waiting;
:meth:`VoicePlayer.stop` cuts off what is playing (the screen changed). The worker synthesises
the phrase (:func:`kiosk.speech.synthesize`, cached per phrase) and plays it through a sink:

- :class:`SoxSink`: sox's ``play`` on the default sound device, volume applied by sox, the
  process terminated on a cut-off;
- :class:`FileSink`: the audio that would be played, written as WAV (with the volume
  applied by sox) into a folder, taking as long as it would take to play; for terminals
  without a speaker, and for tests that check what was said.
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlayRecord:
    text: str  # never personal beyond a masked name
    wav: Path  # the cached synthesis
    played: Path | None  # FileSink: the WAV as it went to the "speaker" (volume applied)
    volume: float
    cut_off: bool


class Sink(Protocol):
    def play(self, wav: Path, volume: float, cancel: threading.Event) -> tuple[Path | None, bool]:
        """Play ``wav`` until done or ``cancel`` is set; return (written file, cut off)."""
        ...


def _sox(program: str) -> str:
    exe = shutil.which(program)
    if exe is None:
        raise RuntimeError(f"{program} is not installed: apt-get install sox "
                           "(or set voice.output = \"none\")")
    return exe


def _wav_seconds(path: Path) -> float:
    import wave

    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate() or 1)


class SoxSink:
    """sox ``play`` to the sound device (``AUDIODEV`` / the default ALSA/Pulse device)."""

    def __init__(self, device: str = "") -> None:
        self.device = device

    def play(self, wav: Path, volume: float, cancel: threading.Event) -> tuple[Path | None, bool]:
        cmd = [_sox("play"), "-q", str(wav)]
        if self.device:
            cmd = [_sox("sox"), "-q", str(wav), "-t", "alsa", self.device]
        cmd += ["vol", f"{volume:.3f}"]
        process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while process.poll() is None:
            if cancel.wait(0.02):
                process.terminate()
                process.wait(timeout=5)
                return None, True
        if process.returncode != 0:
            detail = (process.stderr.read() if process.stderr else b"").decode()[:200]
            raise RuntimeError(f"play failed (exit {process.returncode}): {detail.strip()}")
        return None, False


class FileSink:
    """Writes what would be played into ``folder`` (``NNNN.wav``), in real time."""

    def __init__(self, folder: Path, realtime: bool = True, keep: int = 20) -> None:
        self.folder = Path(folder)
        self.realtime = realtime
        self.keep = keep  # older files are deleted: nothing accumulates on disk
        self._count = 0

    def play(self, wav: Path, volume: float, cancel: threading.Event) -> tuple[Path | None, bool]:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._count += 1
        out = self.folder / f"{self._count:04d}.wav"
        subprocess.run([_sox("sox"), "-q", str(wav), str(out), "vol", f"{volume:.3f}"],
                       check=True, capture_output=True, timeout=30)
        (self.folder / f"{self._count - self.keep:04d}.wav").unlink(missing_ok=True)
        if self.realtime and cancel.wait(_wav_seconds(out)):
            return out, True
        return out, cancel.is_set()


class VoicePlayer:
    """One phrase at a time, newest wins; everything slow happens on the worker thread."""

    def __init__(self, synthesize: Callable[[str], Path], sink: Sink, volume: float = 0.8,
                 on_played: Callable[[PlayRecord], None] | None = None,
                 keep: int = 50) -> None:
        if not 0.0 <= volume <= 1.0:
            raise ValueError("voice.volume is 0.0 to 1.0")
        self._synthesize = synthesize
        self._sink = sink
        self.volume = volume
        self._on_played = on_played
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self.history: list[PlayRecord] = []  # the last ``keep`` phrases (tests, diagnostics)
        self._keep = keep
        self.errors = 0
        self.playing = ""
        self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
        self._thread.start()

    def say(self, text: str) -> None:
        """Speak ``text`` after cutting off whatever is playing; returns at once."""
        text = " ".join(str(text).split())
        if not text:
            return
        self.stop()
        self._queue.put(text)

    def stop(self) -> None:
        """Cut off the current phrase and drop any waiting one (the screen changed)."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._cancel.set()

    def close(self) -> None:
        self.stop()
        self._queue.put(None)
        self._thread.join(timeout=10)

    def wait_idle(self, timeout_s: float = 20.0) -> bool:
        """Until nothing is waiting or playing (tests)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._queue.empty() and not self.playing:
                return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                return
            self._cancel.clear()
            self.playing = text
            try:
                wav = self._synthesize(text)
                if self._cancel.is_set():
                    continue
                played, cut = self._sink.play(wav, self.volume, self._cancel)
                record = PlayRecord(text, wav, played, self.volume, cut)
                with self._lock:
                    self.history = [*self.history, record][-self._keep:]
                if self._on_played is not None:
                    self._on_played(record)
            except Exception as exc:
                self.errors += 1
                log.warning("voice: could not speak a phrase: %s", exc)
            finally:
                self.playing = ""
