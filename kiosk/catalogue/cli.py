"""``kiosk catalogue …``: search and inspect the catalogue, build and sign bundles, serve them.

The lead wires it into kiosk/cli/main.py::

    from kiosk.catalogue.cli import add_cli as add_catalogue_cli
    add_catalogue_cli(sub, _config_args)              # in build_parser()
    if args.command == "catalogue":                   # in main(), after load_config
        return args.catalogue_run(args, config)

(``args.catalogue_needs_config`` is False for build/keygen/verify/serve: main may skip
loading the config for them and pass ``None``.)

It also runs alone (no config: the defaults) as ``python -m kiosk.catalogue …``.

=====================================  ==========================================================
``search QUERY [--json] [--limit N]``  ranked items: code, name, score (exit 1: nothing found)
``show CODE [--json]``                 one item with its guide
``browse [--by event|department]``     the browse lists of the guide screen
``status [--json]``                    the active version (as the birth record reports it)
``build [--source] [--key] [--out]``   sign a bundle from TOML sources (default: the sample)
``keygen --out KEY.pem``               a new Ed25519 signing key; prints the public key
``verify FILE [--public-key K]``       check a bundle as a terminal would
``serve [--dir D | --file F]``         the reference publishing server (ETag, 304)
=====================================  ==========================================================
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.catalogue import CatalogueSettings
from kiosk.catalogue.bundle import (
    DEMO_PRIVATE_KEY_FILE,
    EMBEDDED_BUNDLE,
    BundleError,
    generate_key,
    key_id,
    load_private_key,
    private_key_pem,
    public_key_text,
    sign_bundle,
    trust,
    verify_bundle,
)

DEFAULT_DATA_DIR = "~/.local/share/aishandong-kiosk"


def add_cli(subparsers: Any,
            add_config_args: Callable[[argparse.ArgumentParser], None] | None = None
            ) -> argparse.ArgumentParser:
    """Register ``catalogue`` on the ``kiosk`` sub-parsers; returns its parser."""
    parser = subparsers.add_parser("catalogue", help="search the service catalogue; build, "
                                   "verify and serve signed catalogue bundles")
    parser.set_defaults(catalogue_run=run)
    sub = parser.add_subparsers(dest="catalogue_command", required=True)

    def command(name: str, help_text: str, *, config: bool = True) -> argparse.ArgumentParser:
        child = sub.add_parser(name, help=help_text)
        # every command takes --profile/--config so that kiosk/cli/main.py can load the config the
        # same way for all; the tool commands do not use it (catalogue_needs_config = False)
        if add_config_args is not None:
            add_config_args(child)
        child.set_defaults(catalogue_needs_config=config)
        return child

    search = command("search", "find items as the kiosk's search box does")
    search.add_argument("query", help="Chinese, pinyin or initials, e.g. ylbx, 低保, dibao")
    search.add_argument("--json", action="store_true", help="machine-readable output")
    search.add_argument("--limit", type=int, default=10, help="at most this many (default 10)")

    show = command("show", "one item and its guide")
    show.add_argument("code", help="item code, e.g. ZJ-019")
    show.add_argument("--json", action="store_true")

    browse = command("browse", "the browse lists: by life event or by department")
    browse.add_argument("--by", choices=("event", "department", "category"), default="event")
    browse.add_argument("--json", action="store_true")

    status = command("status", "the active catalogue version on this terminal")
    status.add_argument("--json", action="store_true")

    build = command("build", "build and sign a bundle from TOML sources", config=False)
    build.add_argument("--source", type=Path, default=None,
                       help="folder with catalogue.toml, items.toml, guides.toml "
                            "(default: the sample sources)")
    build.add_argument("--key", type=Path, default=DEMO_PRIVATE_KEY_FILE,
                       help="Ed25519 private key (PEM); default: the DEMO key")
    build.add_argument("--out", type=Path, default=EMBEDDED_BUNDLE,
                       help="bundle file to write (default: the embedded bundle)")
    build.add_argument("--version", dest="bundle_version", default=None,
                       help="override the version, e.g. 2025.04.01-1")
    build.add_argument("--serial", type=int, default=None,
                       help="override the serial (must grow with every publication)")

    keygen = command("keygen", "make a new Ed25519 signing key", config=False)
    keygen.add_argument("--out", type=Path, required=True, help="private key file to create")

    verify = command("verify", "check a bundle file as a terminal would", config=False)
    verify.add_argument("file", type=Path)
    verify.add_argument("--public-key", action="append", default=None,
                        help="trusted key ed25519:… (repeatable; default: the DEMO key)")

    serve = command("serve", "serve bundles over HTTP with ETag (reference server)",
                    config=False)
    serve.add_argument("--dir", type=Path, default=None, help="serve the newest bundle here")
    serve.add_argument("--file", type=Path, default=None, help="serve this bundle")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    return parser


# -- helpers -----------------------------------------------------------------------------------
def _settings(config: Any) -> tuple[CatalogueSettings, Path]:
    settings = getattr(config, "catalogue", None) or CatalogueSettings()
    storage = getattr(config, "storage", None)
    data_dir = Path(storage.data_dir) if storage is not None else Path(DEFAULT_DATA_DIR)
    return settings, data_dir.expanduser()


def _runtime(config: Any):  # type: ignore[no-untyped-def]
    from kiosk.catalogue.runtime import build_catalogue

    settings, data_dir = _settings(config)
    runtime = build_catalogue(settings, data_dir, auto_apply=True)
    runtime.service.load()
    return runtime


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1))


def _fail(message: str, code: int = 2) -> int:
    print(f"kiosk catalogue: {message}", file=sys.stderr)
    return code


# -- commands ----------------------------------------------------------------------------------
def run(args: argparse.Namespace, config: Any = None) -> int:
    """Run the ``catalogue`` sub-command in ``args``; ``config`` is the loaded KioskConfig."""
    handlers = {"search": _search, "show": _show, "browse": _browse, "status": _status,
                "build": _build, "keygen": _keygen, "verify": _verify, "serve": _serve}
    try:
        return handlers[args.catalogue_command](args, config)
    except BundleError as exc:
        return _fail(str(exc))
    except (OSError, ValueError) as exc:
        return _fail(str(exc))


def _search(args: argparse.Namespace, config: Any) -> int:
    query = args.query.strip()
    if not query:
        return _fail("give a search word, e.g. `kiosk catalogue search ylbx`")
    if args.limit < 1:
        return _fail(f"--limit must be 1 or more, not {args.limit}")
    view = _runtime(config).view
    hits = view.search(query, args.limit)
    if args.json:
        _print_json({"query": query, "version": view.version,
                     "results": [hit.as_dict() for hit in hits]})
    else:
        for hit in hits:
            print(f"{hit.item.code}\t{hit.item.name}\t{hit.score:.1f}")
        if not hits:
            print(f"no item matches {query!r} (catalogue {view.version}, {len(view)} items "
                  "offered)", file=sys.stderr)
    return 0 if hits else 1


def _show(args: argparse.Namespace, config: Any) -> int:
    view = _runtime(config).view
    item = view.get(args.code)
    if item is None:
        known = view.catalogue.get(args.code)
        why = "not offered on this terminal" if known else "no such code"
        return _fail(f"{args.code}: {why} (try `kiosk catalogue search WORD`)", 1)
    if args.json:
        _print_json(item.model_dump(mode="json"))
        return 0
    print(f"{item.code}  {item.name}")
    print(f"  {item.type} · {item.department} · {item.level_name} · {item.implementing_body}")
    if item.where:
        print(f"  地点：{item.where.text()}  {item.where.hours}")
    if item.guide is None:
        print("  （暂无白话版指南）")
        return 0
    guide = item.guide
    print(f"  {guide.summary}")
    for label, lines in (("办理条件", guide.conditions),
                         ("申请材料", [f"{m.name}：{m.detail()}" for m in guide.materials]),
                         ("办理流程", [f"{s.name}：{s.detail}" for s in guide.steps])):
        if lines:
            print(f"  【{label}】")
            for number, line in enumerate(lines, 1):
                print(f"    {number}. {line}")
    print(f"  【时限】{guide.time_limit.text()}  【收费】{guide.fees.describe()}")
    if view.sample_data or guide.sample:
        print("  （示例数据，非官方办事指南）")
    return 0


def _browse(args: argparse.Namespace, config: Any) -> int:
    view = _runtime(config).view
    groups = {"event": view.life_events, "department": view.departments,
              "category": view.categories}[args.by]()
    if args.json:
        _print_json([{"key": g.key, "name": g.name, "items": [i.code for i in g.items]}
                     for g in groups])
        return 0
    for group in groups:
        print(f"{group.name} ({len(group.items)})")
        for item in group.items:
            print(f"  {item.code}\t{item.name}")
    return 0


def _status(args: argparse.Namespace, config: Any) -> int:
    runtime = _runtime(config)
    status = runtime.service.status()
    if args.json:
        _print_json(status)
    else:
        stored = status["stored"]
        print(f"catalogue {status['version']} (#{status['serial']}) from {stored['source']}, "
              f"signed by key {stored['key_id']}")
        print(f"  offered {status['offered']} of {status['items']} items"
              + ("; SAMPLE DATA" if status["sample_data"] else ""))
        if stored["history"]:
            print(f"  kept for rollback: {', '.join(stored['history'])}")
        if stored["rolled_back_from"]:
            print(f"  rolled back from #{stored['rolled_back_from']}")
    return 0


def _build(args: argparse.Namespace, config: Any) -> int:
    from kiosk.catalogue.source import SOURCE_DIR, SourceError, load_source

    overrides: dict[str, Any] = {}
    if args.bundle_version:
        overrides["version"] = args.bundle_version
    if args.serial is not None:
        overrides["serial"] = args.serial
    try:
        catalogue = load_source(args.source or SOURCE_DIR, **overrides)
    except SourceError as exc:
        return _fail(str(exc))
    key = load_private_key(args.key)
    raw = sign_bundle(catalogue, key)
    verify_bundle(raw, trust([public_key_text(key)]))  # never publish what a kiosk refuses
    from kiosk.catalogue.store import atomic_write

    atomic_write(args.out, raw)
    guides = sum(1 for item in catalogue.items if item.guide)
    print(f"wrote {args.out}: catalogue {catalogue.version} (#{catalogue.serial}), "
          f"{len(catalogue.items)} items, {guides} guides, {len(raw)} bytes, key "
          f"{key_id(key)}" + (" (DEMO key)" if args.key == DEMO_PRIVATE_KEY_FILE else ""))
    return 0


def _keygen(args: argparse.Namespace, config: Any) -> int:
    if args.out.exists():
        return _fail(f"{args.out} exists; refusing to overwrite a signing key")
    key = generate_key()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.touch(mode=0o600)
    args.out.write_bytes(private_key_pem(key))
    print(f"private key: {args.out} (keep it offline; it signs what every terminal trusts)")
    print(f"public key for catalogue.public_keys: {public_key_text(key)}")
    print(f"key id: {key_id(key)}")
    return 0


def _verify(args: argparse.Namespace, config: Any) -> int:
    from kiosk.catalogue.bundle import DEMO_PUBLIC_KEY

    keys = trust(args.public_key or [DEMO_PUBLIC_KEY])
    bundle = verify_bundle(args.file.read_bytes(), keys)
    catalogue = bundle.catalogue
    print(f"OK: {args.file} is catalogue {catalogue.version} (#{catalogue.serial}) from "
          f"{catalogue.publisher}, {len(catalogue.items)} items, signed by key {bundle.key_id}"
          + ("; SAMPLE DATA" if catalogue.sample_data else ""))
    return 0


def _serve(args: argparse.Namespace, config: Any) -> int:
    from kiosk.catalogue.server import BundleServer

    if (args.dir is None) == (args.file is None):
        return _fail("give exactly one of --dir (serve the newest bundle there) or --file")
    server = BundleServer(args.dir, host=args.host, port=args.port)
    if args.file is not None:
        server.publish(args.file.read_bytes())
    current = server.current()
    if current is None:
        return _fail(f"no bundle to serve in {args.dir}")
    print(f"serving catalogue {current.version} (#{current.serial}) at {server.url}",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m kiosk.catalogue``: the same commands with the default settings."""
    parser = argparse.ArgumentParser(prog="python -m kiosk.catalogue")
    sub = parser.add_subparsers(dest="command", required=True)
    add_cli(sub)
    arguments = ["catalogue", *(sys.argv[1:] if argv is None else argv)]
    args = parser.parse_args(arguments)
    return run(args, None)
