"""Which submissions look alike: a class's notebooks or written answers compared, nothing run,
for an instructor to look at (``grader similarity``, and after every ``grader batch``). One
concern per module:

    tokens      code and prose made comparable (normalised tokens, characters), each unit
                keeping where it came from
    winnowing   k-gram hashes and winnowing, as MOSS fingerprints documents
    weighting   what a shared fingerprint weighs given the class and the template; pair scores
    documents   one student's text with its fingerprints, and excerpts of what it shares
    compare     one set of documents compared: pairs scored, their shared passages
    notebooks   notebooks read (as JSON) and fingerprinted
    written     answer sheets' free-text answers, compared question by question
    result      the typed result and similarity.json (grader/schemas/similarity.schema.json)
    page        similarity.html
    run         a folder or zip compared as grader batch finds it; the files written

Words are "similar" and "shared": a score is evidence for a person to weigh, never a verdict.
"""
