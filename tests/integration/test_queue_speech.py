"""The hall's voice: espeak-ng renders the call, non-silent and of plausible length, once per
phrase (cached), also when many threads ask at once."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kiosk.speech import EspeakVoice, SpeechError, call_phrase, synthesize, wav_info

pytestmark = pytest.mark.timeout(120)


@dataclass
class CountingVoice:
    """The real espeak-ng voice, counting how often it is run."""

    inner: EspeakVoice = field(default_factory=EspeakVoice)
    runs: list[str] = field(default_factory=list)

    @property
    def identity(self) -> str:
        return self.inner.identity

    def render(self, text: str, out: Path) -> None:
        self.runs.append(text)
        self.inner.render(text, out)


def test_the_call_of_a004_to_window_3_is_spoken(tmp_path: Path) -> None:
    wav = synthesize(call_phrase("A004", "3"), cache_dir=tmp_path)
    info = wav_info(wav)
    # eleven syllables and a letter, read slowly: a few seconds, not a blip and not a minute
    assert 2.5 < info.seconds < 12, info
    assert info.peak > 0.2 and info.rms > 0.02, info
    # sox agrees that it is audio of that length
    out = subprocess.run(["soxi", "-D", str(wav)], capture_output=True, text=True, check=True)
    assert abs(float(out.stdout) - info.seconds) < 0.05


def test_a_longer_phrase_takes_longer(tmp_path: Path) -> None:
    short = wav_info(synthesize("请 A 零 零 四 号", cache_dir=tmp_path)).seconds
    long = wav_info(synthesize(call_phrase("A004", "3"), cache_dir=tmp_path)).seconds
    assert long > short + 0.5


def test_each_phrase_is_made_once_and_then_cached(tmp_path: Path) -> None:
    voice = CountingVoice()
    first = synthesize("请 B 零 一 二 号 到 五 号窗口 办理", cache_dir=tmp_path, voice=voice)
    again = synthesize("请  B 零 一 二 号 到 五 号窗口 办理 ", cache_dir=tmp_path, voice=voice)
    assert first == again and len(voice.runs) == 1
    other = synthesize("请 B 零 一 三 号 到 五 号窗口 办理", cache_dir=tmp_path, voice=voice)
    assert other != first and len(voice.runs) == 2
    # another voice setting is another file
    slow = CountingVoice(EspeakVoice(rate=100))
    assert synthesize("请 B 零 一 二 号 到 五 号窗口 办理", cache_dir=tmp_path, voice=slow) != first
    assert not list(tmp_path.glob(".speech-*"))  # no temporary file left behind


def test_many_threads_asking_for_one_phrase_run_the_voice_once(tmp_path: Path) -> None:
    voice = CountingVoice()
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(
        synthesize("请 C 零 零 一 号 到 二 号窗口 办理", cache_dir=tmp_path, voice=voice)))
        for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 6 and len(set(results)) == 1
    assert len(voice.runs) == 1


def test_bad_input_and_a_missing_synthesiser_are_plain_errors(tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match="empty"):
        synthesize("   ", cache_dir=tmp_path)
    with pytest.raises(SpeechError, match="at most"):
        synthesize("号" * 600, cache_dir=tmp_path)
    with pytest.raises(SpeechError, match="apt-get install espeak-ng"):
        synthesize("你好", cache_dir=tmp_path, voice=EspeakVoice(program="espeak-ng-missing"))
