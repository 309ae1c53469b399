"""An autograder for backpropagation assignments (MIT 6.390's notes), factor by factor."""
__version__ = "0.1.0"
