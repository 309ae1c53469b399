"""Zip extraction that writes only inside its target: the one copy of that idea.

Used for a class's Gradescope export (classroom/discover.py) and for a student's own zip
(uploads.py). Regular files and folders only: no absolute or `..` paths, no links, and
bounded sizes (an export may be large; a student's upload gets tighter bounds).
"""
import os
import re
import stat
import zipfile
from dataclasses import dataclass


class UnsafeArchive(Exception):
    """The zip cannot be extracted safely (or read at all): the message says why."""


@dataclass(frozen=True)
class ZipLimits:
    entries: int
    entry_bytes: int
    total_bytes: int


EXPORT_LIMITS = ZipLimits(entries=200_000, entry_bytes=256 * 2**20, total_bytes=4 * 2**30)
UPLOAD_LIMITS = ZipLimits(entries=10_000, entry_bytes=64 * 2**20, total_bytes=256 * 2**20)


def safe_extract(path, target, limits=None):
    """Extracts regular files and folders only: no absolute or `..` paths, no links, bounded sizes."""
    limits = limits or EXPORT_LIMITS
    target = os.path.realpath(target)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeArchive(f"{path}: not a readable zip: {exc}") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.entries:
            raise UnsafeArchive(f"{path}: {len(entries)} entries, more than the {limits.entries} allowed")
        total = 0
        for info in entries:
            name = info.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p not in ("", ".")]
            if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
                raise UnsafeArchive(f"{path}: unsafe path in the zip: {info.filename!r}")
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode) or not parts:
                continue  # links are never extracted
            dest = os.path.join(target, *parts)
            if not os.path.realpath(dest).startswith(target + os.sep):
                raise UnsafeArchive(f"{path}: unsafe path in the zip: {info.filename!r}")
            if info.is_dir():
                os.makedirs(dest, exist_ok=True)
                continue
            if info.file_size > limits.entry_bytes:
                raise UnsafeArchive(f"{path}: {info.filename} is larger than {limits.entry_bytes >> 20} MB")
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            written = 0
            try:
                with archive.open(info) as src, open(dest, "wb") as dst:
                    while True:
                        chunk = src.read(1 << 20)
                        if not chunk:
                            break
                        written += len(chunk)
                        total += len(chunk)
                        if written > limits.entry_bytes or total > limits.total_bytes:
                            raise UnsafeArchive(
                                f"{path}: the zip unpacks to more than the sizes allowed "
                                f"({limits.entry_bytes >> 20} MB a file, {sizes(limits.total_bytes)} in all)")
                        dst.write(chunk)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
                # a corrupt entry, an unsupported compression method, an encrypted entry
                raise UnsafeArchive(f"{path}: {info.filename} cannot be extracted: {exc}") from None
            os.chmod(dest, 0o644)


def sizes(n):
    return f"{n >> 30} GB" if n >= 2**30 else f"{n >> 20} MB"
