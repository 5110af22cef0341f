"""What the lessons prove, as code: closed-form results and papers' reference steps.

Nothing here is an optimizer you train with (those are in :mod:`lib.optim`); these functions
let a lesson, a widget or a test state a theorem and check it numerically.

* :mod:`lib.theory.quadratic_rates` — gradient descent and momentum on quadratics: stability limits,
  optimal step sizes and rates, iteration matrices, measured rates (chapters 01 and 04);
* :mod:`lib.theory.momentum_forms` — the momentum conventions of the papers and the source
  articles (heavy ball, EMA, learning rate inside, sign-flipped, Sutskever's look-ahead
  Nesterov, Goyal's correction) written as reference steps, to prove them equivalent to
  :func:`lib.optim.sgd` or not (chapter 04).
"""
