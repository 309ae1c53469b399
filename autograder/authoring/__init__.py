"""Course staff's own assignments (docs/authoring.md): `new` writes one, `validate` proves one, `build` ships one.

- `scaffold`: `python -m autograder new NAME [--style function|module]`, from templates/;
- `validate`: `python -m autograder validate NAME`, step by step (course, corpus, catalogue, leaks,
  runs, verdicts);
- `release`: `python -m autograder build NAME --out DIR`, proved first, both zips or nothing.
"""
