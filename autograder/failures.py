"""A failed test's Gradescope entry, its diagnosis and feedback: one copy for every way a failure is
found (pytest and Hypothesis through the plugin, a known shrink, a recorded regime). No pytest here:
a failure found without pytest never waits for its import.
"""
from dataclasses import dataclass, field

from . import results, timing
from .judging import feedback
from .judging.diagnose import diagnose


@dataclass
class Grading:
    """One grading's inputs for feedback, and (where pytest grades) the test results it produced: the
    plugin's state on pytest's config.stash."""
    assignment: object
    session: object             # session.GradingSession
    catalogue: list
    reference: object
    only: object = None         # the names of the tests to run (the others passed on the record), or all
    tests: list = field(default_factory=list)            # Gradescope test entries, in run order
    internal_errors: list = field(default_factory=list)  # staff-only: a test that broke the grader

    @classmethod
    def of(cls, a, session, only=None):
        """The grading of assignment `a` in `session`: its catalogue and reference loaded."""
        from .judging.diagnose import load_catalogue
        return cls(a, session, load_catalogue(a.misconceptions), a.load_reference(), only=only)


def failure_entry(grading, entry, info, failure):
    """A failed test's entry: the diagnosis and the feedback of its (shrunk) failure."""
    a, r = grading.assignment, failure.report
    with timing.span("feedback (diagnose and explain a failure)"):
        found = (diagnose(grading.catalogue, r.quantity, r.instances, grading.reference,
                          a.rtol if r.rtol is None else r.rtol, a.atol if r.atol is None else r.atol)
                 if r.kind == "mismatch" else None)
        text = feedback.explain(r, info.quantity, info.factor, student_file=a.student_file,
                                show_output=a.show_student_output, diagnosis=found,
                                catalogued=bool(grading.catalogue), factors=a.factors)
    return results.failed(entry, text, diagnosis=found.id if found else None, error=(r.error or {}).get("kind"))
