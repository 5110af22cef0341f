"""lib.functions: derivatives agree with finite differences, landmarks are what they claim."""

import math

import numpy as np
import pytest

import lib.functions as F

# Every registered function with its defaults, plus variants that exercise other code paths.
CASES = {name: F.get(name) for name in F.FUNCTIONS}
CASES |= {
    "quadratic-rotated": F.quadratic((2.0, 30.0), angle=0.7),
    "quadratic-3d": F.quadratic((0.5, 2.0, 7.0)),
    "quadratic-saddle": F.quadratic((-1.0, 3.0), angle=0.3),
    "rosenbrock-a2": F.rosenbrock(a=2.0, b=10.0),
}
ALL = pytest.mark.parametrize("f", CASES.values(), ids=CASES.keys())


def random_points(f, k=5, seed=0):
    """``k`` points inside the plotting window."""
    rng = np.random.default_rng(seed)
    lo = np.array([f.xlim[0], f.ylim[0]] + [f.xlim[0]] * (f.dim - 2))
    hi = np.array([f.xlim[1], f.ylim[1]] + [f.xlim[1]] * (f.dim - 2))
    return lo + (hi - lo) * rng.random((k, f.dim))


def central_difference(fn, theta, h):
    """Column i: (fn(θ + h e_i) - fn(θ - h e_i)) / 2h."""
    cols = []
    for i in range(len(theta)):
        e = np.zeros_like(theta)
        e[i] = h
        cols.append((np.asarray(fn(theta + e)) - np.asarray(fn(theta - e))) / (2 * h))
    return np.stack(cols, axis=-1)


def rel_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1.0)


def test_registry_builds_every_function():
    assert set(F.FUNCTIONS) == {"quadratic", "rosenbrock", "beale", "himmelblau", "saddle", "ravine"}
    for name, f in ((n, F.get(n)) for n in F.FUNCTIONS):
        assert isinstance(f, F.Objective) and f.name == name
        assert f.start.shape == (f.dim,) and f.xlim[0] < f.xlim[1] and f.ylim[0] < f.ylim[1]
        assert f.latex == __import__("sympy").latex(f.expr)


@ALL
def test_gradient_matches_central_differences(f):
    for theta in random_points(f):
        fd = central_difference(f.value, theta, 1e-6)
        assert rel_error(f.grad(theta), fd) < 1e-6, theta


@ALL
def test_hessian_matches_differences_of_gradient_and_is_symmetric(f):
    for theta in random_points(f, seed=1):
        h = f.hessian(theta)
        assert h.shape == (f.dim, f.dim)
        np.testing.assert_array_equal(h, h.T)
        fd = central_difference(f.grad, theta, 1e-5)
        assert rel_error(h, fd) < 1e-6, theta


@ALL
def test_minima_are_strict_local_minima(f):
    rng = np.random.default_rng(2)
    for m in f.minima:
        assert m.dtype == np.float64 and m.shape == (f.dim,)
        assert np.abs(f.grad(m)).max() < 1e-9
        assert np.linalg.eigvalsh(f.hessian(m)).min() > 0
        for u in rng.normal(size=(8, f.dim)):
            assert f(m) < f(m + 1e-3 * u / np.linalg.norm(u))


@ALL
def test_saddles_are_critical_with_curvature_of_both_signs(f):
    for s in f.saddles:
        assert np.abs(f.grad(s)).max() < 1e-9
        lam = np.linalg.eigvalsh(f.hessian(s))
        assert lam.min() < 0 < lam.max()


