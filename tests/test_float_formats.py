"""Float formats: their limits, and exact rounding into them (against stored values, properties,
and PyTorch where it is installed)."""

from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skipcalc.core.float_formats import BY_NAME, FORMATS, floor_log2, round_into
from skipcalc.core.precision import extremes, store, stored_window

# Limits as torch.finfo gives them (smallest_normal, max) and smallest subnormals, by hand.
LIMITS = {
    "float64": (F(1, 2**1022), F(2**1024 - 2**971), F(1, 2**1074)),
    "float32": (F(1, 2**126), F(2**128 - 2**104), F(1, 2**149)),
    "bfloat16": (F(1, 2**126), F(2**128 - 2**120), F(1, 2**133)),
    "float16": (F(1, 2**14), F(65504), F(1, 2**24)),
    "float8_e4m3fn": (F(1, 2**6), F(448), F(1, 2**9)),
    "float8_e5m2": (F(1, 2**14), F(57344), F(1, 2**16)),
}


@pytest.mark.parametrize("name", list(LIMITS))
def test_limits(name):
    fmt = BY_NAME[name]
    assert (fmt.min_normal, fmt.max_finite, fmt.min_subnormal) == LIMITS[name]


STORED = [
    ("float16", F(1, 10), F(1638, 16384), "normal"),
    ("float16", F(65519), F(65504), "normal"),
    ("float16", F(65520), "inf", "inf"),  # the tie goes to the even 2^16: infinity
    ("float16", F(-70000), "-inf", "inf"),
    ("float16", F(1, 2**24), F(1, 2**24), "subnormal"),
    ("float16", F(1, 2**25), F(0), "zero"),  # a tie between 0 and 2^-24: even is 0
    ("float16", F(3, 2**26), F(1, 2**24), "subnormal"),
    ("float16", F(1, 10**8), F(0), "zero"),
    ("bfloat16", F(1, 10), F(205, 2048), "normal"),
    ("bfloat16", F(1, 3), F(171, 512), "normal"),
    ("float8_e4m3fn", F(464), F(448), "normal"),  # the tie with the NaN pattern goes to 448
    ("float8_e4m3fn", F(465), F(448), "saturated"),  # no infinity: PyTorch clamps
    ("float8_e4m3fn", F(-(10**6)), F(-448), "saturated"),
    ("float8_e4m3fn", F(1, 2**10), F(0), "zero"),
    ("float8_e4m3fn", F(3, 2**11), F(1, 2**9), "subnormal"),
    ("float8_e5m2", F(61440), "inf", "inf"),
    ("float8_e5m2", F(61439), F(57344), "normal"),
    ("float32", F(1, 10), F(13421773, 2**27), "normal"),
    ("float64", F(1, 10), F(3602879701896397, 2**55), "normal"),
]


@pytest.mark.parametrize("name, value, stored, status", STORED)
def test_stored_values(name, value, stored, status):
    assert round_into(BY_NAME[name], value) == (stored, status)


fractions = st.one_of(
    st.fractions(min_value=-(10**6), max_value=10**6, max_denominator=10**12),
    st.builds(lambda m, e: F(m) * F(2) ** e, st.integers(-(2**60), 2**60), st.integers(-1100, 1100)),
)


@given(st.sampled_from(FORMATS), fractions)
def test_rounding_is_to_nearest_ties_to_even(fmt, value):
    stored, status = round_into(fmt, value)
    if isinstance(stored, str) or status == "saturated":
        assert status in ("inf", "saturated") and abs(value) > fmt.max_finite
        return
    assert abs(stored) <= fmt.max_finite
    if stored == 0:
        assert status == "zero" and abs(value) <= fmt.min_subnormal / 2
        return
    exponent = max(floor_log2(abs(stored)), fmt.min_exponent)
    ulp = F(2) ** (exponent - fmt.precision + 1)
    steps = stored / ulp
    assert steps.denominator == 1  # representable
    below_ulp = ulp / 2 if abs(stored) == F(2) ** exponent and exponent > fmt.min_exponent else ulp
    error = abs(value - stored)
    assert error <= (ulp if abs(value) >= abs(stored) else below_ulp) / 2
    if error == (ulp if abs(value) > abs(stored) else below_ulp) / 2:
        assert steps.numerator % 2 == 0 or abs(stored) == F(2) ** exponent  # a tie: the even one
    assert status == ("normal" if abs(stored) >= fmt.min_normal else "subnormal")


