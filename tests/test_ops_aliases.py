"""Every NumPy alias and ndarray method in the registry, called as NumPy allows: by position
and by keyword, traced and scripted, against NumPy itself.

One table, ``CALLS``: a sample call per NumPy callable that stands for an op and per
ndarray method, written with positional arguments.  The keyword spelling of each call is
derived from the callable's signature (every argument NumPy accepts by keyword passed by
keyword), and both spellings become functions of a generated module, so that
``jitcore.script`` can read their source.  A registry alias without a sample call fails
``test_every_alias_and_method_has_a_sample_call``.
"""

import importlib.util
import inspect

import numpy as np
import pytest
import scipy.special

import jitcore
from jitcore.ops import Effect, registry
from jitcore.ops.docgen import _alias_name

# The inputs every sample function takes: (name, value).
INPUTS = (
    ("x", np.random.default_rng(0).uniform(-2, 2, (3, 4))),
    ("p", np.random.default_rng(1).uniform(0.5, 3, (3, 4))),
    ("y", np.random.default_rng(2).uniform(-2, 2, (4, 3))),
    ("i", np.random.default_rng(3).integers(0, 4, (3, 4))),
    ("m", np.random.default_rng(4).uniform(-1, 1, (3, 4)) > 0),
)

# callable (as docs/ops.md names it) -> its positional arguments, as source
CALLS = {
    # ufuncs: their operands are positional only
    **{f"np.{name}": ["x"] for name in (
        "absolute", "arctan", "ceil", "cos", "exp", "expm1", "floor", "negative", "sign", "sin",
        "square", "tan", "tanh", "trunc", "isnan", "isinf", "isfinite", "logical_not",
        "reciprocal")},
    **{f"np.{name}": ["p"] for name in ("log", "log10", "log1p", "log2", "sqrt")},
    **{f"np.{name}": ["x", "p"] for name in (
        "add", "arctan2", "divide", "equal", "greater", "greater_equal", "less", "less_equal",
        "maximum", "minimum", "multiply", "not_equal", "subtract", "floor_divide", "remainder")},
    "np.power": ["p", "x"],
    **{f"np.logical_{name}": ["m", "x > 0"] for name in ("and", "or", "xor")},
    **{f"np.bitwise_{name}": ["i", "i + 1"] for name in ("and", "or", "xor")},
    "np.invert": ["i"],
    "np.matmul": ["x", "y"], "np.einsum": ["'ij,jk->ik'", "x", "y"],
    **{f"scipy.special.{name}": ["x"] for name in ("erf", "erfc", "expit")},
    # reductions
    **{f"np.{name}": ["x", "1"] for name in (
        "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "std", "var")},
    "np.all": ["m"], "np.any": ["m"],
    "np.cumsum": ["x", "1"], "np.cumprod": ["x", "0"],
    "np.sort": ["x", "0"], "np.argsort": ["x", "1"],
    "np.linalg.norm": ["x", "None", "1"],
    # shape
    "np.reshape": ["x", "(2, 6)"], "np.transpose": ["x", "(1, 0)"], "np.swapaxes": ["x", "0", "1"],
    "np.squeeze": ["x[None]", "0"], "np.expand_dims": ["x", "1"],
    "np.broadcast_to": ["x[0]", "(3, 4)"], "np.ascontiguousarray": ["x"], "np.copy": ["x"],
    "np.concatenate": ["(x, p)", "1"], "np.stack": ["(x, p)", "1"],
    "np.split": ["x", "2", "1"], "np.array_split": ["x", "[1, 3]", "1"], "np.unstack": ["x"],
    "np.tril": ["x", "1"], "np.triu": ["x", "-1"], "np.flip": ["x", "1"],
    "np.fliplr": ["x"], "np.flipud": ["x"], "np.roll": ["x", "2", "1"], "np.tile": ["x", "(2, 1)"],
    "np.repeat": ["x", "2", "0"], "np.pad": ["x", "((1, 0), (2, 1))", "'reflect'"],
    "np.take": ["x", "i"], "np.take_along_axis": ["x", "i", "1"],
    "np.where": ["m", "x", "p"], "np.clip": ["x", "-0.5", "0.5"], "np.round": ["x", "2"], "np.nan_to_num": ["x / m", "True", "0.5"],
    "np.shape": ["x"], "np.ndim": ["x"], "np.size": ["x"],
    # creation
    # (a shape read from an input: a call of constants alone is a constant to jitcore.script)
    "np.zeros": ["x.shape"], "np.ones": ["(x.shape[0], 2)"], "np.full": ["x.shape", "1.5"],
    "np.zeros_like": ["x"], "np.ones_like": ["x"], "np.full_like": ["x", "2.5"],
    # NumPy leaves np.empty's values unspecified: _source compares their shape and dtype
    "np.empty": ["(x.shape[0], 2)"], "np.empty_like": ["i"],
    "np.array": ["x"], "np.asarray": ["i", "np.float32"],
    "np.arange": ["0", "x.shape[1]", "2"],
    # ndarray methods: the receiver first
    **{f"ndarray.{name}": ["x", "1"] for name in (
        "sum", "mean", "prod", "max", "min", "argmax", "argmin", "std", "var", "cumsum",
        "cumprod", "argsort", "squeeze")},
    "ndarray.astype": ["x", "np.float32"], "ndarray.clip": ["x", "-0.5", "0.5"],
    "ndarray.copy": ["x"], "ndarray.dot": ["x", "y"], "ndarray.flatten": ["x"],
    "ndarray.repeat": ["x", "2", "1"], "ndarray.reshape": ["x", "(2, 6)"],
    "ndarray.swapaxes": ["x", "0", "1"], "ndarray.take": ["x", "i"],
    "ndarray.transpose": ["x", "(1, 0)"],
}
# squeeze needs a unit dim: the receiver is x[None]
CALLS["ndarray.squeeze"] = ["x[None]", "0"]


def _callable(name):
    if name.startswith("ndarray."):
        return getattr(np.ndarray, name.split(".", 1)[1])
    owner, _, attr = name.rpartition(".")
    return getattr({"np": np, "np.linalg": np.linalg, "scipy.special": scipy.special}[owner], attr)


def _keyword_spelling(name, args):
    """``args`` with every argument NumPy takes by keyword passed by keyword (source)."""
    method = name.startswith("ndarray.")
    # an ndarray method takes the keywords of the NumPy function of its name
    fn = getattr(np, name.split(".", 1)[1], None) if method else _callable(name)
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return list(args)
    bound = signature.bind(*range(len(args)))
    out = []
    for param_name, index in bound.arguments.items():
        kind = signature.parameters[param_name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            out.extend(args[i] for i in index)
        elif kind is inspect.Parameter.POSITIONAL_ONLY or (method and index == 0):
            out.append(args[index])
        else:
            out.append(f"{param_name}={args[index]}")
    return out


def _source(name, args):
    if name.startswith("ndarray."):
        return f"{args[0]}.{name.split('.', 1)[1]}({', '.join(args[1:])})"
    if name == "np.arange":
        # in a trace NumPy reads the traced x.shape[1] and returns an object array of
        # Python ints: an op input takes it as the int64 array it stands for
        return f"x[0, :2] + np.arange({', '.join(args)})"
    if name in ("np.empty", "np.empty_like"):
        return f"np.zeros_like({name}({', '.join(args)}))"
    return f"{name}({', '.join(args)})"


def _function_name(name, spelling):
    return name.replace(".", "_") + "_" + spelling


@pytest.fixture(scope="module")
def sample_module(tmp_path_factory):
    """The generated module: one function per table entry and spelling."""
    params = ", ".join(n for n, _ in INPUTS)
    lines = ["import numpy as np", "import scipy.special", ""]
    for name, args in CALLS.items():
        keywords = _keyword_spelling(name, args)
        try:
            eval(_source(name, keywords), {"np": np, "scipy": scipy}, dict(INPUTS))
        except TypeError:
            keywords = args     # an ndarray method that takes these positionally only
        for spelling, call_args in (("positional", args), ("keyword", keywords)):
            lines += [f"def {_function_name(name, spelling)}({params}):",
                      f"    return {_source(name, call_args)}", ""]
    path = tmp_path_factory.mktemp("aliases") / "alias_samples.py"
    path.write_text("\n".join(lines))
    spec = importlib.util.spec_from_file_location("alias_samples", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _registry_callables():
    names = set()
    for op in registry.all_ops():
        if op.effect is Effect.RANDOM:
            continue    # random draws compare with no other generator's (test_runtime_op_creation)
        for fn in op.aliases:
            module = getattr(fn, "__module__", "") or ""
            if isinstance(fn, np.ufunc) or module.startswith(("numpy", "scipy")):
                names.add(_alias_name(fn))
    # a method that writes its array in place (ndarray.fill returns None in NumPy) is not a
    # call whose result can be compared: tests/test_script_inplace.py checks those
    return names | {f"ndarray.{m}" for m, kind in registry.methods().items()
                    if registry.effect(kind) is not Effect.MUTATES}


def test_every_alias_and_method_has_a_sample_call():
    assert sorted(_registry_callables() - set(CALLS)) == []


def test_keyword_spelling_passes_keywords():
    assert _keyword_spelling("np.swapaxes", ["x", "0", "1"]) == ["a=x", "axis1=0", "axis2=1"]
    assert _keyword_spelling("ndarray.repeat", ["x", "2", "1"]) == ["x", "repeats=2", "axis=1"]


def _assert_same(got, want, what):
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), what
        for g, w in zip(got, want):
            _assert_same(g, w, what)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, NumPy {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, NumPy {want.dtype}"
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=what)


@pytest.mark.filterwarnings("ignore::jitcore.errors.TracerWarning")
@pytest.mark.parametrize("way", ["trace", "script"])
@pytest.mark.parametrize("spelling", ["positional", "keyword"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_alias_binds_like_numpy(sample_module, name, spelling, way):
    fn = getattr(sample_module, _function_name(name, spelling))
    inputs = tuple(value for _, value in INPUTS)
    want = fn(*inputs)
    compiled = (jitcore.trace(fn, inputs, check_trace=False, strict=False) if way == "trace"
                else jitcore.script(fn))
    _assert_same(compiled(*inputs), want, f"{way} of {_source(name, CALLS[name])} ({spelling})")
