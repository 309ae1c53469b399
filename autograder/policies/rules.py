"""The course's policies, from assignment.yaml: `submissions:` and `late:`, checked."""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

# How the paragraphs the policies put on top of results.json's output begin (the class report skips them).
MARKS = ("**Late penalty:", "**On time:", "**Submissions:", "**Not graded:")
BEYOND = ("best", "latest")  # what stands for a submission beyond the limit
UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}

# ---- the course's policies, from assignment.yaml --------------------------------------

@dataclass(frozen=True)
class SubmissionLimit:
    limit: int                 # graded submissions allowed in any window of `per`
    per: timedelta
    beyond: str = "best"       # "best": not graded, the best earlier score in the window stands;
                               # "latest": not graded, the latest earlier submission's results stand


@dataclass(frozen=True)
class LatePolicy:
    penalty_per_day: float     # a fraction of the score per day late (0.1: 10% a day), pro rata
    cap: float = 1.0           # the most a late submission loses (0.5: half its score)
    grace_minutes: float = 0.0  # this late or less is on time
    due_date: datetime = None       # used where Gradescope's metadata has none (batch grading an export)
    late_due_date: datetime = None


def read(reader):
    """(SubmissionLimit or None, LatePolicy or None) from assignment.yaml, every key checked."""
    limit = late = None
    found = reader.mapping("submissions", {"limit", "per", "beyond"})
    if found:
        for key in ("limit", "per"):
            if key not in found:
                reader.fail(f"submissions.{key}", "is required (for example `submissions: {limit: 5, per: 24h}`)")
        count = reader.number("submissions.limit", found["limit"])
        if count < 1 or not float(count).is_integer():
            reader.fail("submissions.limit", f"expected a whole number of submissions >= 1, got {found['limit']!r}")
        beyond = found.get("beyond", "best")
        if beyond not in BEYOND:
            reader.fail("submissions.beyond", f"expected one of {', '.join(BEYOND)}, got {beyond!r}")
        limit = SubmissionLimit(int(count), duration(reader, "submissions.per", found["per"]), beyond)
    found = reader.mapping("late", {"penalty_per_day", "cap", "grace_minutes", "due_date", "late_due_date"})
    if found:
        if "penalty_per_day" not in found:
            reader.fail("late.penalty_per_day", "is required (for example 0.1 for 10% a day)")
        rate = fraction(reader, "late.penalty_per_day", found["penalty_per_day"])
        cap = fraction(reader, "late.cap", found.get("cap", 1.0))
        grace = reader.number("late.grace_minutes", found.get("grace_minutes", 0))
        if grace < 0:
            reader.fail("late.grace_minutes", f"expected minutes >= 0, got {found['grace_minutes']!r}")
        due = {key: timestamp(reader, f"late.{key}", found[key]) if found.get(key) is not None else None
               for key in ("due_date", "late_due_date")}
        late = LatePolicy(rate, cap, grace, **due)
    return limit, late


def duration(reader, key, value):
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*", str(value))
    if not match or float(match[1]) <= 0:
        reader.fail(key, f"expected a duration such as 24h, 1d, 90m or 1w, got {value!r}")
    return timedelta(seconds=float(match[1]) * UNITS[match[2]])


def fraction(reader, key, value):
    number = reader.number(key, value)
    if not 0 < number <= 1:
        reader.fail(key, f"expected a fraction of the score in (0, 1] (0.1 is 10%), got {value!r}")
    return number


def timestamp(reader, key, value):
    found = parse_time(value)
    if found is None:
        reader.fail(key, f"expected a date and time with its UTC offset, such as 2025-02-04T23:00:00-05:00, got {value!r}")
    return found


def parse_time(value):
    """An aware datetime from Gradescope's timestamps (`2018-07-01T14:22:32.365935-07:00`, the
    export's `2025-02-01 10:00:00.000000000 -05:00`, `...Z`) or YAML's; None without an offset."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
                         r"\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)\s*", value)
    if not match:
        return None
    year, month, day, hour, minute = (int(match[i]) for i in range(1, 6))
    second = int(match[6] or 0)
    micro = int((match[7] or "0")[:6].ljust(6, "0"))
    offset = match[8]
    if offset in ("Z", "UTC"):
        tz = timezone.utc
    else:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None


