"""``kiosk catalogue …`` as staff and scripts use it: real subprocesses, real files, real HTTP."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from config.catalogue import CatalogueSettings
from kiosk.catalogue.bundle import read_header
from kiosk.catalogue.cli import add_cli
from kiosk.catalogue.source import SOURCE_DIR

ROOT = Path(__file__).resolve().parents[2]


def catalogue(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk.catalogue", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT / ".no-home")})


def test_search_prints_code_name_score() -> None:
    result = catalogue("search", "dbsq")
    assert result.returncode == 0, result.stderr
    code, name, score = result.stdout.splitlines()[0].split("\t")
    assert (code, name) == ("SQ-001", "最低生活保障申请") and float(score) > 50


def test_search_json_for_scripts() -> None:
    result = catalogue("search", "高龄津贴", "--json", "--limit", "3")
    data = json.loads(result.stdout)
    assert data["query"] == "高龄津贴" and data["version"]
    assert data["results"][0]["code"] == "ZJ-019"
    assert len(data["results"]) <= 3
    assert set(data["results"][0]) == {"code", "name", "score", "match", "matched"}


def test_search_failures_have_exit_codes_and_words() -> None:
    none = catalogue("search", "qqqq")
    assert none.returncode == 1 and "no item matches 'qqqq'" in none.stderr
    empty = catalogue("search", "  ")
    assert empty.returncode == 2 and "give a search word" in empty.stderr
    limit = catalogue("search", "低保", "--limit", "0")
    assert limit.returncode == 2 and "--limit" in limit.stderr


def test_show_and_browse() -> None:
    shown = catalogue("show", "ZJ-019")
    assert shown.returncode == 0 and "【申请材料】" in shown.stdout and "示例数据" in shown.stdout
    missing = catalogue("show", "XX-1")
    assert missing.returncode == 1 and "no such code" in missing.stderr
    browse = json.loads(catalogue("browse", "--by", "event", "--json").stdout)
    assert browse[0]["name"] == "困难救助" and "SQ-001" in browse[0]["items"]


def test_keygen_build_verify_serve(tmp_path: Path) -> None:
    key = tmp_path / "platform.pem"
    made = catalogue("keygen", "--out", str(key))
    assert made.returncode == 0, made.stderr
    public = next(line.split(": ", 1)[1] for line in made.stdout.splitlines()
                  if line.startswith("public key"))
    assert catalogue("keygen", "--out", str(key)).returncode == 2  # never overwrite a key
    out = tmp_path / "published" / "v2.bundle.json"
    out.parent.mkdir()
    built = catalogue("build", "--source", str(SOURCE_DIR), "--key", str(key), "--out", str(out),
                      "--version", "2025.04.01-1", "--serial", "2025040101")
    assert built.returncode == 0, built.stderr
    assert "93 items" in built.stdout and read_header(out.read_bytes())["serial"] == 2025040101
    assert catalogue("verify", str(out), "--public-key", public).returncode == 0
    wrong = catalogue("verify", str(out))  # the demo key does not trust the platform key
    assert wrong.returncode == 2 and "unknown_key" in wrong.stderr

    server = subprocess.Popen([sys.executable, "-m", "kiosk.catalogue", "serve", "--dir",
                               str(out.parent), "--port", "0"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        assert "serving catalogue 2025.04.01-1" in line, line
        url = line.rsplit(" at ", 1)[1].strip()
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.read() == out.read_bytes()
            etag = response.headers["ETag"]
        request = urllib.request.Request(url, headers={"If-None-Match": etag})
        with pytest.raises(urllib.error.HTTPError) as not_modified:
            urllib.request.urlopen(request, timeout=5)
        assert not_modified.value.code == 304
    finally:
        server.terminate()
        server.wait(10)
        server.stdout.close()  # type: ignore[union-attr]
        server.stderr.close()  # type: ignore[union-attr]


def test_build_reports_bad_sources(tmp_path: Path) -> None:
    (tmp_path / "catalogue.toml").write_text("[meta]\n")
    result = catalogue("build", "--source", str(tmp_path), "--out", str(tmp_path / "b.json"))
    assert result.returncode == 2 and "items.toml is missing" in result.stderr
    assert not (tmp_path / "b.json").exists()


def test_add_cli_on_the_kiosk_parser_uses_the_site_config(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    """How kiosk/cli/main.py wires it: the site profile decides what search offers."""
    parser = argparse.ArgumentParser(prog="kiosk")
    sub = parser.add_subparsers(dest="command", required=True)
    seen: list[str] = []
    add_cli(sub, lambda p: (seen.append(p.prog), p.add_argument("--profile")))
    args = parser.parse_args(["catalogue", "search", "残疾人", "--profile", "village"])
    assert args.command == "catalogue" and args.profile == "village"
    assert args.catalogue_needs_config
    assert len(seen) == 8  # every sub-command accepts --profile
    tool = parser.parse_args(["catalogue", "keygen", "--out", str(tmp_path / "k.pem")])
    assert not tool.catalogue_needs_config and tool.profile is None
    config = SimpleNamespace(catalogue=CatalogueSettings(levels=["village"]),
                             storage=SimpleNamespace(data_dir=tmp_path))
    assert args.catalogue_run(args, config) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith("CJ-") for line in lines)
