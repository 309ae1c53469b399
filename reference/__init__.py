"""Reference solutions for the 6.390 assignments (the answers the autograder compares against)."""
