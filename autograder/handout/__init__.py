"""The student handout: what staff build (`build`), what it holds, and running it as a student (`check`).

- `build`: handout.zip (the stub, public tests, tests/support/, README.md from templates/);
- `cases`: the fixed cases, recorded from the graded tests and computed by the reference;
- `as_student`: `check`, the public tests run as on a student's machine;
- `student_conftest.py`: the public tests' pytest hooks, shipped as tests/conftest.py.

The public tests' runtime is autograder/public.py, as the graded tests' is autograder/testing.py.
"""
from .build import COPIED, build_handout, graded_tests  # noqa: F401
from .cases import fixed_cases  # noqa: F401
from .as_student import check, run_public_tests, unpack  # noqa: F401
