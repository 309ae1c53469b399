"""Finding a class's submissions: a folder of them, or a Gradescope export (zip or folder).

Also what reading them needs: Gradescope's submission_metadata.yml (Ruby-tagged YAML), and
zip extraction that writes only inside its target (archives.py, with an export's bounds).
"""
import hashlib
import os
import re
import shutil
import zipfile
from collections import Counter
from dataclasses import dataclass, field

import yaml

from .. import archives
from ..cli import UsageError

METADATA = "submission_metadata.yml"
MANIFEST = ".batch.json"  # in the output folder: the class's ids and submitters, for `compare`
RESERVED = {"scores.csv", "report.md", "report.html"}


class BatchError(UsageError):
    """The class cannot be read (no such folder, an unsafe zip...): the message says why."""


@dataclass
class Submission:
    id: str
    path: str                       # what `grade` is given
    submitters: list = field(default_factory=list)  # [{"name", "email", "sid"}]
    missing: str = None             # the export lists it but has no files for it
    digest: str = None              # its files' fingerprint, taken once before grading
    created_at: str = None          # when it was submitted (the export's metadata)
    late: object = None             # the policies.Lateness its results get (batch applies the late penalty)


# ---- finding the submissions -------------------------------------------------------

def discover(source, out, a):
    """The class's submissions, sorted by id."""
    if not os.path.exists(source):
        raise BatchError(f"no such file or folder: {source}")
    source = os.path.abspath(source)
    if os.path.isfile(source):
        if not zipfile.is_zipfile(source):
            raise BatchError(f"{source} is neither a folder nor a zip file")
        root = extract_export(source, os.path.join(out, ".export"))
    else:
        root = source
    if os.path.realpath(root) == os.path.realpath(out):
        raise BatchError("--out must be a folder of its own, not the folder of submissions")
    export = find_export_root(root)
    if export:
        return export_submissions(export, out, a)
    return folder_submissions(root, out, a)


def find_export_root(folder):
    """The folder holding submission_metadata.yml: `folder` itself or one just below it."""
    if os.path.isfile(os.path.join(folder, METADATA)):
        return folder
    for depth in (1, 2):
        found = sorted(os.path.dirname(p) for p in _glob_depth(folder, depth, METADATA))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise BatchError(f"more than one {METADATA} in {folder}: give one export at a time")
    return None


def _glob_depth(folder, depth, name):
    level = [folder]
    for _ in range(depth):
        level = [os.path.join(f, d) for f in level for d in sorted(os.listdir(f))
                 if not d.startswith(".") and os.path.isdir(os.path.join(f, d))]
    return [os.path.join(f, name) for f in level if os.path.isfile(os.path.join(f, name))]


def export_submissions(root, out, a):
    """A Gradescope export: one `submission_<id>` entry per key of submission_metadata.yml."""
    metadata = load_metadata(os.path.join(root, METADATA))
    names = set(metadata) | {n for n in os.listdir(root) if n.startswith("submission_") and n != METADATA}
    subs = []
    for name in names:
        if not is_safe_id(name):
            continue
        submitters = metadata.get(name, {}).get("submitters", [])
        created = metadata.get(name, {}).get("created_at")
        created = None if created is None else str(created)
        path = os.path.join(root, name)
        if os.path.isdir(path):
            subs.append(Submission(name, path, submitters, created_at=created))
        elif os.path.isfile(path):
            subs.append(Submission(name, stage(path, name, out, a), submitters, created_at=created))
        else:
            subs.append(Submission(name, path, submitters, created_at=created,
                                   missing=f"the export lists {name} but has no files for it"))
    return sorted(subs, key=lambda s: natural(s.id))


def folder_submissions(root, out, a):
    """A folder with one subfolder, .py, .ipynb or .zip per student; the id is its name (a file's without extension)."""
    entries = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if not is_safe_id(name) or is_within(out, path):
            continue  # the output folder (or a folder holding it) is not a submission
        if os.path.isdir(path):
            entries.append((name, path, False))
        elif os.path.isfile(path) and name.endswith((".py", ".zip", ".ipynb")):
            entries.append((os.path.splitext(name)[0], path, True))
    counts = Counter(i for i, _, _ in entries)
    subs = []
    for sub_id, path, is_file in entries:
        if counts[sub_id] > 1 or sub_id in RESERVED or not is_safe_id(sub_id):
            sub_id = os.path.basename(path)  # alice/ and alice.py: keep both, by full name
        subs.append(Submission(sub_id, stage(path, sub_id, out, a) if is_file else path))
    return sorted(subs, key=lambda s: natural(s.id))


def is_safe_id(name):
    return (bool(name) and not name.startswith((".", "__")) and "/" not in name and "\0" not in name
            and name not in RESERVED)


def is_within(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder + os.sep)


def stage(path, sub_id, out, a):
    """A single-file submission as a folder: a .py as the student file, a .zip safely extracted."""
    folder = os.path.join(out, ".staged", sub_id)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    if path.endswith(".zip") and zipfile.is_zipfile(path):
        try:
            safe_extract(path, folder)
        except BatchError:
            pass  # graded as it is: the student is told the file is missing
    else:
        shutil.copyfile(path, os.path.join(folder, a.student_file if path.endswith(".py")
                                           else os.path.basename(path)))
    return folder


def natural(text):
    """Sort key: submission_9 before submission_10."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text)]


# ---- Gradescope's metadata ---------------------------------------------------------

class _MetadataLoader(yaml.SafeLoader):
    """Safe YAML that keeps Ruby-tagged values (!ruby/object:BigDecimal...) and dates as plain values."""


def _untagged(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_MetadataLoader.add_multi_constructor("!", _untagged)
_MetadataLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def load_metadata(path):
    """{folder name: {"submitters": [{"name", "email", "sid"}], ...}} from submission_metadata.yml.

    Gradescope writes Ruby-symbol keys (`:submitters:`, `:name:`); keys without the colon are
    read the same way.
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.load(f, Loader=_MetadataLoader) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BatchError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise BatchError(f"{path}: expected a mapping of submission folders to their metadata")
    found = {}
    for name, record in data.items():
        record = plain_keys(record) if isinstance(record, dict) else {}
        people = record.get("submitters") or []
        record["submitters"] = [
            {k: "" if p.get(k) is None else str(p.get(k)) for k in ("name", "email", "sid")}
            for p in (plain_keys(p) for p in people if isinstance(p, dict))]
        found[str(name)] = record
    return found


def plain_keys(record):
    return {str(k).lstrip(":"): v for k, v in record.items()}


# ---- safe zip extraction -----------------------------------------------------------

def extract_export(path, target):
    """Extracts an export zip into `target` once (kept, and reused while the zip is the same)."""
    digest = file_digest(path)
    marker = os.path.join(target, ".complete")
    if os.path.isfile(marker):
        with open(marker) as f:
            if f.read().strip() == digest:
                return target
    shutil.rmtree(target, ignore_errors=True)
    partial = target + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    safe_extract(path, partial)
    with open(os.path.join(partial, ".complete"), "w") as f:
        f.write(digest + "\n")
    os.replace(partial, target)  # the folder appears complete or not at all
    return target


def safe_extract(path, target):
    """archives.safe_extract with an export's bounds; what it refuses is a BatchError."""
    try:
        archives.safe_extract(path, target, archives.EXPORT_LIMITS)
    except archives.UnsafeArchive as exc:
        raise BatchError(str(exc)) from None


def file_digest(path):
    """sha256 of a file's bytes (an export zip's, and every file a fingerprint covers)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
