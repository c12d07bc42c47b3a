"""Everyday TorchScript code in jitcore.script: functions and small modules written the way the
scripted parts of torchvision, torchaudio, HuggingFace and fairseq models are written (shape
arithmetic, early returns, loops with break/continue, Optional arguments, defaults, tuples,
lists and dicts built in loops, comprehensions, math, conversions, in-place updates, helper
calls, modules with submodules and constants).  Each is scripted, linted, run on several
inputs against the plain Python function (NumPy is the oracle), also after
``optimize_for_inference``, and its ``.code`` re-scripts to the same results.  ``test_corpus_is_large_enough`` counts the corpus of every module."""

import copy
import inspect
import math
import warnings
from typing import Dict, Final, List, Optional, Tuple

import numpy as np
import pytest

import jitcore
import jitcore.nn as nn
import jitcore.nn.functional as F
from jitcore.errors import KernelError
from jitcore.frontend.script import script
from jitcore.frontend.script.source_text import script_source
from jitcore.testing import assert_roundtrip

from test_script_lists import _assert_same
from test_script_nn_layers import _rescripted

RNG = np.random.default_rng(16)

# the optimiser must handle every program here: its fallback warning is a failure
pytestmark = pytest.mark.filterwarnings("error:jitcore. optimising:RuntimeWarning")


