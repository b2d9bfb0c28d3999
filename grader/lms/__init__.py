"""A question bank in a learning platform: Moodle XML, Canvas QTI 1.2 and GIFT.

``model`` says once what each question becomes (keys computed by the calculators, known
slips as wrong answers with their messages, practice variants); ``moodle``, ``qti`` and
``gift`` only write that description in their format, and ``export`` picks the format.
None of them imports TensorFlow or NumPy: this is the quiz path.
"""

FORMATS = ("moodle", "qti", "gift")  # grader quiz export --format (export.WRITERS writes each)
