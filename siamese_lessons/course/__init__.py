"""The course's chapters as code: each module holds one chapter's experiment, its
quick and full sizes and its defaults, built from the library's reusable parts.

The library (``siamese_lessons.data``, ``models``, ``losses``, ``training``,
``evaluation``, ...) knows no chapter; notebooks and benchmarks import the chapter
module they belong to, so a number in ``benchmarks/results`` comes from the code
the chapter shows, at that chapter's full-profile sizes.

- :mod:`~siamese_lessons.course.ch01_omniglot`: chapter 1, one-shot Omniglot.
"""
