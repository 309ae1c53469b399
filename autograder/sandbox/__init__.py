"""Student code, kept apart from the grader.

- `boundary`: the grader's side of the boundary (start, confine, frames, death): read it in one screen.
- `worker`: the untrusted side's main loop, the only process that imports student code.
- `runner`: importing the student's module, running a program of steps, describing what
  it raised; shared by the worker and the handout's public tests.
- `processes`: the one module that finds and kills processes (on psutil).

This `__init__` imports nothing: `runner` is shipped in the handout, and `worker` and
`runner` are copied alone into each sandbox folder.
"""
