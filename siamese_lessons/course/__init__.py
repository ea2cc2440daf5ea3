"""The course's chapters as code: each module holds one chapter's experiment, its
quick and full sizes and its defaults, built from the library's reusable parts.

The library (``siamese_lessons.data``, ``models``, ``losses``, ``training``,
``evaluation``, ...) knows no chapter; notebooks and benchmarks import the chapter
module they belong to, so a number in ``benchmarks/results`` comes from the code
the chapter shows, at that chapter's full-profile sizes.

- :mod:`~siamese_lessons.course.ch01_omniglot`: chapter 1, one-shot Omniglot.
- :mod:`~siamese_lessons.course.ch02_lfw_pairs`: chapter 2, the LFW seed and its ladder.
- :mod:`~siamese_lessons.course.ch03_sweeps`: chapter 3, sweeps around chapter 2's last rung.
- :mod:`~siamese_lessons.course.ch04_contrastive`, :mod:`~siamese_lessons.course.ch05_triplet`:
  chapters 4 and 5, with :mod:`~siamese_lessons.course.faces`, their split of LFW by person.
- :mod:`~siamese_lessons.course.ch06_protocol`: chapter 6, every method under View 2.
- :mod:`~siamese_lessons.course.ch07_msceleb_scale`: chapter 7, training at scale on the LFW clean list.
- :mod:`~siamese_lessons.course.ch08_margin_softmax`: chapter 8, margin-softmax embeddings.
"""
