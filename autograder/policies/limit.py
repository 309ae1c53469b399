"""The submission limit: the graded submissions in the window up to this one, and what stands beyond it."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .rules import SubmissionLimit, parse_time
from .words import iso, points, span, when


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


