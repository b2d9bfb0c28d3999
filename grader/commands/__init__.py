"""The ``grader`` command's commands, one module per family; ``grader.cli`` imports each
module only when one of its commands runs, so a command loads what it needs and no more.

    shared      what several commands share: the error exit, the course secret, options
    quiz        grader quiz: banks, answer sheets, handouts, keys, checks, exports
    notebooks   grader grade and grader check: one notebook, run for real
    batch       grader batch and grader export: a class
    review      grader review: written answers and notebook checks in the browser
    similarity  grader similarity
"""