def arr(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


# ------------------------------------------------------------ shape arithmetic

def flatten_keep_batch(x):
    n = x.shape[0]
    return x.reshape(n, -1)


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    return (kernel_size - 1) * dilation // 2


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def make_divisible(v: float, divisor: int, min_value: Optional[int] = None) -> int:
    # torchvision's _make_divisible
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def split_heads(x, num_heads: int):
    b, t, c = x.shape
    return x.reshape(b, t, num_heads, c // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    b, h, t, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, t, h * d)


def round_up_to_multiple(n: int, multiple: int) -> int:
    return (n + multiple - 1) // multiple * multiple


def frame_count(length: int, window: int, hop: int, center: bool = False) -> int:
    # torchaudio's number of STFT frames
    if center:
        length = length + 2 * (window // 2)
    if length < window:
        return 0
    return 1 + (length - window) // hop


def numel_by_loop(x) -> int:
    n = 1
    for s in x.shape:
        n *= s
    return n


def shape_as_list(x) -> List[int]:
    dims: List[int] = []
    for d in range(x.ndim):
        dims.append(x.shape[d])
    return dims


def broadcast_shapes(a: List[int], b: List[int]) -> List[int]:
    n = max(len(a), len(b))
    out: List[int] = []
    for i in range(n):
        da = a[i - n + len(a)] if i - n + len(a) >= 0 else 1
        db = b[i - n + len(b)] if i - n + len(b) >= 0 else 1
        if da != db and da != 1 and db != 1:
            raise ValueError("shapes do not broadcast")
        out.append(max(da, db))
    return out


def last_two_swapped(x):
    return np.swapaxes(x, -1, -2) if x.ndim >= 2 else x


def center_crop(x, size: int):
    h, w = x.shape[-2], x.shape[-1]
    top = (h - size) // 2
    left = (w - size) // 2
    return x[..., top:top + size, left:left + size]


def patchify(x, patch: int):
    # a vision transformer's patch embedding input
    c, h, w = x.shape
    gh, gw = h // patch, w // patch
    y = x[:, :gh * patch, :gw * patch].reshape(c, gh, patch, gw, patch)
    return y.transpose(1, 3, 0, 2, 4).reshape(gh * gw, c * patch * patch)


# --------------------------------------------------------------- early returns

def clamp_index(i: int, n: int) -> int:
    if i < 0:
        return 0
    if i >= n:
        return n - 1
    return i


def first_positive(xs: List[float]) -> int:
    for i, v in enumerate(xs):
        if v > 0:
            return i
    return -1


def find_in_matrix(m: List[List[int]], target: int) -> Tuple[int, int]:
    for i in range(len(m)):
        for j in range(len(m[i])):
            if m[i][j] == target:
                return i, j
    return -1, -1


def sign_of(x: float) -> int:
    if x > 0:
        return 1
    elif x < 0:
        return -1
    return 0


def validate_then_scale(x, scale: float):
    if x.ndim != 2:
        raise ValueError(f"expected a 2-d input, got {x.ndim} dimensions")
    if scale == 1.0:
        return x
    return x * scale


def first_row_above(x, threshold: float):
    for i in range(x.shape[0]):
        if float(x[i].mean()) > threshold:
            return x[i]
    return np.zeros_like(x[0])


# --------------------------------------------------------- nested loops, while

def count_pairs(n: int) -> int:
    count = 0
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            if i + j > n:
                break
            count += 1
    return count


def primes_below(n: int) -> List[int]:
    primes: List[int] = []
    for k in range(2, n):
        is_prime = True
        for p in primes:
            if p * p > k:
                break
            if k % p == 0:
                is_prime = False
                break
        if is_prime:
            primes.append(k)
    return primes


def triangle_sum(n: int) -> int:
    total = 0
    for i in range(n):
        for j in range(i):
            total += i * j
    return total


def gcd(a: int, b: int) -> int:
    while b != 0:
        a, b = b, a % b
    return a


def collatz_steps(n: int) -> int:
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def binary_search(xs: List[int], target: int) -> int:
    lo, hi = 0, len(xs)
    while lo < hi:
        mid = (lo + hi) // 2
        if xs[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


def digits_of(n: int) -> List[int]:
    if n == 0:
        return [0]
    out: List[int] = []
    while n > 0:
        out.append(n % 10)
        n //= 10
    out.reverse()
    return out


def while_true_with_break(n: int) -> int:
    i = 0
    while True:
        i += 3
        if i > n:
            break
    return i


def skip_padding_tokens(tokens: List[int], pad: int) -> int:
    length = 0
    for t in tokens:
        if t == pad:
            continue
        length += 1
    return length


def row_loop_with_break(x, limit: float):
    acc = np.zeros_like(x[0])
    for i in range(x.shape[0]):
        acc = acc + x[i]
        if float(acc.sum()) > limit:
            break
    return acc


def nested_array_loops(x):
    out = x * 0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if j > i:
                continue
            out = out + x[i, j]
    return out


# ------------------------------------------------------ Optional and defaults

def linear_maybe_bias(x, w, b: Optional[np.ndarray] = None):
    y = x @ w.T
    if b is not None:
        y = y + b
    return y


def attention_scale(x, scale: Optional[float] = None):
    if scale is None:
        scale = 1.0 / math.sqrt(x.shape[-1])
    return x * scale


def masked_scores(scores, mask: Optional[np.ndarray] = None):
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    return scores


def int_or_default(n: Optional[int] = None) -> int:
    if n is None:
        return 3
    return n * 2


def ternary_on_none(n: Optional[int], m: Optional[int] = None) -> int:
    # each side of a conditional expression sees the test's refinement
    k = n if n is not None else 3
    return k + (0 if m is None else m * 2)


def optional_list_default(xs: Optional[List[int]] = None) -> List[int]:
    if xs is None:
        xs = [1, 2, 3]
    return [v + 1 for v in xs]


def dropout_eval(x, p: float = 0.5, training: bool = False):
    if not training or p == 0.0:
        return x
    return x * (1.0 / (1.0 - p))


def activation_by_name(x, name: str = "relu"):
    if name == "relu":
        return np.maximum(x, 0)
    elif name == "gelu":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    elif name == "tanh":
        return np.tanh(x)
    raise ValueError(f"unknown activation {name}")


def optional_result(xs: List[int], target: int) -> Optional[int]:
    for i, v in enumerate(xs):
        if v == target:
            return i
    return None


def optional_chain(a: Optional[int], b: Optional[int]) -> int:
    if a is None and b is None:
        return 0
    if a is None:
        assert b is not None
        return b
    if b is None:
        return a
    return a + b


# ---------------------------------------------------------------------- tuples

def min_max(xs: List[float]) -> Tuple[float, float]:
    lo = xs[0]
    hi = xs[0]
    for v in xs:
        lo = min(lo, v)
        hi = max(hi, v)
    return lo, hi


def swap_pair(a: int, b: int) -> Tuple[int, int]:
    a, b = b, a
    return a, b


def quotient_remainder(a: int, b: int) -> Tuple[int, int]:
    return a // b, a % b


def mean_and_std(x) -> Tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=-1, keepdims=True)
    std = np.sqrt(((x - mean) ** 2).mean(axis=-1, keepdims=True) + 1e-5)
    return mean, std


def tuple_of_dims(x, y) -> Tuple[int, int, int]:
    return x.shape[0], y.shape[0], x.shape[0] * y.shape[0]


def nested_tuple_unpack(x) -> Tuple[int, float]:
    pair = (x.shape[0], (float(x.sum()), x.ndim))
    n, (s, d) = pair
    return n + d, s


def tuple_argument_unpack(hw: Tuple[int, int], x):
    h, w = hw
    return x[:h, :w]


def lstm_like_state(x, state: Tuple[np.ndarray, np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    h, c = state
    c = c * 0.5 + np.tanh(x)
    h = np.tanh(c) * 0.9 + h * 0.1
    return h, c


# ------------------------------------------------------ lists built in loops

def cumulative_sum(xs: List[int]) -> List[int]:
    out: List[int] = []
    total = 0
    for v in xs:
        total += v
        out.append(total)
    return out


def chunk_sizes(n: int, chunks: int) -> List[int]:
    # torch.chunk's sizes
    size = (n + chunks - 1) // chunks
    sizes: List[int] = []
    start = 0
    while start < n:
        sizes.append(min(size, n - start))
        start += size
    return sizes


def split_rows(x, parts: int) -> List[np.ndarray]:
    # (a range() step must be a constant: a run-time step is a while loop)
    step = (x.shape[0] + parts - 1) // parts
    out: List[np.ndarray] = []
    start = 0
    while start < x.shape[0]:
        out.append(x[start:start + step])
        start += step
    return out


def stack_steps(x):
    outs: List[np.ndarray] = []
    h = np.zeros_like(x[0])
    for t in range(x.shape[0]):
        h = np.tanh(x[t] + h)
        outs.append(h)
    return np.stack(outs)


def greedy_decode(logits, eos: int) -> List[int]:
    tokens: List[int] = []
    for t in range(logits.shape[0]):
        token = int(np.argmax(logits[t]))
        if token == eos:
            break
        tokens.append(token)
    return tokens


def flatten_nested(xss: List[List[int]]) -> List[int]:
    out: List[int] = []
    for xs in xss:
        out.extend(xs)
    return out


def transpose_lists(m: List[List[int]]) -> List[List[int]]:
    out: List[List[int]] = []
    for j in range(len(m[0])):
        row: List[int] = []
        for i in range(len(m)):
            row.append(m[i][j])
        out.append(row)
    return out


def running_max(xs: List[float]) -> List[float]:
    out: List[float] = []
    best = float("-inf")
    for v in xs:
        best = max(best, v)
        out.append(best)
    return out


def dedupe_keep_order(xs: List[int]) -> List[int]:
    out: List[int] = []
    for v in xs:
        if v not in out:
            out.append(v)
    return out


def pad_sequences(seqs: List[List[int]], pad: int) -> List[List[int]]:
    longest = 0
    for s in seqs:
        longest = max(longest, len(s))
    return [s + [pad] * (longest - len(s)) for s in seqs]


def list_of_arrays_argument(xs: List[np.ndarray]):
    total = xs[0] * 0
    for i, x in enumerate(xs):
        total = total + x * (i + 1)
    return total


def beam_topk(scores: List[float], k: int) -> List[int]:
    chosen: List[int] = []
    for _ in range(min(k, len(scores))):
        best = -1
        for i in range(len(scores)):
            if i in chosen:
                continue
            if best < 0 or scores[i] > scores[best]:
                best = i
        chosen.append(best)
    return chosen


def reversed_and_sorted(xs: List[int]) -> List[int]:
    out: List[int] = []
    for v in reversed(xs):
        out.append(v)
    return out + sorted(xs)


def list_slicing(xs: List[int]) -> List[int]:
    head = xs[:2]
    tail = xs[-2:]
    middle = xs[1:-1]
    return head + middle + tail + xs[::2]


def pop_until_empty(xs: List[int]) -> int:
    total = 0
    while len(xs) > 0:
        total = total * 10 + xs.pop()
    return total


# ------------------------------------------------------ dicts built in loops

def histogram(xs: List[int]) -> Dict[int, int]:
    counts: Dict[int, int] = {}
    for v in xs:
        counts[v] = counts.get(v, 0) + 1
    return counts


def invert_dict(n: int) -> Dict[int, int]:
    d: Dict[int, int] = {}
    for i in range(n):
        d[i] = i * i
    inverse: Dict[int, int] = {}
    for k, v in d.items():
        inverse[v] = k
    return inverse


def feature_dict(x) -> Dict[str, np.ndarray]:
    return {"mean": x.mean(axis=0), "max": x.max(axis=0), "min": x.min(axis=0)}


def sum_of_losses(x, y) -> float:
    losses: Dict[str, float] = {}
    losses["l1"] = float(np.abs(x - y).mean())
    losses["l2"] = float(((x - y) ** 2).mean())
    total = 0.0
    for name in losses:
        total += losses[name]
    return total


def sorted_keys(n: int) -> List[int]:
    d: Dict[int, str] = {}
    for i in range(n, 0, -1):
        d[i] = "x"
    return sorted(d.keys())


def dict_of_lists(n: int) -> Dict[str, List[int]]:
    evens: List[int] = []
    odds: List[int] = []
    out = {"even": evens, "odd": odds}
    for i in range(n):
        if i % 2 == 0:
            out["even"].append(i)
        else:
            out["odd"].append(i)
    return out


def buckets_from_a_typed_literal(n: int) -> Tuple[Dict[str, List[int]], List[List[int]]]:
    # empty literals inside a display take the annotation's type, as TorchScript's hints do
    out: Dict[str, List[int]] = {"even": [], "odd": []}
    rows: List[List[int]] = [[], [n]]
    for i in range(n):
        out["even" if i % 2 == 0 else "odd"].append(i)
        rows[0].append(i * i)
    return out, rows


def dict_values_total(n: int) -> int:
    d = {"a": n, "b": 2 * n, "c": 3}
    total = 0
    for v in d.values():
        total += v
    return total + len(d)


def outputs_by_layer(x, layers: int) -> Dict[int, np.ndarray]:
    outs: Dict[int, np.ndarray] = {}
    h = x
    for i in range(layers):
        h = np.tanh(h) + i
        outs[i] = h
    return outs


PAD_ID = 0


def strip_padding(tokens: List[int]) -> List[int]:
    # a module-level int is a constant of the compiled code, as in TorchScript
    return [t for t in tokens if t != PAD_ID]


def config_lookup(key: str) -> int:
    table = {"small": 64, "base": 256, "large": 1024}
    if key in table:
        return table[key]
    return -1


# --------------------------------------------------------------- comprehensions

def squares(n: int) -> List[int]:
    return [i * i for i in range(n)]


def even_squares(n: int) -> List[int]:
    return [i * i for i in range(n) if i % 2 == 0]


def weighted_by_position(xs: List[float]) -> List[float]:
    return [i * v for i, v in enumerate(xs)]


def elementwise_sum(a: List[int], b: List[int]) -> List[int]:
    return [x + y for x, y in zip(a, b)]


def squares_dict(n: int) -> Dict[int, int]:
    return {i: i * i for i in range(n)}


def pairs_products(n: int) -> List[int]:
    return [i * j for i in range(n) for j in range(i)]


def scaled_rows(x) -> List[np.ndarray]:
    return [x[i] * i for i in range(x.shape[0])]


def sum_of_comprehension(xs: List[int]) -> int:
    return sum([v for v in xs if v > 0])


def stacked_comprehension(x):
    return np.stack([np.tanh(x[i]) for i in range(x.shape[0])], axis=0)


def comprehension_over_shape(x) -> List[int]:
    return [d * 2 for d in x.shape]


def names_to_lengths(n: int) -> Dict[str, int]:
    names = ["q", "kv", "out"]
    return {name: (i + 1) * n for i, name in enumerate(names)}


# ------------------------------------------------------------------------ math

def inv_sqrt_dim(d: int) -> float:
    return 1.0 / math.sqrt(d)


def cosine_schedule(step: int, total: int, base: float) -> float:
    return 0.5 * base * (1.0 + math.cos(math.pi * step / total))


def warmup_then_decay(step: int, warmup: int, base: float) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    return base * math.sqrt(warmup) / math.sqrt(step + 1)


def log_softmax_list(xs: List[float]) -> List[float]:
    m = max(xs)
    s = 0.0
    for v in xs:
        s += math.exp(v - m)
    lse = m + math.log(s)
    return [v - lse for v in xs]


def sinusoidal_positions(n: int, d: int):
    pe = np.zeros((n, d))
    for pos in range(n):
        for i in range(0, d, 2):
            angle = pos / 10000.0 ** (i / d)
            pe[pos, i] = math.sin(angle)
            if i + 1 < d:
                pe[pos, i + 1] = math.cos(angle)
    return pe


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def hypot(a: float, b: float) -> float:
    return math.sqrt(a * a + b * b)


def is_close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b))


def log_uniform_bucket(n: int, buckets: int) -> int:
    # relative position buckets (T5)
    if n < buckets // 2:
        return n
    return min(buckets - 1, buckets // 2 + int(math.log(n / (buckets // 2)) * 2))


def exp_decay_weights(n: int, rate: float) -> List[float]:
    return [math.exp(-rate * i) for i in range(n)]


def floor_ceil_mix(x: float) -> int:
    return math.floor(x) * 10 + math.ceil(x)


def atan_angles(xs: List[float]) -> float:
    total = 0.0
    for v in xs:
        total += math.atan(v) + math.tanh(v)
    return total


# --------------------------------------------------------- int/float conversions

def truncate_toward_zero(x: float) -> int:
    return int(x)


def mean_of_ints(xs: List[int]) -> float:
    return float(sum(xs)) / len(xs)


def percent_of(n: int, total: int) -> int:
    return int(100.0 * n / total)


def truth_of_int(n: int) -> bool:
    return bool(n)


def bools_to_numbers(xs: List[int], flag: bool) -> Tuple[int, float]:
    positives = sum([int(v > 0) for v in xs])
    return positives + int(flag), float(flag) * 0.5 + float(len(xs) > 2)


def float_of_array_sum(x) -> float:
    return float(x.sum())


def int_of_shape_ratio(x, ratio: float) -> int:
    return int(x.shape[0] * ratio)


def int_division_kinds(a: int, b: int) -> Tuple[int, float, int]:
    return a // b, a / b, int(a / b)


def float_arith_to_int_index(x, frac: float):
    i = int(frac * (x.shape[0] - 1))
    return x[i]


# ---------------------------------------------------------- in-place updates

def accumulate_squares(x):
    total = np.zeros_like(x[0])
    for i in range(x.shape[0]):
        total += x[i] ** 2
    return total


def ema_update(avg, x, decay: float):
    avg *= decay
    avg += (1.0 - decay) * x
    return avg


def causal_mask(n: int):
    mask = np.zeros((n, n))
    for i in range(n):
        mask[i, i + 1:] = float("-inf")
    return mask


def one_hot(indices: List[int], n: int):
    out = np.zeros((len(indices), n), dtype=np.float32)
    for i, j in enumerate(indices):
        out[i, j] = 1.0
    return out


def clip_in_place(x, limit: float):
    y = x.copy()
    y[y > limit] = limit
    y[y < -limit] = -limit
    return y


def standardize_in_place(x):
    x -= x.mean()
    x /= x.std() + 1e-5
    return x


def fill_diagonal(x, v: float):
    for i in range(min(x.shape[0], x.shape[1])):
        x[i, i] = v
    return x


def scatter_counts(indices: List[int], n: int):
    counts = np.zeros(n, dtype=np.int64)
    for i in indices:
        counts[i] += 1
    return counts


def residual_update(x, w):
    out = np.tanh(x @ w)
    out += x
    return out


# ----------------------------------------------------- calls between helpers

def _square(n: int) -> int:
    return n * n


def sum_of_squares(n: int) -> int:
    total = 0
    for i in range(n):
        total += _square(i)
    return total


def _stats(xs: List[float]) -> Tuple[float, float]:
    mean = sum(xs) / len(xs)
    var = 0.0
    for v in xs:
        var += (v - mean) ** 2
    return mean, var / len(xs)


def zscores(xs: List[float]) -> List[float]:
    mean, var = _stats(xs)
    std = math.sqrt(var) + 1e-6
    return [(v - mean) / std for v in xs]


def _scaled(x, scale: float = 2.0, bias: Optional[np.ndarray] = None):
    y = x * scale
    if bias is not None:
        y = y + bias
    return y


def calls_with_and_without_defaults(x, b):
    return _scaled(x) + _scaled(x, 0.5) + _scaled(x, bias=b)


def _norm(x):
    return x / (np.sqrt((x * x).sum(axis=-1, keepdims=True)) + 1e-6)


def _cosine(a, b):
    return (_norm(a) * _norm(b)).sum(axis=-1)


def cosine_similarity_matrix(a, b):
    rows: List[np.ndarray] = []
    for i in range(a.shape[0]):
        rows.append(_cosine(a[i:i + 1], b))
    return np.stack(rows)


def _push_twice(xs: List[int], v: int) -> None:
    xs.append(v)
    xs.append(v + 1)


def helper_mutates_list(n: int) -> List[int]:
    xs: List[int] = []
    for i in range(n):
        _push_twice(xs, i * 10)
    return xs


@jitcore.script
def _scripted_relu6(x):
    return np.minimum(np.maximum(x, 0.0), 6.0)


def calls_a_scripted_function(x):
    return _scripted_relu6(x * 4.0) - _scripted_relu6(x)


def _bucket(v: float, edges: List[float]) -> int:
    for i, e in enumerate(edges):
        if v < e:
            return i
    return len(edges)


def bucketize(xs: List[float]) -> List[int]:
    edges = [-1.0, 0.0, 1.0]
    return [_bucket(v, edges) for v in xs]


# ------------------------------------------- round, list(range), sorting, range steps

def round_like_python(x: float) -> Tuple[int, float, float, int]:
    # half to even, as Python: round(2.5) == 2, round(-0.5) == 0
    return round(x), round(x, 2), round(x, -1), round(7)


def round_of_bool_and_int(flag: bool, n: int) -> Tuple[int, int, int]:
    return round(flag), round(n), round(n, 2)


def quantize_scores(scores: List[float], step: int) -> List[float]:
    return [round(s * step) / step for s in scores]


def positions(n: int) -> List[int]:
    return list(range(n))


def strided_positions(start: int, stop: int, step: int) -> List[int]:
    return list(range(start, stop, step))


def every_kth(xs: List[int], k: int) -> List[int]:
    # a step known only at run time
    out: List[int] = []
    for i in range(0, len(xs), k):
        out.append(xs[i])
    return out


def countdown(n: int, step: int) -> List[int]:
    return [i for i in reversed(range(0, n, step))]


def rank_by_score(scores: List[float]) -> List[int]:
    # sort (score, index) pairs, best first, ties by index
    pairs = [(-s, i) for i, s in enumerate(scores)]
    pairs.sort()
    return [i for _, i in pairs]


def sorted_spans(spans: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
    return sorted(spans)


FUNCTIONS = [
    # shape arithmetic
    (flatten_keep_batch, lambda: [(arr(2, 3, 4),), (arr(1, 5),), (arr(3, 1, 1, 2),)]),
    (same_padding, lambda: [(3,), (5, 2), (1, 4)]),
    (conv_output_size, lambda: [(32, 3, 1, 1, 1), (224, 7, 2, 3, 1), (17, 3, 2, 0, 2)]),
    (make_divisible, lambda: [(32.0, 8), (37.5, 8), (10.0, 8, 16), (3.2, 4)]),
    (split_heads, lambda: [(arr(2, 3, 8), 2), (arr(1, 4, 6), 3)]),
    (merge_heads, lambda: [(arr(2, 2, 3, 4),), (arr(1, 3, 2, 2, dtype=np.float64),)]),
    (round_up_to_multiple, lambda: [(7, 8), (16, 8), (0, 4)]),
    (frame_count, lambda: [(100, 16, 4), (10, 16, 4), (100, 16, 4, True)]),
    (numel_by_loop, lambda: [(arr(2, 3, 4),), (arr(5),), (arr(1, 0, 3),)]),
    (shape_as_list, lambda: [(arr(2, 3, 4),), (arr(7),)]),
    (broadcast_shapes, lambda: [([2, 1, 4], [3, 1]), ([5], [2, 5]), ([1], [1])]),
    (last_two_swapped, lambda: [(arr(2, 3),), (arr(4),), (arr(2, 3, 4),)]),
    (center_crop, lambda: [(arr(3, 6, 8), 4), (arr(5, 5), 3)]),
    (patchify, lambda: [(arr(3, 8, 8), 4), (arr(2, 6, 5), 2)]),
    # early returns
    (clamp_index, lambda: [(-2, 5), (7, 5), (3, 5)]),
    (first_positive, lambda: [([-1.0, -2.0, 3.0],), ([-1.0],), ([2.5, 1.0],)]),
    (find_in_matrix, lambda: [([[1, 2], [3, 4]], 3), ([[1, 2], [3, 4]], 9), ([[5]], 5)]),
    (sign_of, lambda: [(2.5,), (-0.1,), (0.0,)]),
    (validate_then_scale, lambda: [(arr(2, 3), 1.0), (arr(2, 3), 2.5)]),
    (first_row_above, lambda: [(arr(4, 3), 0.0), (arr(3, 2), 10.0), (arr(3, 2), -10.0)]),
    # nested loops, while
    (count_pairs, lambda: [(0,), (4,), (7,)]),
    (primes_below, lambda: [(2,), (30,), (50,)]),
    (triangle_sum, lambda: [(0,), (5,), (9,)]),
    (gcd, lambda: [(12, 18), (7, 3), (0, 5), (5, 0)]),
    (collatz_steps, lambda: [(1,), (6,), (27,)]),
    (binary_search, lambda: [([1, 3, 5, 7], 5), ([1, 3, 5, 7], 0), ([1, 3, 5, 7], 9), ([], 1)]),
    (digits_of, lambda: [(0,), (7,), (90210,)]),
    (while_true_with_break, lambda: [(0,), (10,), (-5,)]),
    (skip_padding_tokens, lambda: [([1, 0, 2, 0, 3], 0), ([], 0), ([0, 0], 0)]),
    (row_loop_with_break, lambda: [(arr(5, 3), 0.5), (np.ones((4, 2), np.float32), 3.0)]),
    (nested_array_loops, lambda: [(arr(3, 3),), (arr(2, 4, dtype=np.float64),)]),
    # Optional and defaults
    (linear_maybe_bias, lambda: [(arr(2, 3), arr(4, 3)), (arr(2, 3), arr(4, 3), arr(4))]),
    (attention_scale, lambda: [(arr(2, 4),), (arr(3, 9), 0.5)]),
    (masked_scores, lambda: [(arr(2, 3),), (arr(2, 3), arr(2, 3) > 0)]),
    (int_or_default, lambda: [(), (4,), (None,)]),
    (ternary_on_none, lambda: [(None,), (4,), (4, 5), (None, -1)]),
    (optional_list_default, lambda: [(), ([5, 6],), (None,)]),
    (dropout_eval, lambda: [(arr(3),), (arr(3), 0.25, True), (arr(3), 0.0, True)]),
    (activation_by_name, lambda: [(arr(4),), (arr(4), "gelu"), (arr(2, 2), "tanh")]),
    (optional_result, lambda: [([1, 2, 3], 2), ([1, 2, 3], 7)]),
    (optional_chain, lambda: [(None, None), (None, 3), (4, None), (4, 5)]),
    # tuples
    (min_max, lambda: [([3.0, -1.0, 2.0],), ([0.5],)]),
    (swap_pair, lambda: [(1, 2), (-3, 3)]),
    (quotient_remainder, lambda: [(17, 5), (-17, 5), (3, -2)]),
    (mean_and_std, lambda: [(arr(2, 5),), (arr(4, dtype=np.float64),)]),
    (tuple_of_dims, lambda: [(arr(2, 3), arr(5)), (arr(1), arr(1, 1))]),
    (nested_tuple_unpack, lambda: [(np.ones((2, 3), np.float32),), (np.arange(4.0),)]),
    (tuple_argument_unpack, lambda: [((2, 3), arr(4, 4)), ((1, 1), arr(2, 5))]),
    (lstm_like_state, lambda: [(arr(2, 3), (arr(2, 3), arr(2, 3)))]),
    # lists built in loops
    (cumulative_sum, lambda: [([1, 2, 3, 4],), ([],), ([-5, 5],)]),
    (chunk_sizes, lambda: [(10, 3), (6, 3), (1, 4), (0, 2)]),
    (split_rows, lambda: [(arr(5, 2), 2), (arr(4, 3), 4), (arr(3), 1)]),
    (stack_steps, lambda: [(arr(4, 3),), (arr(1, 2, dtype=np.float64),)]),
    (greedy_decode, lambda: [(arr(6, 5), 2), (arr(3, 4), 9)]),
    (flatten_nested, lambda: [([[1, 2], [], [3]],), ([],)]),
    (transpose_lists, lambda: [([[1, 2, 3], [4, 5, 6]],), ([[7]],)]),
    (running_max, lambda: [([1.0, 3.0, 2.0, 5.0],), ([-2.0],)]),
    (dedupe_keep_order, lambda: [([3, 1, 3, 2, 1],), ([],)]),
    (pad_sequences, lambda: [([[1, 2, 3], [4], []], 0), ([[5]], -1)]),
    (list_of_arrays_argument, lambda: [([arr(3), arr(3), arr(3)],), ([arr(2, 2)],)]),
    (beam_topk, lambda: [([0.1, 0.9, 0.5, 0.7], 2), ([1.0, 2.0], 5)]),
    (reversed_and_sorted, lambda: [([3, 1, 2],), ([],)]),
    (list_slicing, lambda: [([1, 2, 3, 4, 5],), ([1, 2],), ([9],)]),
    (pop_until_empty, lambda: [([1, 2, 3],), ([],)]),
    # dicts built in loops
    (histogram, lambda: [([1, 2, 2, 3, 3, 3],), ([],)]),
    (invert_dict, lambda: [(4,), (0,)]),
    (feature_dict, lambda: [(arr(3, 2),), (arr(4, 1, dtype=np.float64),)]),
    (sum_of_losses, lambda: [(arr(3), arr(3)), (arr(2, 2), arr(2, 2))]),
    (sorted_keys, lambda: [(4,), (0,)]),
    (dict_of_lists, lambda: [(5,), (0,)]),
    (buckets_from_a_typed_literal, lambda: [(5,), (0,)]),
    (dict_values_total, lambda: [(2,), (-1,)]),
    (outputs_by_layer, lambda: [(arr(3), 3), (arr(2, 2), 1)]),
    (strip_padding, lambda: [([3, 0, 4, 0],), ([],)]),
    (config_lookup, lambda: [("base",), ("huge",)]),
    # comprehensions
    (squares, lambda: [(0,), (5,)]),
    (even_squares, lambda: [(7,), (1,)]),
    (weighted_by_position, lambda: [([1.0, 2.0, 3.0],), ([],)]),
    (elementwise_sum, lambda: [([1, 2, 3], [4, 5, 6]), ([1, 2], [3])]),
    (squares_dict, lambda: [(4,), (0,)]),
    (pairs_products, lambda: [(4,), (1,)]),
    (scaled_rows, lambda: [(arr(3, 2),), (arr(1, 4),)]),
    (sum_of_comprehension, lambda: [([1, -2, 3],), ([],)]),
    (stacked_comprehension, lambda: [(arr(3, 2),), (arr(2, 2, 2, dtype=np.float64),)]),
    (comprehension_over_shape, lambda: [(arr(2, 3),), (arr(4),)]),
    (names_to_lengths, lambda: [(2,), (0,)]),
    # math
    (inv_sqrt_dim, lambda: [(64,), (3,)]),
    (cosine_schedule, lambda: [(0, 100, 0.1), (50, 100, 0.1), (100, 100, 1.0)]),
    (warmup_then_decay, lambda: [(3, 10, 1.0), (50, 10, 1.0)]),
    (log_softmax_list, lambda: [([1.0, 2.0, 3.0],), ([0.5],)]),
    (sinusoidal_positions, lambda: [(4, 6), (3, 5), (1, 2)]),
    (gelu_tanh, lambda: [(arr(5),), (arr(2, 3, dtype=np.float64),)]),
    (hypot, lambda: [(3.0, 4.0), (0.0, -2.5)]),
    (is_close, lambda: [(1.0, 1.0 + 1e-9), (1.0, 1.1), (0.0, 0.0, 0.5)]),
    (log_uniform_bucket, lambda: [(3, 32), (40, 32), (10000, 32)]),
    (exp_decay_weights, lambda: [(4, 0.5), (0, 1.0)]),
    (floor_ceil_mix, lambda: [(2.5,), (-2.5,), (3.0,)]),
    (atan_angles, lambda: [([0.5, -1.0, 3.0],), ([],)]),
    # int/float conversions
    (truncate_toward_zero, lambda: [(2.7,), (-2.7,), (0.0,)]),
    (mean_of_ints, lambda: [([1, 2, 4],), ([5],)]),
    (percent_of, lambda: [(1, 3), (3, 3), (0, 7)]),
    (truth_of_int, lambda: [(0,), (-4,)]),
    (bools_to_numbers, lambda: [([1, -2, 3], True), ([], False)]),
    (float_of_array_sum, lambda: [(arr(3),), (np.arange(4),)]),
    (int_of_shape_ratio, lambda: [(arr(10), 0.25), (arr(3, 2), 0.9)]),
    (int_division_kinds, lambda: [(7, 2), (-7, 2), (6, -4)]),
    (float_arith_to_int_index, lambda: [(arr(5, 2), 0.5), (arr(3), 1.0), (arr(4), 0.0)]),
    # in-place updates
    (accumulate_squares, lambda: [(arr(4, 3),), (arr(2, 2, dtype=np.float64),)]),
    (ema_update, lambda: [(arr(3), arr(3), 0.9), (arr(2, 2), arr(2), 0.5)]),
    (causal_mask, lambda: [(3,), (1,)]),
    (one_hot, lambda: [([0, 2, 1], 3), ([], 4)]),
    (clip_in_place, lambda: [(arr(3, 4), 0.5), (arr(5, dtype=np.float64), 1.0)]),
    (standardize_in_place, lambda: [(arr(6),), (arr(2, 3, dtype=np.float64),)]),
    (fill_diagonal, lambda: [(arr(3, 4), 1.5), (np.zeros((2, 2)), -1.0)]),
    (scatter_counts, lambda: [([0, 2, 2, 1], 4), ([], 2)]),
    (residual_update, lambda: [(arr(3, 4), arr(4, 4))]),
    # calls between helpers
    (sum_of_squares, lambda: [(0,), (5,)]),
    (zscores, lambda: [([1.0, 2.0, 3.0],), ([4.0, 4.5],)]),
    (calls_with_and_without_defaults, lambda: [(arr(3), arr(3)), (arr(2, 2), arr(2))]),
    (cosine_similarity_matrix, lambda: [(arr(3, 4), arr(2, 4))]),
    (helper_mutates_list, lambda: [(3,), (0,)]),
    (calls_a_scripted_function, lambda: [(arr(5),), (arr(2, 2, dtype=np.float64),)]),
    (bucketize, lambda: [([-2.0, -0.5, 0.5, 2.0],), ([],)]),
    # round, list(range), sorting tuples, run-time range steps
    (round_like_python, lambda: [(2.5,), (-0.5,), (3.14159,), (-2.675,), (15.0,)]),
    (round_of_bool_and_int, lambda: [(True, 7), (False, -3)]),
    (quantize_scores, lambda: [([0.12, 0.5, 0.875], 4), ([], 2)]),
    (positions, lambda: [(4,), (0,), (-2,)]),
    (strided_positions, lambda: [(0, 10, 3), (10, 0, -3), (5, 5, 2), (-4, 9, 5)]),
    (every_kth, lambda: [([1, 2, 3, 4, 5, 6, 7], 3), ([1, 2], 5), ([], 1)]),
    (countdown, lambda: [(10, 3), (1, 1), (0, 2)]),
    (rank_by_score, lambda: [([0.1, 0.9, 0.5, 0.9],), ([],)]),
    (sorted_spans, lambda: [([(3, 4), (1, 9), (3, 1), (1, 2)],), ([],)]),
]
IDS = [f.__name__ for f, _ in FUNCTIONS]


def _same(actual, expected):
    if isinstance(expected, dict):
        assert type(actual) is dict and list(actual) == list(expected), (actual, expected)
        for key in expected:
            _same(actual[key], expected[key])
    elif isinstance(expected, (tuple, list)) and any(isinstance(e, dict) for e in expected):
        assert type(actual) is type(expected) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            _same(a, e)
    else:
        _assert_same(actual, expected)


def _check(compiled, fn, make_inputs, fill_defaults=False):
    for inputs in make_inputs():
        if fill_defaults:
            # `.code` prints no Python defaults: the call passes every argument
            bound = inspect.signature(fn).bind(*inputs)
            bound.apply_defaults()
            inputs = bound.args
        # the functions may write the arrays they are given, as NumPy code does (a list
        # argument is a copy in compiled code, as in TorchScript)
        ours_in, theirs_in = copy.deepcopy(inputs), copy.deepcopy(inputs)
        _same(compiled(*ours_in), fn(*theirs_in))
        for ours, theirs in zip(ours_in, theirs_in):
            if isinstance(theirs, np.ndarray):
                np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=IDS)
def test_scripted_matches_python(fn, make_inputs):
    scripted = script(fn)
    scripted.graph.lint()
    assert_roundtrip(scripted.graph)
    _check(scripted, fn, make_inputs)


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=IDS)
def test_optimized_matches_python(fn, make_inputs):
    optimized = jitcore.optimize_for_inference(script(fn))
    optimized.graph.lint()
    for _ in range(2):      # the second call runs the graph specialised on the first
        _check(optimized, fn, make_inputs)


@pytest.mark.parametrize("fn, make_inputs", FUNCTIONS, ids=IDS)
def test_code_rescripts(fn, make_inputs):
    # .code prints calls of helpers by name: the re-scripted code calls the same ones
    rescripted = script_source(script(fn).code, globals=globals())
    rescripted.graph.lint()
    _check(rescripted, fn, make_inputs, fill_defaults=True)


# --------------------------------------------------------------------- modules

class MLP(nn.Module):
    def __init__(self, sizes: List[int]):
        super().__init__()
        layers: List[nn.Module] = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers[:-1])

    def forward(self, x):
        return self.net(x)


class BasicBlock(nn.Module):
    # torchvision's BasicBlock, written with Linear layers
    def __init__(self, width: int, downsample: bool):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.downsample = nn.Linear(width, width) if downsample else None

    def forward(self, x):
        identity = x
        out = F.relu(self.fc1(x))
        out = self.fc2(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return F.relu(out)


class ResidualStack(nn.Module):
    def __init__(self, width: int, depth: int):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        for layer in self.layers:
            x = x + np.tanh(layer(x))
        return self.norm(x)


class ConstantsAndFinal(nn.Module):
    __constants__ = ["mode"]
    eps: Final[float]

    def __init__(self, mode: str):
        super().__init__()
        self.mode = mode
        self.eps = 1e-3
        self.proj = nn.Linear(4, 4)

    def forward(self, x):
        y = self.proj(x)
        if self.mode == "norm":
            y = y / (np.abs(y).sum(axis=-1, keepdims=True) + self.eps)
        elif self.mode == "scale":
            y = y * 2.0
        return y


class OptionalBias(nn.Module):
    def __init__(self, bias: bool):
        super().__init__()
        self.weight = nn.Parameter(RNG.standard_normal((3, 4)).astype(np.float32))
        if bias:
            self.bias = nn.Parameter(RNG.standard_normal(3).astype(np.float32))
        else:
            self.bias = None

    def forward(self, x):
        y = x @ self.weight.T
        if self.bias is not None:
            y = y + self.bias
        return y


class HelperMethods(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(6, 6)
        self.k = nn.Linear(6, 6)
        self.v = nn.Linear(6, 6)
        self.num_heads = 2

    def _shape(self, x, batch: int):
        return x.reshape(batch, -1, self.num_heads, 3).transpose(0, 2, 1, 3)

    def forward(self, x, mask: Optional[np.ndarray] = None):
        batch = x.shape[0]
        q = self._shape(self.q(x), batch) / math.sqrt(3)
        k = self._shape(self.k(x), batch)
        v = self._shape(self.v(x), batch)
        scores = q @ k.transpose(0, 1, 3, 2)
        if mask is not None:
            scores = scores + mask
        out = F.softmax(scores, dim=-1) @ v
        return out.transpose(0, 2, 1, 3).reshape(batch, -1, 6)


class NamedHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 2)})

    def forward(self, x) -> Dict[str, np.ndarray]:
        return {"cls": self.heads["cls"](x), "box": self.heads["box"](x)}


class TupleOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.Tanh())
        self.head = nn.Linear(8, 2)

    def forward(self, x) -> Tuple[np.ndarray, np.ndarray]:
        hidden = self.encoder(x)
        return self.head(hidden), hidden


