"""Each speed trick in core/kernels.py against the plain statement it stands for."""

import math
from decimal import Decimal
from fractions import Fraction as F

from hypothesis import given
from hypothesis import strategies as st

from skipcalc.core import kernels as _kernels
from skipcalc.core.chains import backward
from skipcalc.core.exact import show

POOL = [F(n, d) for n in range(-12, 13) for d in (1, 2, 3, 4, 6, 8, 10, 12, 25, 49, 60)]
fractions = st.fractions(min_value=-3, max_value=3, max_denominator=1000)


@given(st.lists(fractions, min_size=1, max_size=200))
def test_product_tree_is_the_left_fold(values):
    assert _kernels.product(values) == math.prod(values, start=F(1))


@given(st.lists(st.sampled_from(POOL), min_size=65, max_size=300))
def test_product_with_leaf_cancellation_is_reduced_and_exact(values):
    folded = math.prod(values, start=F(1))
    result = _kernels.product(values)
    assert (result.numerator, result.denominator) == (folded.numerator, folded.denominator)


@given(st.lists(st.sampled_from(POOL), max_size=50))
def test_map_distinct_is_the_comprehension(values):
    assert _kernels.map_distinct(lambda v: 1 + v, values) == [1 + v for v in values]


@given(st.integers(min_value=-(10**300), max_value=10**300), st.integers(min_value=1, max_value=10**300))
def test_fraction_reduces_like_fraction(numerator, denominator):
    for d in (denominator, 10**1300 * denominator, 2**5000):
        result = _kernels.fraction(numerator, d)
        expected = F(numerator, d)
        assert (result.numerator, result.denominator) == (expected.numerator, expected.denominator)


@given(
    st.lists(st.sampled_from([*POOL[1:], F(7, 9)]), min_size=1, max_size=40), st.sampled_from([F(1), F(-4), F(1, 3)])
)
def test_suffix_products_are_the_backward_pass_to_50_digits(factors, upstream):
    exact = backward(factors, upstream)
    carried, _ = _kernels.suffix_products(factors, upstream)
    assert carried[0] == upstream * math.prod(factors, start=F(1)) or isinstance(carried[0], Decimal)
    for value, truth in zip(carried, exact, strict=True):
        assert abs(F(value) - truth) <= abs(truth) / 10**50


@given(st.lists(st.sampled_from(POOL[1:]), min_size=1, max_size=300), st.sampled_from([F(1), F(-4)]))
def test_carried_product_has_50_correct_digits(factors, upstream):
    truth = upstream * math.prod(factors, start=F(1))
    assert abs(F(_kernels.carried_product(factors, upstream)) - truth) <= abs(truth) / 10**50


def test_carried_ratio_of_huge_integers():
    a, b = 3**100_000 + 7, 7**40_000 + 3
    value = _kernels.rounded_ratio(a, b, 64)
    assert abs(F(value) - F(a, b)) <= F(a, b) / 10**55


DECIMALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(lambda d: d.adjusted() < 10**6),
    st.builds(lambda m, e: Decimal(m).scaleb(e), st.integers(-(10**70), 10**70), st.integers(-200, 200)),
)


@given(st.lists(DECIMALS, max_size=20), st.integers(min_value=1, max_value=40))
def test_decimal_texts_is_show_in_bulk(values, digits):
    assert _kernels.decimal_texts(values, digits) == [show(v, digits=digits).text for v in values]


@given(st.integers(min_value=1, max_value=10**45), st.integers(min_value=-50, max_value=50), st.integers(1, 30))
def test_round_carried_is_correct_rounding_or_one_digit_fewer_at_a_tie(coefficient, exponent, digits):
    """A carried value has 50 correct digits; where its error bound straddles a tie at the
    digits asked for, it is shown with one digit fewer, which is then decided."""
    value = Decimal(coefficient).scaleb(exponent)
    rounded = _kernels.round_carried([value], digits)[0]
    exact = F(value)
    for shown_digits in (digits, digits - 1):
        if shown_digits < 1:
            continue
        context = _kernels.rounding_context(shown_digits)
        if rounded == context.plus(value) and len(rounded.normalize().as_tuple().digits) <= shown_digits:
            assert abs(F(rounded) - exact) <= abs(exact) / 10**shown_digits * 5
            return
    raise AssertionError((value, digits, rounded))


