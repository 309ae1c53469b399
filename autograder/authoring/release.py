"""`python -m autograder build NAME --out DIR`: prove the assignment, then write both zips, or nothing.

    build(name, out_dir, out=sys.stdout) -> (autograder.zip, handout.zip), or raises NotProved

`validate` runs first (or its proof of these very files, kept on this machine, stands); both
zips' contents are made in memory, and only then are they written: a wrong `@public` name, a
test that cannot be recorded or a misconception that never fires leaves DIR as it was.
"""
import sys
import time

from .. import config as configuration
from ..sandbox import platform
from .validate import proved_before, validate


class NotProved(Exception):
    """validate found problems (printed): nothing was written."""


def build(name, out_dir, out=None):
    from ..gradescope import build_zip, zip_contents
    from ..handout.build import build_handout, handout_files
    out = out or sys.stdout
    a = configuration.find(name)
    when = proved_before(a)
    if when is not None:
        print(f"validate {a.name}: these files were proved on this machine at "
              f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(when))}", file=out)
    else:
        proof = validate(a, out=out, grading=platform.system() != "windows")
        if not proof.ok:
            raise NotProved(f"{a.name} is not proved ({len(proof.problems)} problem(s) above): nothing written")
    handout = handout_files(a)
    contents = zip_contents(a)
    return build_zip(a, out_dir, contents), build_handout(a, out_dir, handout)
