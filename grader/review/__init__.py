"""The instructor's review workspace (``grader review OUT``): written answers grouped and
graded once per group with suggested points, notebook checks overridden with a comment,
every decision saved at once beside the batch output and the gradebook regenerated from it.

    workspace.py    what a batch output folder holds: students, written answers, notebook results
    decisions.py    the instructor's decisions: grades files (the ``--grades`` format) and who/when
    groups.py       identical and near-identical answers grouped
    reading.py      an answer's passages (headings, bullets, sentences) and which way they point
    suggest.py      key points covered and suggested points (lexical, WordLlama, hybrid)
    learn.py        suggestions learned from the instructor's first grades; least sure first
    calibration.py  agreement with labelled answers; thresholds search; cross-validation
    regenerate.py   results, feedback pages and exports recomputed from the decisions
    state.py        what the server holds (workspace, groups, suggestions, decisions) and what forms change
    pages.py        what each page shows, as small dataclasses built from that state
    gate.py         the token every request needs and the CSRF token every form carries
    handlers.py     the Starlette handlers, reaching the state through ``request.app.state``
    app.py          the application put together, and the server (``grader review``)
"""
