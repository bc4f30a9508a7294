"""tasks.importers media helpers: kind by name, safe stored names, magic-byte sniffing."""

from __future__ import annotations

import pytest

from tasks.importers import ImportFormatError, media_kind, safe_media_name, sniff_media

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 "
BMP = b"BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"
WAV = b"RIFF\x24\x08\x00\x00WAVEfmt "
MP3_ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x00"
MP3_FRAME = b"\xff\xfb\x90\x64\x00\x00\x00\x00"
OGG = b"OggS\x00\x02\x00\x00\x00\x00\x00\x00"
FLAC = b"fLaC\x00\x00\x00\x22\x10\x00"
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00"
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01"
HTML = b"<html><script>alert(1)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>'


@pytest.mark.parametrize(
    ("filename", "kind"),
    [
        ("cat.png", "image"),
        ("CAT.JPG", "image"),
        ("a/b/c.jpeg", "image"),
        ("x.webp", "image"),
        ("song.mp3", "audio"),
        ("take.FLAC", "audio"),
        ("clip.mp4", "video"),
        ("clip.webm", "video"),
        ("logo.svg", None),
        ("page.html", None),
        ("tasks.json", None),
        ("noext", None),
    ],
)
def test_media_kind_by_last_extension(filename, kind):
    assert media_kind(filename) == kind


@pytest.mark.parametrize(
    ("filename", "safe"),
    [
        ("cat.png", "cat.png"),
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\evil.jpg", "evil.jpg"),
        ("/abs/path/to/pic.gif", "pic.gif"),
        ("x.php.png", "x_php.png"),
        ("archive.tar.gz.jpg", "archive_tar_gz.jpg"),
        (".hidden.png", "hidden.png"),
        ("...png", "file.png"),
        ("PHOTO.JPG", "PHOTO.jpg"),
        ("my holiday (1).jpeg", "my_holiday_1.jpeg"),
        ("tab\tnew\nline\x00nul\x1b[31m.png", "tabnewlinenul_31m.png"),
        ("фото кота.png", "фото_кота.png"),
        ("a" * 300 + ".wav", "a" * 100 + ".wav"),
        ("$(rm -rf).mp3", "rm_-rf.mp3"),
    ],
)
def test_safe_media_name(filename, safe):
    assert safe_media_name(filename) == safe


@pytest.mark.parametrize("filename", ["logo.svg", "icon.SVG", "x.png.svg", "page.html", "p.htm"])
def test_safe_media_name_refuses_script_capable_types(filename):
    with pytest.raises(ImportFormatError, match="can carry scripts"):
        safe_media_name(filename)


@pytest.mark.parametrize("filename", ["run.php", "x.png.php", "data.csv", "noext", ""])
def test_safe_media_name_refuses_non_media(filename):
    with pytest.raises(ImportFormatError):
        safe_media_name(filename)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (PNG, "image"),
        (JPEG, "image"),
        (GIF, "image"),
        (WEBP, "image"),
        (BMP, "image"),
        (WAV, "audio"),
        (MP3_ID3, "audio"),
        (MP3_FRAME, "audio"),
        (OGG, "audio"),
        (FLAC, "audio"),
        (M4A, "audio"),
        (MP4, "video"),
        (WEBM, "video"),
        (OGG, "video"),
    ],
)
def test_sniff_accepts_real_signatures(head, kind):
    assert sniff_media(head, kind)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (HTML, "image"),
        (SVG, "image"),
        (b"", "image"),
        (b"#!/bin/sh\nrm -rf /", "audio"),
        (b"<?php system($_GET['c']); ?>", "image"),
        (WAV, "image"),  # RIFF, but not a WEBP
        (WEBP, "audio"),  # RIFF, but not a WAVE
        (PNG, "audio"),
        (MP3_ID3, "video"),
        (PNG, "document"),
    ],
)
def test_sniff_refuses_renamed_or_mismatched_files(head, kind):
    assert not sniff_media(head, kind)
