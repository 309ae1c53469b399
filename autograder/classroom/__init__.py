"""Grading a whole class on one machine: `python -m autograder batch` and `compare`.

Every submission is graded by its own `python -m autograder grade` process, exactly as a
TA grades one submission; this package only finds submissions, runs graders and reads
their results.json back.

- `discover`: the class's submissions, from a folder or a Gradescope export (its
  submission_metadata.yml, its zip, safely extracted).
- `run`: the `batch` command: resuming, and running the grader processes in parallel.
- `scores`: reading results back; scores.csv and the summary the reports show.
- `report`: report.md and report.html (with charts), from templates/.
- `compare`: the `compare` command: what changed between two gradings of a class.
"""
