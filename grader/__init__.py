"""Grading for a deep-learning course's CNN homework: quizzes and notebooks.

The quiz path (question banks, calculators, answer sheets) is pure Python and never
imports TensorFlow; notebook grading lives in its own modules and imports heavy
libraries only when it runs.
"""

__version__ = "0.1.0"