def test_round_carried_shows_one_digit_fewer_at_an_undecided_tie():
    tie = Decimal(
        "1.25000000000000000000000000000000000000000000000000000001"
    )  # within the 1e-50 error bound of the tie 1.25
    assert _kernels.round_carried([tie], 2) == [Decimal("1")]  # 1.2 or 1.3 undecided; 1 is certain
    assert _kernels.round_carried([Decimal("1.26")], 2) == [Decimal("1.3")]


@given(st.integers(min_value=0, max_value=300_000))
def test_pow10_is_the_power(k):
    assert _kernels.pow10(k) == 10**k


def test_carried_values_that_never_round_stay_exact():
    """0.1^k carries exactly in 60 digits: those values are Terminating, shown without a mark."""
    values, all_exact = _kernels.suffix_products([F(1, 10)] * 3000, F(1))
    assert all_exact
    assert all(isinstance(v, _kernels.Terminating) for v in values[:-1]) and F(values[0]) == F(1, 10**3000)
    assert show(values[0]).text == "1e-3000" and show(values[0]).exact
    mixed, mixed_exact = _kernels.suffix_products([F(11, 10)] * 100, F(1))
    assert not mixed_exact
    assert isinstance(mixed[-2], _kernels.Terminating) and not isinstance(mixed[0], _kernels.Terminating)
    texts, exact = _kernels.decimal_shown(mixed[-3:-1], 40)
    assert (texts, exact) == (["1.21", "1.1"], [True, True])


@given(
    st.lists(
        st.sampled_from(["0.1", "-0.5", "1/3", "0", "7e-30", "2.5e2", "123456789012345678901", "x", "1/0", "-"]),
        max_size=7,
    ),
    st.sampled_from([(False, True), (False,), (True,)]),
    st.sampled_from(["1", "-4", "1/3", "0"]),
    st.booleans(),
    st.sampled_from([None, 5]),
)
def test_value_lines_agree_with_the_general_path(texts, skips, upstream, exact, digits):
    """The batch kernel against the core and the renderer, line by line, or it declines."""
    import io

    from skipcalc.core.blocks import PLAIN, RESIDUAL
    from skipcalc.core.chains import chain_result
    from skipcalc.core.errors import InputError
    from skipcalc.core.exact import SIGNIFICANT, parse_number, parse_numbers, show_parts
    from skipcalc.output.machine import write_value
    from skipcalc.output.view import View

    up = parse_number(upstream, "G")
    shown_digits = digits or SIGNIFICANT
    kernel = _kernels.ValueLines(
        list(skips), up, lambda w: parse_number(w, "D"), lambda n, d: show_parts(n, d, exact, shown_digits, 0).text
    )
    line = kernel(" ".join(texts))
    try:
        result = chain_result(parse_numbers(texts, "D"), [RESIDUAL if s else PLAIN for s in skips], up, per_layer=False)
    except InputError:
        assert line is None
        return
    out = io.StringIO()
    write_value(result, View(format="value", exact=exact, digits=digits), out)
    assert line is None or line == out.getvalue()


@given(
    st.lists(
        st.lists(st.integers(min_value=-(10**6), max_value=10**6).map(lambda k: f"{k}e-7"), min_size=1, max_size=6),
        min_size=1,
        max_size=40,
    ),
    st.integers(min_value=1, max_value=8),
)
def test_value_lines_forget_and_relearn_without_losing_a_word(lines, kept):
    """However many distinct numbers a batch holds, each line answers as the general path does:
    the kernel forgets its memory between lines (here after a handful of words), never inside one
    (a 50,000-line batch once ended in KeyError)."""
    import io

    from skipcalc.core.blocks import CLASSIC
    from skipcalc.core.chains import chain_result
    from skipcalc.core.exact import SIGNIFICANT, parse_number, parse_numbers, show_parts
    from skipcalc.output.machine import write_value
    from skipcalc.output.view import View

    kernel = _kernels.ValueLines(
        [False, True], F(1), lambda w: parse_number(w, "D"), lambda n, d: show_parts(n, d, False, SIGNIFICANT, 0).text
    )
    kernel.KEPT = kept
    for words in lines:
        line = kernel(" ".join(words))
        out = io.StringIO()
        write_value(chain_result(parse_numbers(words, "D"), CLASSIC, F(1), per_layer=False), View("value"), out)
        assert line == out.getvalue()
