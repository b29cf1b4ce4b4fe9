"""The kiosk's voice with the real parts: espeak-ng's Mandarin voice renders the phrase, sox
applies the volume and "plays" it into a WAV (FileSink), off the caller's thread; a new phrase
or a screen change cuts off the one playing."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

from config.voice import VoiceConfig
from kiosk.speech import EspeakVoice, synthesize, wav_info
from kiosk.voice import SCREEN_PHRASES, FileSink, VoicePlayer
from kiosk.voice.settings import build_voice


def player(tmp_path: Path, volume: float = 0.5, realtime: bool = True) -> VoicePlayer:
    synth = partial(synthesize, cache_dir=tmp_path / "cache", voice=EspeakVoice(rate=120))
    return VoicePlayer(synth, FileSink(tmp_path / "out", realtime=realtime), volume=volume)


def test_a_phrase_is_rendered_and_played_at_the_configured_volume(tmp_path: Path) -> None:
    voice = player(tmp_path, volume=0.5, realtime=False)
    threads: list[str] = []
    original = voice._synthesize
    voice._synthesize = lambda text: (threads.append(threading.current_thread().name),
                                      original(text))[1]
    try:
        voice.say(SCREEN_PHRASES["home"])
        assert voice.wait_idle(30)
    finally:
        voice.close()
    assert threads == ["voice"]  # never the caller's (UI) thread
    [record] = voice.history
    assert record.text == "请选择您要办理的业务" and not record.cut_off
    source, played = wav_info(record.wav), wav_info(record.played)
    assert 1.0 < played.seconds < 8.0 and played.rms > 0.01  # non-silent speech
    assert abs(played.peak - 0.5 * source.peak) < 0.05  # sox applied the volume
    # cached: the same phrase again is the same file, not a new synthesis
    assert synthesize(record.text, cache_dir=tmp_path / "cache",
                      voice=EspeakVoice(rate=120)) == record.wav


def test_a_new_phrase_cuts_off_the_one_playing(tmp_path: Path) -> None:
    voice = player(tmp_path)
    try:
        voice.say(SCREEN_PHRASES["identify"])
        deadline = threading.Event()
        for _ in range(400):  # until the first phrase is on the "speaker"
            if voice.playing and (tmp_path / "out").exists() and any((tmp_path / "out").iterdir()):
                break
            deadline.wait(0.05)
        voice.say(SCREEN_PHRASES["home"])
        assert voice.wait_idle(30)
    finally:
        voice.close()
    texts = [(r.text, r.cut_off) for r in voice.history]
    assert texts == [(SCREEN_PHRASES["identify"], True), (SCREEN_PHRASES["home"], False)]


def test_stop_silences_at_once_and_say_returns_immediately(tmp_path: Path) -> None:
    voice = player(tmp_path)
    try:
        voice.say(SCREEN_PHRASES["progress"])
        voice.stop()
        assert voice.wait_idle(30)
        assert all(r.cut_off for r in voice.history)
    finally:
        voice.close()


def test_settings_build_the_right_player(tmp_path: Path) -> None:
    assert build_voice(VoiceConfig(output="none"), tmp_path) is None
    assert build_voice(VoiceConfig(enabled=False), tmp_path) is None
    files = build_voice(VoiceConfig(output="files", volume=0.3), tmp_path)
    assert files is not None and files.volume == 0.3
    files.close()
