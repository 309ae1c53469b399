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
from .late import Lateness, apply_late, lateness  # noqa: F401
from .limit import Window, best_earlier, not_graded, window  # noqa: F401
from .metadata import Metadata, MetadataError, metadata_of, read_metadata  # noqa: F401
from .on_gradescope import OnGradescope, for_gradescope  # noqa: F401
from .rules import MARKS, LatePolicy, SubmissionLimit, parse_time, read  # noqa: F401
