"""Elder mode speaks (issue #15): each screen's instruction in Mandarin, rendered by espeak-ng
and played (into WAV files here: the test machine has no speaker) off the UI thread; a screen
change cuts the phrase off; the speaker button speaks in normal mode; nothing personal beyond
the masked name is said."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from drivers.idcard.samples import RESIDENT
from kiosk.speech import EspeakVoice, synthesize, wav_info
from kiosk.voice import SCREEN_PHRASES, FileSink, VoicePlayer


@pytest.fixture
def voice(ui, tmp_path: Path) -> Iterator[VoicePlayer]:
    """The app's voice, playing into ``tmp_path/out`` for the length of one test."""
    threads: set[str] = set()
    render = partial(synthesize, cache_dir=tmp_path / "cache", voice=EspeakVoice(rate=120))

    def synth(text: str) -> Path:
        threads.add(threading.current_thread().name)
        return render(text)

    player = VoicePlayer(synth, FileSink(tmp_path / "out"), volume=0.8)
    player.synth_threads = threads  # type: ignore[attr-defined]
    saved = ui.kiosk.voice
    ui.kiosk.voice = player
    try:
        yield player
    finally:
        ui.kiosk.voice = saved
        player.close()


def spoken(voice: VoicePlayer) -> list[str]:
    return [record.text for record in voice.history]


def played_files(voice: VoicePlayer) -> list[Path]:
    """What the file sink has started to play (it writes each phrase's file first)."""
    return sorted(voice._sink.folder.glob("*.wav"))  # type: ignore[attr-defined]


def test_elder_mode_speaks_each_screen_off_the_ui_thread(ui, voice) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    assert voice.history == [] and not voice.playing  # normal mode: silent
    ui.tap("elder")
    ui.wait_for(lambda: spoken(voice) == [SCREEN_PHRASES["home"]], timeout_s=30,
                what="the home screen's instruction")
    record = voice.history[-1]
    info = wav_info(record.played)
    assert info.rms > 0.01 and info.seconds > 1.0  # audio, not silence
    assert record.wav == synthesize(SCREEN_PHRASES["home"], cache_dir=record.wav.parent,
                                    voice=EspeakVoice(rate=120))  # that phrase's rendering
    assert voice.synth_threads == {"voice"}  # type: ignore[attr-defined]
    # the next screen cuts the previous phrase off and says its own
    ui.tap("progress")
    ui.wait_screen("progress")
    # a resident leaves while the phrase is being spoken, not while it is still being
    # synthesised (a phrase cut before it starts is never played, so never in the history;
    # on a loaded machine espeak-ng can take longer than the pilot's next tap)
    ui.wait_for(lambda: len(played_files(voice)) >= 2, timeout_s=60,
                what="the progress screen's phrase playing")
    ui.tap("back")
    ui.wait_screen("home")
    ui.wait_for(lambda: len(voice.history) >= 3 and not voice.playing, timeout_s=90,
                what="three screens spoken")
    texts = spoken(voice)
    assert texts[-2:] == [SCREEN_PHRASES["progress"], SCREEN_PHRASES["home"]]
    assert voice.history[-2].cut_off  # left before it finished


def test_the_speaker_button_speaks_in_normal_mode_and_only_the_masked_name(ui, voice) -> None:
    ui.tap("start")
    ui.wait_screen("home")
    ui.tap("speak")
    ui.wait_for(lambda: SCREEN_PHRASES["home"] in spoken(voice), timeout_s=30,
                what="the speaker button")
    ui.tap("code")
    ui.wait_screen("identify")
    thread = threading.Thread(target=lambda: ui.kiosk.devices.get("idcard").present(RESIDENT))
    thread.start()
    thread.join(timeout=5)
    ui.wait_for(lambda: any("李*" in t for t in spoken(voice)), timeout_s=30,
                what="the greeting")
    everything = "\n".join(spoken(voice))
    assert RESIDENT.name not in everything and RESIDENT.id_number[-4:] not in everything
    ui.kiosk.devices.get("idcard").lift()
    ui.tap("exit")
    ui.wait_screen("attract")
    count = len(voice.history)
    ui.pump_for(0.5)
    # the session ended: the speaker choice is forgotten, the attract screen stays silent
    assert len(voice.history) == count and not voice.playing
