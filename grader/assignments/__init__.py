"""Assignment files shipped with the grader: one YAML per graded notebook exercise."""