@given(st.sampled_from(FORMATS), fractions, fractions)
def test_rounding_is_monotonic(fmt, a, b):
    low, high = sorted((a, b))
    ra, rb = round_into(fmt, low)[0], round_into(fmt, high)[0]
    order = {"-inf": -1, "inf": 1}
    if isinstance(ra, str) or isinstance(rb, str):
        return
    assert ra <= rb or order.get(ra, 0) <= order.get(rb, 0)


def window_of(fmt, values):
    values = list(values)
    return stored_window(fmt, extremes(values, [float(v) for v in values]))


def test_loss_scale_of_the_issues_example():
    """Eight layers of 0.1 (plain), dL/dx_n = 1, float16: 1 ... 1e-8 need S >= 2^-14/1e-8,
    S from 8192 to 32768; ten layers would need 2^20 at the bottom and 2^15 at the top."""
    fmt = BY_NAME["float16"]
    scale = window_of(fmt, (F(1, 10**k) for k in range(9)))
    assert (scale.lowest, scale.highest) == (13, 15)
    ten = window_of(fmt, (F(1, 10**k) for k in range(11)))
    assert not ten.works and ten.short == 5
    assert [f.name for f in FORMATS if window_of(f, (F(1, 10**k) for k in range(11))).works] == [
        "float64",
        "float32",
        "bfloat16",
    ]


@given(fractions)
def test_store_agrees_with_exact_rounding(value):
    """store() rounds a double and falls back to the exact value only at a tie of the format:
    it must give what round_into gives on the exact value, in every format."""
    for fmt in FORMATS:
        exact, _ = round_into(fmt, value)
        stored, _ = store(fmt, [value])
        assert stored[0] == (float(exact) if not isinstance(exact, str) else float(exact))


@pytest.mark.skipif(not __import__("importlib").util.find_spec("torch"), reason="PyTorch is not installed")
@pytest.mark.parametrize("name", list(LIMITS))
def test_against_pytorch(name):
    """torch.tensor(x, dtype=float64).to(dtype) on many values, ties and subnormals included.
    PyTorch casts float64 to the 16- and 8-bit formats through float32 (rounding twice), so
    those are tested on values float32 holds exactly, where both round once."""
    import random

    import torch as pytorch

    fmt = BY_NAME[name]
    dtype = getattr(pytorch, name)
    info = pytorch.finfo(dtype)
    assert (F(info.smallest_normal), F(info.max)) == (fmt.min_normal, fmt.max_finite)
    bits = 53 if name == "float64" else 24
    rng = random.Random(0)
    values = []
    for _ in range(3000):
        top = floor_log2(fmt.max_finite) + (1 if name != "float64" else 0)
        exponent = rng.randint(max(fmt.min_exponent - fmt.precision - 2, -1074 + bits), top)
        mantissa = F(rng.randint(2 ** (bits - 1), 2**bits - 1), 2 ** (bits - 1))
        values.append(float(mantissa * F(2) ** exponent) * rng.choice((1, -1)))
    for k in range(0, 6):  # ties at every scale, subnormal ones included: halfway between neighbours
        ulp = F(2) ** (fmt.min_exponent - fmt.precision + 1 + k)
        values += [float((2 * m + 1) * ulp / 2) for m in range(1, 40)]
    values += [float(fmt.max_finite) * 1.5, -float(fmt.max_finite) * 1.5] if name != "float64" else []
    stored = pytorch.tensor(values, dtype=pytorch.float64).to(dtype).to(pytorch.float64).tolist()
    for x, got in zip(values, stored, strict=True):
        mine, _ = round_into(fmt, F(x))
        assert (mine if isinstance(mine, str) else float(mine)) == (str(got) if abs(got) == float("inf") else got), (
            x,
            got,
            mine,
        )


STORED_PYTORCH = [  # what torch 2.13's casts gave, kept for machines without PyTorch
    ("float8_e4m3fn", 1000.0, 448.0),
    ("float8_e4m3fn", 464.0, 448.0),
    ("float8_e5m2", 61440.0, "inf"),
    ("float8_e5m2", 500.0, 512.0),
    ("bfloat16", 465.0, 464.0),
    ("float16", 65519.0, 65504.0),
    ("float16", 65520.0, "inf"),
    ("bfloat16", 1e6, 999424.0),
]


@pytest.mark.parametrize("name, x, expected", STORED_PYTORCH)
def test_stored_pytorch_casts(name, x, expected):
    mine, _ = round_into(BY_NAME[name], F(x))
    assert (mine if isinstance(mine, str) else float(mine)) == expected
