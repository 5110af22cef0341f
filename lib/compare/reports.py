r"""Reports for :mod:`lib.compare`: medians and quartiles over seeds, CSV, cost tables,
Dolan-Moré performance profiles :cite:p:`dolan2002benchmarking`, and two plotting helpers.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["summarize", "to_csv", "cost_table", "performance_profile", "plot_summary", "plot_performance_profile"]


# --------------------------------------------------------------------------------------------
# Reporting


def summarize(
    rows: Sequence[dict], metrics: Sequence[str] = ("test_loss", "steps_to_target"), phase: str = "final"
) -> list[dict]:
    """Median and interquartile range per (problem, optimizer) over the rows of ``phase``.

    Each output row has ``problem``, ``optimizer``, ``n`` (the number of seeds), the setting
    (``lr`` and any extra hyperparameter) and, per metric, ``<metric>_median``, ``<metric>_q25``
    and ``<metric>_q75`` (``inf`` counts as the largest value, so a run that never reached the
    target pushes the quantiles up instead of vanishing). The median, not the best seed: the
    best of several seeds is an optimistic, biased estimate of a typical run.
    """
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["phase"] == phase:
            groups.setdefault((r["problem"], r["optimizer"]), []).append(r)
    if not groups:
        raise ValueError(f"no rows with phase={phase!r}")
    out = []
    for (p, o), rs in groups.items():
        s = {"problem": p, "optimizer": o, "n": len(rs)}
        names = [part.split("=")[0] for part in rs[0]["setting"].split(", ")] + ["setting"]
        for k in names:
            if all(r.get(k) == rs[0].get(k) for r in rs):
                s[k] = rs[0].get(k)
        for m in metrics:
            vals = np.array([r.get(m, math.nan) for r in rs], dtype=float)
            if np.all(np.isnan(vals)):  # a metric the problem does not have (accuracy of a regression)
                q25 = med = q75 = math.nan
            elif np.all(np.isfinite(vals)):
                q25, med, q75 = np.percentile(vals, [25, 50, 75])
            else:  # inf (never reached) sorts last; 'lower' keeps it exact
                q25, med, q75 = np.percentile(np.where(np.isnan(vals), np.inf, vals), [25, 50, 75], method="lower")
            s[f"{m}_median"], s[f"{m}_q25"], s[f"{m}_q75"] = float(med), float(q25), float(q75)
        out.append(s)
    return out


def to_csv(rows: Sequence[dict], path=None) -> str:
    """The rows as CSV text (columns: the union of the scalar keys, in first-seen order; arrays
    such as kept curves are left out); also written to ``path`` if given. pandas:
    ``pd.DataFrame(rows).to_csv(path, index=False)``."""
    columns: list[str] = []
    for r in rows:
        columns += [k for k, v in r.items() if k not in columns and np.ndim(v) == 0]
    rows = [{k: r[k] for k in columns if k in r} for r in rows]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    text = buf.getvalue()
    if path is not None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return text


def cost_table(summary: Sequence[dict], metric: str = "steps_to_target_median") -> dict:
    """``{optimizer: {problem: cost}}`` from :func:`summarize` rows (lower is better)."""
    table: dict[str, dict] = {}
    for s in summary:
        table.setdefault(s["optimizer"], {})[s["problem"]] = float(s[metric])
    return table


def performance_profile(costs: dict, taus) -> dict:
    r"""Dolan and Moré's performance profile :cite:p:`dolan2002benchmarking`.

    With cost :math:`t_{p,s} > 0` of method :math:`s` on problem :math:`p` (lower is better;
    ``inf`` or NaN for a failure), the performance ratio is
    :math:`r_{p,s} = t_{p,s} / \min_{s'} t_{p,s'}` and the profile is

    .. math:: \rho_s(\tau) = \frac{1}{n_p}\,\bigl|\{p : r_{p,s} \le \tau\}\bigr|,

    the fraction of problems on which :math:`s` is within a factor :math:`\tau` of the best.
    :math:`\rho_s(1)` is the fraction of problems :math:`s` wins (ties count for every winner);
    :math:`\lim_{\tau\to\infty}\rho_s(\tau)` the fraction it solves at all. ``costs`` is
    ``{method: {problem: cost}}`` with the same problems for every method; returns
    ``{method: array of len(taus)}``.

    >>> performance_profile({"a": {"p": 1.0, "q": 4.0}, "b": {"p": 2.0, "q": 2.0}}, [1, 2])["a"]
    array([0.5, 1. ])
    """
    methods = list(costs)
    if not methods:
        raise ValueError("costs is empty")
    problems = list(costs[methods[0]])
    for m in methods:
        if set(costs[m]) != set(problems):
            raise ValueError(
                f"method {m!r} has problems {sorted(costs[m])}, expected {sorted(problems)}: "
                "every method needs a cost on every problem (inf for a failure)"
            )
    T = np.array([[float(costs[m][p]) for p in problems] for m in methods])
    if np.any(T <= 0):
        raise ValueError("costs must be positive (ratios to the best are taken); shift or use steps/time")
    T = np.where(np.isnan(T), np.inf, T)
    best = T.min(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        R = np.where(np.isfinite(T) & np.isfinite(best), T / best, np.inf)
    taus = np.atleast_1d(np.asarray(taus, dtype=float))
    return {m: (R[i][None, :] <= taus[:, None]).mean(axis=1) for i, m in enumerate(methods)}


def plot_summary(
    ax, summary: Sequence[dict], metric: str = "test_loss", *, problem: str | None = None, log: bool = False, color=None
):
    """Horizontal bars: per optimizer, the median of ``metric`` (a dot) and its interquartile
    range (a line), sorted from best to worst. Values of ``inf`` are drawn at the right edge
    with a ``→``."""
    rows = [s for s in summary if problem is None or s["problem"] == problem]
    if not rows:
        raise ValueError(f"no summary rows for problem {problem!r}")
    rows = sorted(rows, key=lambda s: s[f"{metric}_median"])
    med = np.array([s[f"{metric}_median"] for s in rows])
    lo = np.array([s[f"{metric}_q25"] for s in rows])
    hi = np.array([s[f"{metric}_q75"] for s in rows])
    finite = np.concatenate([v[np.isfinite(v)] for v in (med, lo, hi)])
    edge = finite.max() * (3 if log else 1.1) if finite.size else 1.0
    y = np.arange(len(rows))[::-1]
    c = color or "#0072B2"
    ax.hlines(y, np.minimum(lo, edge), np.minimum(hi, edge), color=c, lw=2.5, alpha=0.5)
    ax.plot(np.minimum(med, edge), y, "o", color=c, ms=5)
    for yi, m in zip(y, med):
        if not math.isfinite(m):
            ax.annotate("→ never", (edge, yi), fontsize="x-small", va="center", ha="right")
    ax.set_yticks(y)
    ax.set_yticklabels([s["optimizer"] for s in rows])
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(f"{metric} (median, IQR)")
    return ax


def plot_performance_profile(ax, profile: dict, taus, *, styles: dict | None = None):
    """Step plot of :func:`performance_profile`: :math:`\\rho_s(\\tau)` against :math:`\\tau`
    (log scale), one line per method."""
    taus = np.asarray(taus, dtype=float)
    for _i, (m, rho) in enumerate(profile.items()):
        kw = (styles or {}).get(m, {})
        ax.step(taus, rho, where="post", label=m, **kw)
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("τ (within a factor τ of the best)")
    ax.set_ylabel("fraction of problems ρ(τ)")
    return ax
