"""The bundled assignments' facts (tests/facts.yaml), read once, as typed records."""
import os
from dataclasses import dataclass

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class Corpus:
    mistakes: int
    diagnosed: int
    caught_by_public_tests: int


@dataclass(frozen=True)
class Facts:
    tests: int
    points: float
    visibility: dict       # visibility -> how many tests
    optional: dict         # optional test -> its points
    tolerance_free: tuple  # tests a near miss outside the tolerance still passes
    corpus: Corpus


def load():
    with open(os.path.join(HERE, "facts.yaml"), encoding="utf-8") as f:
        data = yaml.safe_load(f)
    return {name: Facts(d["tests"], float(d["points"]), dict(d["visibility"]), dict(d["optional"] or {}),
                        tuple(d["tolerance_free"] or ()), Corpus(**d["corpus"]))
            for name, d in data.items()}


FACTS = load()
