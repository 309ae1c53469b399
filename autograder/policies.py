"""A course's policies on submissions: the submission limit and the late penalty.

    read(reader)                   assignment.yaml's `submissions:` and `late:`, checked (config.load calls it)
    read_metadata(path)            Gradescope's submission_metadata.json, or None and why not
    window(limit, metadata)        the graded submissions in the window up to this one
    lateness(policy, created_at, due, late_due)     how late, and the penalty
    apply_late(results, late)      the penalty applied to a results dict, the arithmetic on top
    for_gradescope(a, path, log)   both, for one run on Gradescope (gradescope.run)

Every time comes from the metadata (`created_at`, `submission_time`, the due dates), never
from the clock: grading the same submission again gives the same answer. A metadata file
that is missing or malformed never costs a student anything: the submission is graded as if
there were no policy, and the staff-only log (Gradescope's stdout) says why.
"""
import json
import math
import re
from dataclasses import dataclass, field
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


# ---- the submission limit ----------------------------------------------------------

@dataclass(frozen=True)
class Window:
    rule: SubmissionLimit
    created_at: datetime
    graded: tuple              # times of the earlier graded submissions in the window, oldest first
    earlier: tuple             # every earlier submission in the window (Previous), oldest first
    known: bool                # whether which of them were graded is known (from the last results' record)
    previous: tuple = field(default=(), repr=False)   # every previous submission, for `latest`

    @property
    def over(self):
        return len(self.graded) >= self.rule.limit

    def opens(self, graded):
        """When a graded submission can next be made, given these graded times (oldest first)."""
        return graded[len(graded) - self.rule.limit] + self.rule.per


def window(rule, metadata):
    """The graded submissions in the `rule.per` up to this one (created_at), from the metadata alone.

    Which earlier ones were graded comes from the record the latest earlier results carry
    (extra_data.submissions.graded). Where that record says nothing (no results, an older
    grader), an earlier submission counts as graded, as Gradescope's documentation counts.
    """
    now = metadata.created_at
    earlier = tuple(p for p in metadata.previous if now - rule.per < p.time < now)
    record = graded_record(metadata.previous)
    graded = []
    for p in earlier:
        if record is None or p.time <= record[0]:
            graded.append(p.time)       # not covered by the record: counted
        elif any(abs((p.time - t).total_seconds()) < 1 for t in record[1]):
            graded.append(p.time)
    return Window(rule, now, tuple(graded), earlier, record is not None, metadata.previous)


def graded_record(previous):
    """(the record's start, [graded times]) from the latest previous results we wrote, else None."""
    if not previous or not previous[-1].results:
        return None
    record = (previous[-1].results.get("extra_data") or {}).get("submissions")
    if not isinstance(record, dict) or not isinstance(record.get("graded"), list):
        return None
    times = [parse_time(t) for t in record["graded"]]
    try:
        per = timedelta(seconds=float(record.get("per_seconds")))
    except (TypeError, ValueError):
        return None
    if any(t is None for t in times):
        return None
    return previous[-1].time - per, times


def record(rule, graded):
    """What this results.json tells the next submission: which submissions in the window were graded."""
    return {"limit": rule.limit, "per_seconds": rule.per.total_seconds(), "graded": [iso(t) for t in graded]}


def best_earlier(w):
    """The best-scored graded submission in the window (the latest of equals), or None without scores."""
    scored = [p for p in w.earlier if p.score is not None and p.time in w.graded]
    return max(scored, key=lambda p: (p.score, p.time)) if scored else None


def not_graded(w):
    """The results of a submission beyond the limit: not graded, an earlier score stands; None if none is known."""
    rule = w.rule
    standing = best_earlier(w) if rule.beyond == "best" else (w.previous[-1] if w.previous else None)
    if standing is None or standing.score is None:
        return None
    opens = w.opens(list(w.graded))
    which = (f"Your best score among them, {points(standing.score)}, from your submission of {when(standing.time, w)},"
             if rule.beyond == "best" else
             f"The score of your latest submission, {points(standing.score)}, from {when(standing.time, w)},")
    lines = [f"**Not graded:** you have used the {rule.limit} graded submissions allowed in any "
             f"{span(rule.per)}. {which} stands as this submission's score. Your next submission can be "
             f"graded from {when(opens, w)}."]
    tests = []
    latest = w.previous[-1] if w.previous else None
    if standing is latest and latest.results and isinstance(latest.results.get("tests"), list):
        tests = latest.results["tests"]
        lines.append("Below are the results of that submission.")
    return {"score": standing.score, "output": " ".join(lines), "tests": tests,
            "extra_data": {"submissions": {**record(rule, w.graded), "not_graded": True}},
            "execution_time": 0.0, "stdout_visibility": "hidden", "output_format": "md"}


