"""An assignment's corpus: correct solutions and known mistakes, with what each must get.

    tests/submissions/NAME/
        correct*/STUDENT_FILE    correct solutions in several styles: full marks, no diagnosis
        corpus.yaml              base: correct/STUDENT_FILE
                                 mistakes: {name: {replace: [[old, new], ...], breaks: [quantity, ...],
                                                   diagnosis: misconception id or null}}

    read(a, quantities, ids)     the corpus, every key checked (ConfigError naming file, mistake, line)
    write(corpus, mistake, folder, student_file)   a mistake as a submission folder

A mistake is the base with each `old` (which occurs exactly once in it) replaced by `new`.
"""
import os
from dataclasses import dataclass, field
from typing import Optional

from .. import yamlfile
from ..config import ROOT, ConfigError, where_of

KEYS = {"base", "mistakes"}
MISTAKE_KEYS = {"replace", "breaks", "diagnosis"}


@dataclass(frozen=True)
class Mistake:
    name: str
    replace: tuple        # ((old, new), ...)
    breaks: tuple         # the graded quantities that must lose points, and no others
    diagnosis: Optional[str]
    line: int


@dataclass
class Corpus:
    folder: str
    where: str            # corpus.yaml, as messages name it
    base: str             # the file the mistakes are made from
    correct: list = field(default_factory=list)    # the correct*/ folders
    mistakes: list = field(default_factory=list)


def folder_of(a):
    return os.path.join(ROOT, "tests", "submissions", a.name)


def read(a, quantities, ids):
    """The corpus of assignment `a`; `quantities`: what the tests grade; `ids`: the catalogue's ids."""
    folder = folder_of(a)
    path = os.path.join(folder, "corpus.yaml")
    where = where_of(path)
    if not os.path.isfile(path):
        raise ConfigError(f"{where}: no corpus: validate proves the grader against correct solutions and known "
                          f"mistakes (docs/authoring.md, \"The corpus\"); `new` writes one to start from")
    doc = yamlfile.read(path, where)
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected `base:` and `mistakes:`")
    for key in data:
        if key not in KEYS:
            raise ConfigError(f"{doc.at(key)}: unknown key `{key}` (the keys are base, mistakes)")
    base = os.path.join(folder, str(data.get("base") or ""))
    if not data.get("base") or not os.path.isfile(base):
        raise ConfigError(f"{doc.at('base')}: key `base`: expected the correct file the mistakes are made from, "
                          f"e.g. correct/{a.student_file}")
    with open(base, encoding="utf-8") as f:
        text = f.read()
    correct = sorted(os.path.join(folder, d) for d in os.listdir(folder)
                     if d.startswith("correct") and os.path.isdir(os.path.join(folder, d)))
    mistakes = []
    for name, m in (data.get("mistakes") or {}).items():
        def fail(key, what):
            raise ConfigError(f"{doc.at('mistakes', name, key) if key else doc.at('mistakes', name)}: mistake "
                              f"{name!r}" + (f", key `{key}`" if key else "") + f": {what}")
        if not isinstance(m, dict):
            fail(None, "expected replace, breaks and diagnosis")
        for key in m:
            if key not in MISTAKE_KEYS:
                fail(key, f"unknown key (the keys are {', '.join(sorted(MISTAKE_KEYS))})")
        for key in ("replace", "breaks"):
            if key not in m:
                fail(key, "is required")
        if "diagnosis" not in m:
            fail("diagnosis", "is required: the misconception id the grader must name, or null where none applies")
        pairs = m["replace"]
        if not isinstance(pairs, list) or not pairs or not all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in pairs):
            fail("replace", "expected a list of [old, new] pairs of text")
        for old, _ in pairs:
            if text.count(old) != 1:
                fail("replace", f"{old!r} occurs {text.count(old)} times in {os.path.relpath(base, folder)}, "
                                f"not exactly once")
        breaks = m["breaks"] if isinstance(m["breaks"], list) else [m["breaks"]]
        for q in breaks:
            if q not in quantities:
                fail("breaks", f"{q!r} is not a quantity any graded test grades "
                               f"({', '.join(sorted(quantities))})")
        if m["diagnosis"] is not None and m["diagnosis"] not in ids:
            fail("diagnosis", f"{m['diagnosis']!r} is not an id of {os.path.basename(a.misconceptions)}")
        mistakes.append(Mistake(str(name), tuple((o, n) for o, n in pairs), tuple(breaks), m["diagnosis"],
                                doc.line("mistakes", name) or 0))
    return Corpus(folder, where, base, correct, mistakes)


def write(corpus, mistake, folder, student_file):
    """The mistake as a submission: folder/<mistake>/<student_file>; returns the folder."""
    with open(corpus.base, encoding="utf-8") as f:
        text = f.read()
    for old, new in mistake.replace:
        text = text.replace(old, new)
    path = os.path.join(folder, mistake.name)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, student_file), "w", encoding="utf-8") as f:
        f.write(text)
    return path
