"""Notebook grading: run a student's notebook, take the model, measure it ourselves.

Imports NumPy, nbclient and (in the measuring process) Keras; the quiz path never
imports this package.
"""
