"""Vendored browser libraries: pinned, versioned file names, licence beside them, no CDN."""

from __future__ import annotations

import json
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
VENDOR = STATIC / "vendor"


def test_every_listed_file_is_vendored_with_its_version_and_licence():
    manifest = json.loads((VENDOR / "package.json").read_text())
    for package, files in manifest["vendor"].items():
        version = manifest["dependencies"][package]
        assert version[0].isdigit(), f"{package} must be pinned to an exact version"
        assert (VENDOR / f"{package}-{version}.LICENSE").is_file()
        for name in files.values():
            assert (VENDOR / f"{name}-{version}.js").is_file()


def test_no_static_file_loads_from_another_host():
    for path in STATIC.rglob("*"):
        if path.suffix in {".js", ".css", ".html"} and "node_modules" not in path.parts:
            text = path.read_text(errors="replace")
            assert "//cdn" not in text and "unpkg.com" not in text and "jsdelivr" not in text, path
