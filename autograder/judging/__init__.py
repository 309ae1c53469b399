"""Judging one answer: the wire format, calls and programs, comparison, diagnosis and feedback.

Every module here but `diagnose` is shipped in the student handout (tests/support/judging/),
so this package's `__init__` imports nothing.
"""
