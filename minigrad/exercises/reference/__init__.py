"""The course's solutions to the exercises that build the reader's own engine.

``value.py`` (Part I) and ``tensor.py`` (Part II) have the form of the
reader's ``yourgrad/`` files: blocks under marker lines ``# chapter N,
exercise M: title``, in the course's order. ``minigrad.exercises.your_engine``
reads them as text (to fill in what a reader skipped); the notebooks'
solution cells hold the same code (a test checks it).
"""
