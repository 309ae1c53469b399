"""The late penalty: how late, how much, and the arithmetic shown on top of results.json."""
from dataclasses import dataclass
from datetime import datetime

from .rules import LatePolicy
from .words import iso, minutes, percent, points, when


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


