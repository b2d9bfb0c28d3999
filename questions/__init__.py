"""Question banks shipped with the grader (installed as the package data ``grader.banks``)."""