@ALL
def test_vectorised_evaluation_equals_pointwise(f):
    pts = random_points(f, k=12, seed=3)
    theta = pts.T.reshape(f.dim, 3, 4)  # a (3, 4) grid of points
    value, grad, hess = f(theta), f.grad(theta), f.hessian(theta)
    assert value.shape == (3, 4)
    assert grad.shape == (f.dim, 3, 4)  # constant components broadcast too
    assert hess.shape == (f.dim, f.dim, 3, 4)
    for k, p in enumerate(pts):
        i, j = divmod(k, 4)
        assert value[i, j] == pytest.approx(f(p), rel=1e-14, abs=1e-14)
        np.testing.assert_allclose(grad[:, i, j], f.grad(p), rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(hess[:, :, i, j], f.hessian(p), rtol=1e-14, atol=1e-14)


@ALL
def test_value_is_a_float_and_float32_is_preserved(f):
    assert type(f(f.start)) is float
    theta32 = f.start.astype(np.float32)
    assert f.grad(theta32).dtype == np.float32 and f.hessian(theta32).dtype == np.float32
    assert f.grad([1] * f.dim).dtype == np.float64  # integers are computed as floats


def test_grid_is_ready_for_contour():
    f = F.himmelblau()
    X, Y, Z = f.grid(n=30)
    assert X.shape == Y.shape == Z.shape == (30, 30)
    assert (X[0, 0], Y[0, 0], X[-1, -1], Y[-1, -1]) == (-5, -5, 5, 5)
    assert Z[3, 7] == pytest.approx(f([X[3, 7], Y[3, 7]]))
    X, _, _ = f.grid(n=5, xlim=(0, 1), ylim=(0, 2))
    assert X.max() == 1
    with pytest.raises(ValueError, match="grid\\(\\) needs a 2-D function"):
        F.quadratic((1, 2, 3)).grid()


def test_wrong_coordinates_give_clear_errors():
    f = F.rosenbrock()
    with pytest.raises(
        ValueError,
        match=r"rosenbrock takes 2 coordinates on the first axis, "
        r"got shape \(3,\)",
    ):
        f([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        f.grad(1.0)
    with pytest.raises(ValueError, match=r"got shape \(5, 2\)"):  # points on the wrong axis
        f.hessian(np.zeros((5, 2)))
    with pytest.raises(TypeError, match="rosenbrock expects real numbers"):
        f(["a", "b"])
    with pytest.raises(TypeError, match="real numbers"):
        f([1j, 0.0])


def test_divergence_gives_inf_without_warnings():
    with np.errstate(all="raise"):
        assert F.rosenbrock()([1e200, 1e200]) == math.inf
        assert np.isnan(F.beale().grad([np.inf, 0.0])).any()


def test_known_landmarks():
    np.testing.assert_array_equal(F.rosenbrock(a=2.0).minima[0], [2.0, 4.0])
    np.testing.assert_array_equal(F.beale().minima[0], [3.0, 0.5])
    h = F.himmelblau()
    assert len(h.minima) == 4 and len(h.saddles) == 4
    for m in h.minima:  # all four are global: f = 0
        assert h(m) < 1e-25
    np.testing.assert_allclose(h.minima[1], [-2.805118, 3.131312], atol=1e-6)
    np.testing.assert_array_equal(F.saddle().hessian([0.0, 0.0]), np.diag([1.0, -1.0]))
    np.testing.assert_array_equal(F.beale().hessian([0.0, 1.0]), [[0, 27.75], [27.75, 0]])


def test_constructors_are_cached_and_landmarks_read_only():
    assert F.rosenbrock() is F.rosenbrock() and F.himmelblau() is F.himmelblau()
    assert F.quadratic(kappa=10) is F.quadratic([1, 10])
    with pytest.raises(ValueError):
        F.rosenbrock().minima[0][0] = 5.0


# --------------------------------------------------------------------------- quadratic


@pytest.mark.parametrize(
    "eigenvalues, angle", [((1.0, 10.0), 0.0), ((2.0, 50.0), 0.4), ((-3.0, 0.5), 2.0), ((0.1, 1.0, 5.0, 9.0), 0.0)]
)
def test_quadratic_has_the_requested_eigenvalues(eigenvalues, angle):
    f = F.quadratic(eigenvalues, angle=angle)
    h = f.hessian(np.zeros(len(eigenvalues)))
    np.testing.assert_allclose(np.linalg.eigvalsh(h), sorted(eigenvalues), rtol=1e-12)
    np.testing.assert_allclose(f.eigenvalues, sorted(eigenvalues), rtol=1e-12)
    theta = np.arange(1.0, len(eigenvalues) + 1)
    assert f(theta) == pytest.approx(0.5 * theta @ h @ theta, rel=1e-12)


def test_quadratic_rotation_turns_the_eigenvectors():
    h = F.quadratic((1.0, 4.0), angle=np.pi / 4).hessian([0.0, 0.0])
    np.testing.assert_allclose(h @ [1.0, 1.0], [1.0, 1.0], rtol=1e-12)  # (1, 1) has λ = 1
    np.testing.assert_allclose(h @ [-1.0, 1.0], [-4.0, 4.0], rtol=1e-12)


def test_quadratic_kappa_and_explicit_hessian():
    f = F.quadratic(kappa=25)
    np.testing.assert_array_equal(f.eigenvalues, [1.0, 25.0])
    assert str(f.expr) == "x**2/2 + 25*y**2/2"
    H = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 4.0]])
    g = F.quadratic(hessian=H)
    assert g.dim == 3 and [str(s) for s in g.symbols] == ["theta_1", "theta_2", "theta_3"]
    np.testing.assert_array_equal(g.hessian(np.ones(3)), H)
    np.testing.assert_allclose(g.grad([1.0, -1.0, 2.0]), H @ [1.0, -1.0, 2.0])
    assert len(g.minima) == 1 and g.saddles == ()
    indefinite = F.quadratic((-1.0, 2.0))
    assert indefinite.minima == () and len(indefinite.saddles) == 1
    flat = F.quadratic(hessian=np.zeros((2, 2)))  # constant everywhere, still vectorised
    assert flat(np.zeros((2, 4, 5))).shape == (4, 5)
    assert flat.grad(np.zeros((2, 4, 5))).shape == (2, 4, 5)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"kappa": 0.5}, ValueError, "kappa must be >= 1"),
        ({"kappa": "big"}, TypeError, "kappa must be real numbers"),
        ({"eigenvalues": (1.0, np.inf)}, ValueError, "eigenvalues must be .*finite"),
        ({"eigenvalues": ()}, ValueError, "non-empty"),
        ({"eigenvalues": ("a", 1)}, TypeError, "eigenvalues must be real numbers"),
        ({"eigenvalues": (1.0, 2.0, 3.0), "angle": 0.3}, ValueError, "2-D quadratic only"),
        ({"hessian": [[1.0, 2.0], [0.0, 1.0]]}, ValueError, "must be symmetric"),
        ({"hessian": [[1.0, 2.0, 3.0]]}, ValueError, r"square matrix, got shape \(1, 3\)"),
        ({"hessian": [[1.0, np.nan], [np.nan, 1.0]]}, ValueError, "must be finite"),
        ({"hessian": [["a"]]}, TypeError, "matrix of real numbers"),
        ({"hessian": np.eye(2), "kappa": 3}, ValueError, "either hessian= or"),
    ],
)
def test_quadratic_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        F.quadratic(**kwargs)