class EmbeddingBag(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)

    def forward(self, tokens: List[int]):
        total = np.zeros(4, dtype=np.float32)
        for t in tokens:
            total += self.embed.weight[t]
        return total / max(len(tokens), 1)


class LayerLoopWithCount(nn.Module):
    __constants__ = ["num_layers"]

    def __init__(self):
        super().__init__()
        self.num_layers = 3
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        self.dropout = nn.Dropout(0.1)

    def forward(self, x) -> List[np.ndarray]:
        hidden: List[np.ndarray] = []
        for i, layer in enumerate(self.layers):
            x = self.dropout(F.gelu(layer(x)))
            if i < self.num_layers - 1:
                hidden.append(x)
        return hidden


class RunningStats(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("total", np.zeros(3, dtype=np.float32))

    def forward(self, x):
        self.total += x.sum(axis=0)
        return x - self.total


class ConvBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        y = F.relu(self.bn(self.conv(x)))
        return self.pool(y).reshape(x.shape[0], -1)


MODULES = [
    (lambda: MLP([4, 8, 8, 3]), lambda: [(arr(2, 4),), (arr(5, 4),)]),
    (lambda: BasicBlock(4, False), lambda: [(arr(3, 4),), (arr(1, 4),)]),
    (lambda: BasicBlock(4, True), lambda: [(arr(3, 4),)]),
    (lambda: ResidualStack(5, 3), lambda: [(arr(2, 5),), (arr(4, 5),)]),
    (lambda: ConstantsAndFinal("norm"), lambda: [(arr(2, 4),)]),
    (lambda: ConstantsAndFinal("scale"), lambda: [(arr(3, 4),)]),
    (lambda: OptionalBias(True), lambda: [(arr(2, 4),)]),
    (lambda: OptionalBias(False), lambda: [(arr(2, 4),)]),
    (lambda: HelperMethods(), lambda: [(arr(2, 3, 6),), (arr(1, 4, 6), arr(1, 1, 4, 4))]),
    (lambda: NamedHeads(), lambda: [(arr(2, 4),)]),
    (lambda: TupleOutput(), lambda: [(arr(2, 4),), (arr(1, 4),)]),
    (lambda: EmbeddingBag(), lambda: [([1, 2, 2],), ([],)]),
    (lambda: LayerLoopWithCount(), lambda: [(arr(2, 4),)]),
    (lambda: RunningStats(), lambda: [(arr(2, 3),), (arr(4, 3),)]),
    (lambda: ConvBlock(), lambda: [(arr(2, 2, 5, 5),), (arr(1, 2, 3, 4),)]),
]
MODULE_IDS = [f"{make().__class__.__name__}-{i}" for i, (make, _) in enumerate(MODULES)]


def _check_module(compiled, module, make_inputs):
    for inputs in make_inputs():
        # a module may write its buffers: compiled code and Python each start from a copy
        ours, theirs = copy.deepcopy(inputs), copy.deepcopy(inputs)
        _same(compiled(*ours), module(*theirs))


@pytest.mark.parametrize("make, make_inputs", MODULES, ids=MODULE_IDS)
def test_scripted_module_matches_python(make, make_inputs):
    module = make().eval()
    scripted = script(copy.deepcopy(module))
    scripted.graph.lint()
    scripted.inlined_graph.lint()
    _check_module(scripted, module, make_inputs)


@pytest.mark.parametrize("make, make_inputs", MODULES, ids=MODULE_IDS)
def test_module_code_rescripts(make, make_inputs):
    module = make().eval()
    rescripted = _rescripted(script(copy.deepcopy(module)), copy.deepcopy(module))
    rescripted.graph.lint()
    _check_module(rescripted, module, make_inputs)


# ------------------------------------------------------------- the corpus size

def test_corpus_is_large_enough():
    import test_script_corpus
    import test_script_dicts
    import test_script_errors
    import test_script_inplace
    import test_script_lists
    positive = sum(len(m.FUNCTIONS) for m in (test_script_corpus, test_script_lists,
                                              test_script_dicts, test_script_inplace))
    positive += len(FUNCTIONS) + len(MODULES)
    assert positive >= 250, positive
    assert len(test_script_errors.CASES) >= 60, len(test_script_errors.CASES)


def prints_progress(x, step: int):
    print("step", step, "of", 3, 0.5, step > 1)
    return x * step


def test_print_writes_what_python_writes(capsys):
    x = arr(2)
    prints_progress(x, 2)
    expected = capsys.readouterr().out
    for compiled in (script(prints_progress), script_source(script(prints_progress).code)):
        np.testing.assert_array_equal(compiled(x, 2), x * 2)
        assert capsys.readouterr().out == expected == "step 2 of 3 0.5 True\n"


def warns_when_large(x, n: int):
    if n > 2:
        warnings.warn(f"n is {n}, larger than 2")
    if n > 100:
        warnings.warn("n is huge", UserWarning)
        warnings.warn("n is very huge", category=UserWarning, stacklevel=2)
    return x * n


def test_warnings_warn_is_python_s_at_the_calling_line():
    x = arr(2)
    for compiled in (script(warns_when_large), script_source(script(warns_when_large).code)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            np.testing.assert_array_equal(compiled(x, 3), x * 3)
            line = inspect.currentframe().f_lineno - 1
            compiled(x, 1)
        assert [(str(w.message), w.category, w.lineno) for w in caught] == [
            ("n is 3, larger than 2", UserWarning, line)]
        assert caught[0].filename == __file__
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            compiled(x, 200)
        assert [str(w.message) for w in caught] == [
            "n is 200, larger than 2", "n is huge", "n is very huge"]
        with warnings.catch_warnings():
            warnings.simplefilter("error")      # a filter that raises fails the call
            with pytest.raises(KernelError, match="UserWarning: n is 4, larger than 2"):
                compiled(x, 4)


def test_the_language_reference_cites_tests_that_exist():
    # docs/script.md's table names a corpus entry, an error case or a test per row
    import pathlib
    import re
    import test_script_corpus
    import test_script_collection_properties
    import test_script_dicts
    import test_script_errors
    import test_script_ignore
    import test_script_inplace
    import test_script_lists
    import test_script_module_attributes
    import test_script_modules
    import test_script_named_tuples
    import test_script_overloads
    import test_script_strings
    text = (pathlib.Path(__file__).parents[1] / "docs" / "script.md").read_text()
    modules = {"corpus": test_script_corpus, "everyday": globals(), "lists": test_script_lists,
               "dicts": test_script_dicts, "inplace": test_script_inplace,
               "errors": test_script_errors, "properties": test_script_collection_properties,
               "modules": test_script_modules, "ignore": test_script_ignore,
               "named_tuples": test_script_named_tuples, "strings": test_script_strings,
               "module_attributes": test_script_module_attributes,
               "overloads": test_script_overloads}
    cited = re.findall(rf"`({'|'.join(modules)})::(\w+)`", text)
    assert len(cited) > 100
    for where, name in cited:
        namespace = modules[where]
        namespace = namespace if isinstance(namespace, dict) else vars(namespace)
        if name.startswith("test_"):
            assert callable(namespace.get(name)), (where, name)
        elif where == "errors":
            assert name in [case[0].__name__ for case in namespace["CASES"]], (where, name)
        else:
            tested = [fn.__name__ for fn, _ in namespace.get("FUNCTIONS", [])]
            tested += [type(make()).__name__ for make, _ in namespace.get("MODULES", [])]
            tested += [case[0].__name__ for case in namespace.get("ERRORS", [])]
            assert name in tested, (where, name)
