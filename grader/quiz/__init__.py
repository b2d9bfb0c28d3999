"""Quizzes: question banks, computed answer keys, answer sheets and their grading."""
