"""How times and numbers read in what the policies tell a student."""
import math
from datetime import timedelta


# ---- how times and numbers read ----------------------------------------------------

def iso(t):
    return t.isoformat()


def when(t, reference):
    """`Tue 4 Feb 2025, 23:00 (UTC-05:00)`, in the time zone of `reference` (a datetime or a Window)."""
    tz = getattr(reference, "created_at", reference).tzinfo
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
