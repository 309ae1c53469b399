"""Both policies, for one run on Gradescope (gradescope.run)."""
from dataclasses import dataclass

from .late import Lateness, apply_late, late_text, lateness
from .limit import Window, not_graded, record, window, window_text
from .metadata import read_metadata
from .words import iso


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
            from ..results import grader_faults  # the grader's, the course's or the machine's failure
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


