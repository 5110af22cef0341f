"""Second-order methods (chapter 10): Newton, line searches, trust regions, conjugate gradient
and Hessian-free optimisation, curvature matrices of neural networks and K-FAC, BFGS and L-BFGS.

One module per idea: :mod:`~lib.second_order.newton`, :mod:`~lib.second_order.line_search`,
:mod:`~lib.second_order.trust_region`, :mod:`~lib.second_order.cg`,
:mod:`~lib.second_order.curvature`, :mod:`~lib.second_order.quasi_newton`
:cite:p:`nocedal2006numerical`.
"""