def window_text(w, counted):
    """The sentence on top of a graded submission: how many are left, and when the next opens."""
    rule = w.rule
    graded = list(w.graded) + ([w.created_at] if counted else [])
    left = rule.limit - len(graded)
    head = f"**Submissions:** this is graded submission {len(graded)} of the {rule.limit} allowed in any {span(rule.per)}"
    if not counted:
        return (f"**Submissions:** this submission could not be graded because of the grader, so it does not count "
                f"toward the {rule.limit} allowed in any {span(rule.per)}; {left} can be graded now.")
    if left > 0:
        return (f"{head}; {left} more can be graded now. Each one counts for {span(rule.per)}: your earliest in "
                f"the window, of {when(graded[0], w)}, stops counting at {when(graded[0] + rule.per, w)}.")
    what = "your best score in the window" if rule.beyond == "best" else "the score of your latest submission"
    return (f"{head}: a submission made before {when(w.opens(graded), w)} will not be graded, and {what} "
            f"will stand for it.")


# ---- the late penalty --------------------------------------------------------------

@dataclass(frozen=True)
class Lateness:
    policy: LatePolicy
    created_at: datetime
    due_date: datetime
    late_due_date: datetime = None

    @property
    def seconds(self):
        return (self.created_at - self.due_date).total_seconds()

    @property
    def in_grace(self):
        return 0 < self.seconds <= self.policy.grace_minutes * 60

    @property
    def days(self):
        """Days late, to a thousandth (86 s), as shown and as the penalty uses them."""
        return round(self.seconds / 86400, 3) if self.seconds > 0 and not self.in_grace else 0.0

    @property
    def uncapped(self):
        return round(self.days * self.policy.penalty_per_day, 6)

    @property
    def penalty(self):
        return min(self.policy.cap, self.uncapped)

    @property
    def after_late_due(self):
        return self.late_due_date is not None and self.created_at > self.late_due_date


def lateness(policy, created_at, due_date, late_due_date=None):
    """How late a submission is, or None when nothing is known to be due (no due date anywhere)."""
    due = due_date or policy.due_date
    if due is None or created_at is None:
        return None
    return Lateness(policy, created_at, due, late_due_date if due_date else policy.late_due_date)


def apply_late(results, late, explain=True):
    """The results with the late penalty applied: score, extra_data.late, and (explain) the arithmetic on top."""
    results = dict(results)
    before = float(results.get("score", 0))
    after = round(before * (1 - late.penalty), 2) if late.penalty else before
    extra = dict(results.get("extra_data") or {})
    extra["late"] = {"created_at": iso(late.created_at), "due_date": iso(late.due_date), "days_late": late.days,
                     "penalty": late.penalty, "before": before, "after": after}
    results["extra_data"] = extra
    results["score"] = after
    text = late_text(late, before, after)
    if explain and text and not extra.get("error"):
        results["output"] = text + "\n\n" + results.get("output", "")
    return results


def late_text(late, before, after):
    p, tz = late.policy, late.created_at
    if late.seconds <= 0:
        return None
    if late.in_grace:
        return (f"**On time:** this submission was made {minutes(late.seconds)} after the due date, within the "
                f"{points(p.grace_minutes)}-minute grace period: no late penalty.")
    rate = percent(p.penalty_per_day)
    arithmetic = f"{points(late.days)} day{'s' * (late.days != 1)} × {rate} = {percent(late.uncapped)}"
    if late.uncapped > p.cap:
        arithmetic += f", capped at {percent(p.cap)}"
    text = (f"**Late penalty: {percent(late.penalty)}.** This submission was made {when(late.created_at, tz)}, "
            f"{points(late.days)} day{'s' * (late.days != 1)} after the due date ({when(late.due_date, tz)}). "
            f"At {rate} a day{f', at most {percent(p.cap)}' if p.cap < 1 else ''}: {arithmetic}. "
            f"Your score: {points(before)} before the penalty, {points(before)} × (1 − {points(late.penalty)}) "
            f"= **{points(after)}** after it.")
    if late.after_late_due:
        text += (f" It was made after the late due date ({when(late.late_due_date, tz)}), which Gradescope allows "
                 "only with an extension or an upload by course staff: if you had an extension, ask course staff "
                 "to adjust the penalty.")
    return text


