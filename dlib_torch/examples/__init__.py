"""Runnable examples of using dlib_torch as a library."""