def test_rosenbrock_rejects_bad_parameters():
    with pytest.raises(ValueError, match="b > 0"):
        F.rosenbrock(b=0)
    with pytest.raises(ValueError, match="finite"):
        F.rosenbrock(a=np.nan)


# --------------------------------------------------------------------------- get


def test_get_passes_arguments():
    assert F.get("quadratic", kappa=4) is F.quadratic(kappa=4)
    assert F.get("rosenbrock", b=10).minima[0].tolist() == [1.0, 1.0]


def test_get_unknown_name_lists_names_and_suggests():
    with pytest.raises(KeyError) as info:
        F.get("rosenbrok")
    message = str(info.value)
    assert message == (
        "unknown test function 'rosenbrok'; available: beale, himmelblau, "
        "quadratic, ravine, rosenbrock, saddle; did you mean 'rosenbrock'?"
    )
    with pytest.raises(ValueError, match="available: beale") as info:
        F.get("zzz")
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize("name", ["beale", "rosenbrock", "himmelblau", "saddle", "quadratic"])
def test_point_gradient_in_python_floats_is_numpys_bit_for_bit(name):
    # polynomials take a Python-float path at one point; it must equal NumPy's scalars, also past overflow
    import sympy as sp

    f = F.get(name)
    raw = sp.lambdify(f.symbols, [sp.diff(f.expr, s) for s in f.symbols], modules="numpy")
    rng = np.random.default_rng(0)
    points = rng.standard_normal((400, 2)) * 10.0 ** rng.integers(-8, 200, (400, 1))
    for x in points:
        with np.errstate(all="ignore"):
            want = np.array(raw(*x), dtype=np.float64)
        np.testing.assert_array_equal(f.grad(x), want)