# ---- on Gradescope -----------------------------------------------------------------

@dataclass
class OnGradescope:
    """The policies of one Gradescope run: whether to grade, and what to add to the results."""
    window: Window = None
    late: Lateness = None
    standing: dict = None      # the results that stand instead of grading (beyond the limit)

    def apply(self, results):
        """The graded results with the penalty applied and this submission recorded; the sentences on top."""
        results = dict(results)
        error = (results.get("extra_data") or {}).get("error")
        paragraphs = []
        if self.late:
            results = apply_late(results, self.late, explain=False)
            text = late_text(self.late, results["extra_data"]["late"]["before"], results["score"])
            if text and not error:
                paragraphs.append(text)  # first: it changes the score
        if self.window:
            from .results import grader_faults  # the grader's, the course's or the machine's failure
            counted = not grader_faults(results)  # does not use up a submission
            graded = list(self.window.graded) + ([self.window.created_at] if counted else [])
            results["extra_data"] = {**(results.get("extra_data") or {}),
                                     "submissions": record(self.window.rule, graded)}
            paragraphs.append(window_text(self.window, counted))
        results["output"] = "\n\n".join(paragraphs + [results.get("output", "")])
        return results


def for_gradescope(a, path, log):
    """The OnGradescope of this run, or None when no policy applies (and, if the metadata is why, the log says so)."""
    if not a.submissions and not a.late:
        return None
    metadata, why = read_metadata(path)
    if metadata is None:
        log.write(f"policies: {why}. Graded without the submission limit and the late penalty "
                  "(missing or malformed metadata never costs a student points).\n")
        return None
    found = OnGradescope()
    if a.late:
        found.late = lateness(a.late, metadata.created_at, metadata.due_date, metadata.late_due_date)
        if found.late is None:
            log.write("policies: no due date in submission_metadata.json or assignment.yaml (late.due_date): "
                      "no late penalty.\n")
        elif a.late.due_date and metadata.due_date and a.late.due_date != metadata.due_date:
            log.write(f"policies: Gradescope's due date {iso(metadata.due_date)} is used, not assignment.yaml's "
                      f"late.due_date {iso(a.late.due_date)}.\n")
        if found.late is not None and found.late.after_late_due:
            log.write(f"policies: submitted {iso(metadata.created_at)}, after the late due date "
                      f"{iso(found.late.late_due_date)}: Gradescope's metadata shows no extensions; the usual "
                      "penalty was applied. Adjust the score by hand if an extension applies.\n")
    if a.submissions:
        found.window = window(a.submissions, metadata)
        if not found.window.known and found.window.earlier:
            log.write("policies: the latest previous submission carries no record of which submissions were graded; "
                      "every earlier submission in the window counts.\n")
        if found.window.over:
            found.standing = not_graded(found.window)
            if found.standing is None:
                log.write("policies: over the submission limit, but no earlier score is known: graded normally.\n")
                found.window = None
    return found


# ---- how times and numbers read ----------------------------------------------------

def iso(t):
    return t.isoformat()


def when(t, reference):
    """`Tue 4 Feb 2025, 23:00 (UTC-05:00)`, in the time zone of `reference` (a datetime or a Window)."""
    tz = (reference.created_at if isinstance(reference, Window) else reference).tzinfo
    local = t.astimezone(tz)
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    hours, rest = divmod(abs(int(offset.total_seconds())) // 60, 60)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} (UTC{sign}{hours:02d}:{rest:02d})"


def span(delta):
    """24 hours, 2 days, 1 week, 90 minutes."""
    seconds = delta.total_seconds()
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and not (unit == "day" and seconds == 86400):
            n = int(seconds // size)
            return f"{n} {unit}{'s' * (n != 1)}"
    return f"{points(seconds)} seconds"


def minutes(seconds):
    m = math.ceil(seconds / 60)
    return f"{m} minute{'s' * (m != 1)}"


def points(x):
    x = round(float(x), 6)
    return str(int(x)) if x.is_integer() else f"{x:g}"


def percent(x):
    return f"{round(x * 100, 4):g}%"
