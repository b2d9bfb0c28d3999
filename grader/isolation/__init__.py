"""Keeping a student's code in its place, for a batch's children and a notebook's kernel alike.

sandbox         bubblewrap: what the process sees of the file system, no network
process_limits  control groups (memory, processes) and their fallback where there are none
environment     the scrubbed environment and fixed thread counts a child or kernel starts with
"""
