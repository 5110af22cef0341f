"""The grader and the exercise machinery: ``python -m lib.grade SUBMISSION... ``python -m lib.grade SUBMISSION... [--jobs N] [--csv F] [--json F] [--seed S] [--timeout S]``.

A submission is a notebook (the student id is its file name without ``.ipynb``) or a folder
of notebooks (the student id is the folder's name). Students can run the same command on
their own notebook to see the score they will get.

How it works (see the README's instructor section for the table of statuses and limits):

* The parent (this process) reads the notebook itself (JSON only; an old nbformat is
  converted), finds the chapter (metadata ``descent.chapter``, else the names of the functions
  the notebook defines) and takes the exercises, points and tolerances from
  :mod:`lib.exercises`, never from the submission. Check cells (``check("id", fn)`` and
  comments only) are skipped, whatever their metadata says.
* Student code never runs here. A child (:mod:`lib.grading.worker`) is started in a sandbox
  (:mod:`lib.grading.sandbox`: namespaces where the platform allows, OS resource limits, scrubbed
  environment, a private working directory holding only a copy of the submission). The parent
  sends it the code cells one at a time, then each case's inputs; the child calls the
  student's function and returns **plain data only** (:mod:`lib.grading.wire`: no pickle; numeric
  arrays become base-class ``ndarray``; anything else is only its type name).
* Every comparison happens here, with :func:`lib.checks.assess`, the judge the notebook's
  check cells use, on reference results computed here.
* Wall-clock limit (``--timeout``) per cell and per exercise: on expiry, or if the child dies,
  the whole session is killed (SIGKILL to its process group, namespace and cgroup, then a sweep
  of the session's marker) and a fresh child continues with the next exercise, so a failure
  costs only its own exercise. A cell that hung or killed a child is skipped in the next one.
* ``--seed S`` grades on hidden cases drawn from a generator seeded by ``(S, exercise id)``.

Exit status: 0 when every submission was graded; 1 when some were not gradable (corrupt file,
unknown chapter); 2 on an error of the grader itself (a bad output path, a sandbox that does
not start). A bad submission never produces a traceback.

Modules, one responsibility each:

* :mod:`lib.grading.cli` — the command line and its reports (table, CSV, JSON);
* :mod:`lib.grading.scheduler` — a batch of submissions, ``--jobs`` at a time;
* :mod:`lib.grading.session` — one submission: cells in a child, cases judged here;
* :mod:`lib.grading.child` — one child process and its protocol (pipes, deadlines, caps);
* :mod:`lib.grading.worker` — the child itself (runs in the sandbox);
* :mod:`lib.grading.sandbox` — namespaces, limits, cgroups, the sweep;
* :mod:`lib.grading.wire` — the plain-data format both sides speak;
* :mod:`lib.grading.submission` — reading a notebook without running it;
* :mod:`lib.grading.records` — statuses and the grade dataclasses;
* :mod:`lib.grading.nbtools` — releasing student notebooks from the sources (``make exercises``).

Students' check cells import :func:`lib.checks.check`; exercise definitions live in
:mod:`lib.exercises`. Both are course content and stay outside this package.
"""

from lib.grading.cli import main
from lib.grading.records import STATUSES, ExerciseGrade, Options, Submission
from lib.grading.scheduler import default_options, grade
from lib.grading.session import grade_notebook, grade_submission

__all__ = [
    "ExerciseGrade",
    "Submission",
    "Options",
    "STATUSES",
    "grade_notebook",
    "grade_submission",
    "grade",
    "default_options",
    "main",
]
