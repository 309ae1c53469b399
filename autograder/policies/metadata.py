"""Gradescope's submission_metadata.json, read as documented (a missing or malformed one: None, and why)."""
import json
import math
from dataclasses import dataclass
from datetime import datetime

from .rules import parse_time


# ---- Gradescope's metadata ---------------------------------------------------------

@dataclass(frozen=True)
class Previous:
    time: datetime
    score: float = None
    results: dict = None       # Gradescope gives it for the latest previous submission only


@dataclass(frozen=True)
class Metadata:
    created_at: datetime
    due_date: datetime = None
    late_due_date: datetime = None
    previous: tuple = ()       # sorted by time


class MetadataError(Exception):
    pass


def read_metadata(path):
    """(Metadata, None), or (None, why it cannot be used) for a missing or malformed file."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None, f"no {path}"
    except (OSError, ValueError) as exc:
        return None, f"{path} is not readable JSON ({exc})"
    try:
        return metadata_of(data), None
    except MetadataError as exc:
        return None, f"{path}: {exc}"


def metadata_of(data):
    if not isinstance(data, dict):
        raise MetadataError("expected a JSON object")
    created = required_time(data.get("created_at"), "created_at")
    assignment = data.get("assignment")
    if not isinstance(assignment, dict):
        raise MetadataError("`assignment` is not an object")
    due = {key: optional_time(assignment.get(key), f"assignment.{key}") for key in ("due_date", "late_due_date")}
    previous = data.get("previous_submissions")
    if previous is None:
        previous = []
    if not isinstance(previous, list):
        raise MetadataError("`previous_submissions` is not a list")
    found = []
    for i, p in enumerate(previous):
        if not isinstance(p, dict):
            raise MetadataError(f"previous_submissions[{i}] is not an object")
        score = p.get("score")
        try:
            score = None if score is None else float(score)
        except (TypeError, ValueError):
            raise MetadataError(f"previous_submissions[{i}].score is not a number: {score!r}") from None
        if score is not None and not math.isfinite(score):
            raise MetadataError(f"previous_submissions[{i}].score is not a number: {score!r}")
        results = p.get("results") if isinstance(p.get("results"), dict) else None
        found.append(Previous(required_time(p.get("submission_time"), f"previous_submissions[{i}].submission_time"),
                              score, results))
    return Metadata(created, due["due_date"], due["late_due_date"], tuple(sorted(found, key=lambda p: p.time)))


def required_time(value, key):
    found = parse_time(value)
    if found is None:
        raise MetadataError(f"`{key}` is not a timestamp with a UTC offset: {value!r}")
    return found


def optional_time(value, key):
    return None if value is None else required_time(value, key)


