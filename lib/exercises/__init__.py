"""The registry of graded exercises: one :class:`Exercise` per graded check.

An exercise is defined once, here in ``lib``, and used by three things:

* the check cells of the exercise notebooks (``check("gd_step", gd_step)``, see
  :mod:`lib.checks`), which give the student feedback that teaches;
* the release command (:mod:`lib.grading.nbtools`), which refuses a source notebook whose check cells
  disagree with these definitions (unknown id, different points);
* the grader (:mod:`lib.grading`), which takes the points from here, never from a submission.

Each chapter has a module (``lib/exercises/gradient_descent.py`` for
``exercises/source/01-gradient-descent.ipynb``) that defines ``EXERCISES``, a tuple of
:class:`Exercise`; :data:`CHAPTERS` maps the chapter name to that module.

>>> from lib import exercises
>>> exercises.get("gd_step").points
2
>>> [ex.id for ex in exercises.for_chapter("01-gradient-descent")][:2]
['mse_loss_and_grad', 'gd_step']
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Case", "Exercise", "Lazy", "CHAPTERS", "chapters", "for_chapter", "get", "all_exercises"]

#: chapter name (the notebook's file stem) -> module defining its ``EXERCISES``
CHAPTERS: dict[str, str] = {
    "01-gradient-descent": "lib.exercises.gradient_descent",
    "02-computing-gradients": "lib.exercises.computing_gradients",
    "03-stochastic-gradient-descent": "lib.exercises.sgd",
    "04-momentum": "lib.exercises.momentum",
    "05-adaptive-methods": "lib.exercises.adaptive",
    "08-regularization": "lib.exercises.regularization",
    "09-large-batch": "lib.exercises.large_batch",
    "06-weight-decay": "lib.exercises.weight_decay",
    "07-schedules": "lib.exercises.schedules",
    "10-second-order": "lib.exercises.second_order",
    "11-beyond-adam": "lib.exercises.beyond_adam",  # chapter 11
    "12-comparing-optimizers": "lib.exercises.compare",
}


class Lazy:
    """A case input built when the case runs, e.g. the gradient function of a test function.

    Case inputs must be plain data so that a case can be copied, compared and printed; a
    callable input is described by a ``Lazy`` instead: ``build()`` makes it (a fresh one for
    every call) and ``description`` is what a failure message shows.
    """

    def __init__(self, build: Callable[[], Any], description: str):
        self.build = build
        self.description = description

    def __repr__(self) -> str:
        return self.description

    def __deepcopy__(self, memo):
        return self  # immutable description of an input


@dataclass(frozen=True)
class Case:
    """The inputs of one call of the student's function: ``function(*args, **kwargs)``."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    note: str = ""  # what this case is about, shown in failure messages ("start at the minimum")


@dataclass(frozen=True)
class Exercise:
    """One graded check: the student defines ``function`` so that it agrees with ``reference``.

    ``cases(rng)`` returns the list of :class:`Case` to try, deterministic for a given
    ``numpy.random.Generator`` (the checker seeds it from the id). Results are compared with
    ``rtol`` / ``atol`` (``numpy.isclose`` semantics); integers and booleans exactly. With
    ``may_mutate=False`` (the default) the student's function must leave its inputs unchanged.
    With ``partial_credit=True`` the grader gives ``points * passed / total`` instead of all or
    nothing (every case is then tried, not only those up to the first failure).

    The grader's hidden cases (``python -m lib.grade --seed S``) call ``cases`` with a
    generator seeded from ``S`` and the id: write ``cases`` so that another generator gives
    other inputs (at least a couple of cases drawn from ``rng``), not only fixed ones.
    """

    id: str
    chapter: str
    points: int
    function: str
    cases: Callable[[Any], list]
    reference: Callable[..., Any]
    hint: str
    rtol: float = 1e-7
    atol: float = 1e-10
    may_mutate: bool = False
    partial_credit: bool = False

    @property
    def seed(self) -> int:
        """The seed of the case generator: fixed by the id, so cases never change by accident."""
        return zlib.crc32(self.id.encode())

    def make_cases(self, seed: int | None = None) -> list:
        """The cases: the public ones (``seed=None``, what the notebook's check cell uses) or,
        for another ``seed``, hidden ones drawn from a generator seeded by ``(seed, id)``."""
        import numpy as np

        rng = np.random.default_rng(self.seed if seed is None else [int(seed), self.seed])
        return list(self.cases(rng))


def chapters() -> list[str]:
    """The chapters that have graded exercises, in course order."""
    return sorted(CHAPTERS)


def for_chapter(chapter: str) -> tuple[Exercise, ...]:
    """The exercises of ``chapter`` (e.g. ``"01-gradient-descent"``), in notebook order."""
    if chapter not in CHAPTERS:
        raise LookupError(
            f"no exercises are registered for chapter {chapter!r}; known chapters: "
            f"{', '.join(chapters())} (see lib/exercises/__init__.py, CHAPTERS)"
        )
    module = importlib.import_module(CHAPTERS[chapter])
    return tuple(module.EXERCISES)


def all_exercises() -> dict[str, Exercise]:
    """Every registered exercise by id (ids are unique across the course; checked here)."""
    out: dict[str, Exercise] = {}
    for chapter in chapters():
        for ex in for_chapter(chapter):
            if ex.id in out:
                raise RuntimeError(f"exercise id {ex.id!r} is defined twice ({out[ex.id].chapter}, {chapter})")
            if ex.chapter != chapter:
                raise RuntimeError(f"exercise {ex.id!r} says chapter {ex.chapter!r} but is listed in {chapter!r}")
            out[ex.id] = ex
    return out


def get(exercise_id: str) -> Exercise:
    """The exercise with this id; an unknown id raises ``LookupError`` listing the known ones."""
    registry = all_exercises()
    try:
        return registry[exercise_id]
    except (KeyError, TypeError):
        raise LookupError(f"unknown exercise id {exercise_id!r}; known ids: {', '.join(registry)}") from None
