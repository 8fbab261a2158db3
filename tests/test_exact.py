"""Reading numbers exactly and the display rule for writing them back."""

from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skipcalc.core.errors import InputError
from skipcalc.core.exact import certify, decimal_text, log10_abs, parse_number, round_significant, show, to_float


@pytest.mark.parametrize(
    "text, value",
    [
        ("0.1", F(1, 10)),
        ("-2.5", F(-5, 2)),
        ("1e-3", F(1, 1000)),
        ("+4", F(4)),
        ("1/3", F(1, 3)),
        ("-1/3", F(-1, 3)),
        (".5", F(1, 2)),
        ("5.", F(5)),
        ("1E-1000", F(1, 10**1000)),
        ("-0", F(0)),
        ("2.5e2", F(250)),
    ],
)
def test_parse_exact(text, value):
    assert parse_number(text, "D") == value


@pytest.mark.parametrize(
    "text",
    [
        "nan",
        "NaN",
        "inf",
        "-inf",
        "1/0",
        "0x10",
        "abc",
        "",
        " ",
        "1e",
        ".",
        "e5",
        "- 1",
        "1/2/3",
        "1.5/2",
        "١",
        "1_000",
        "0.1.2",
        "1e999999999",
        "9" * 1001,
    ],
)
def test_parse_refuses_naming_the_argument(text):
    with pytest.raises(InputError) as error:
        parse_number(text, "--target")
    assert str(error.value).startswith("--target: ") and "\n" not in str(error.value)


# --- the display rule, per output ------------------------------------------------


@pytest.mark.parametrize(
    "value, json, table, plain",
    [
        (F(1331, 1000), "1.331", "1.331", "1.331"),
        (F(1, 3), "1/3", "1/3", "0.3333333333333333333333333333333333333333"),
        (F(250, 429), "250/429", "250/429", "0.5827505827505827505827505827505827505828"),
        (F(1, 10) ** 1000, "1e-1000", "1e-1000", "1e-1000"),
        (F(383216840181, 40000000000), "9.580421004525", "≈9.58042100452", "9.580421004525"),
        (
            F(1, 3**100),
            "1.940325217482632837588506028804650381214e-48",
            "≈1.94032521748e-48",
            "1.940325217482632837588506028804650381214e-48",
        ),
        (F(6727499949325611 * 10**5), "672749994932561100000", "≈6.72749994933e20", "672749994932561100000"),
        (F(0), "0", "0", "0"),
    ],
)
def test_one_rule_three_outputs(value, json, table, plain):
    """json keeps short fractions exact; tables show 12 digits and fractions of up to 6 digits;
    csv and value never write p/q (awk would read the numerator)."""
    assert show(value).text == json
    shown = show(value, digits=12, fraction=6)
    assert (shown.text if shown.exact else "≈" + shown.text) == table
    assert show(value, fraction=0).text == plain
    assert float(plain) == pytest.approx(float(value), rel=1e-15) or value == 0 or abs(value) < F(1, 10**300)


def test_exact_values_are_never_marked_rounded_and_rounded_ones_always_are():
    assert show(F(1331, 1000), digits=3).exact is False  # 1.33: 4 digits do not fit in 3
    assert show(F(1331, 1000), digits=4).exact is True
    assert show(F(10) ** 20, digits=3).exact is True  # 1e20 terminates within 3 digits
    assert show(Decimal("0.5")).exact is False  # a carried value is always an approximation


def test_rounded_digits_are_never_padded_with_zeros():
    assert show(F(123456789), digits=3).text == "1.23e8"
    assert show(F(120), digits=2).text == "120"  # every integer digit is significant: exact
    assert show(F(1205, 10), digits=2).text == "1.2e2"


def test_exact_flag_prints_everything():
    assert show(F(1, 3**100), exact=True).text == f"1/{3**100}"
    assert F(show(F(2) ** 200, exact=True).text) == 2**200


@given(st.fractions(max_denominator=10**50), st.integers(min_value=1, max_value=40))
def test_shown_text_parses_back_to_the_value_or_its_correct_rounding(value, digits):
    shown = show(value, digits=digits)
    back = F(shown.text)
    if shown.exact:
        assert back == value
    else:
        context = Context(prec=digits, rounding=ROUND_HALF_EVEN, Emin=-(10**6), Emax=10**6)
        assert back == F(context.divide(Decimal(value.numerator), Decimal(value.denominator)))


@given(st.integers(min_value=-(10**30), max_value=10**30), st.integers(min_value=-400, max_value=400))
def test_parse_print_round_trip_of_decimals(mantissa, exponent):
    value = parse_number(f"{mantissa}e{exponent}", "D")
    assert value == F(mantissa) * F(10) ** exponent
    assert parse_number(show(value).text, "D") == value


@given(
    st.integers(min_value=1, max_value=10**80),
    st.integers(min_value=1, max_value=10**80),
    st.integers(min_value=-3, max_value=3),
    st.integers(min_value=1, max_value=40),
)
def test_round_significant_is_correct_rounding(p, q, nudge, digits):
    """Against Decimal division (correctly rounded), including values within a hair of a power of ten."""
    for value in (F(p, q), F(10**40 + nudge, 10 ** (p % 60)), F(10 ** (q % 50), 10**30 + nudge)):
        if value <= 0:
            continue
        sign, coefficient, exponent, _ = round_significant(value, digits)
        context = Context(prec=digits, rounding=ROUND_HALF_EVEN, Emax=10**6, Emin=-(10**6))
        assert F(coefficient) * F(10) ** exponent == F(
            context.divide(Decimal(value.numerator), Decimal(value.denominator))
        )


def test_decimal_text_notation():
    assert decimal_text(1, 1331, -3) == "1.331"
    assert decimal_text(1, 1, -7) == "1e-7"
    assert decimal_text(1, 1, -6) == "0.000001"
    assert decimal_text(-1, 12, 20) == "-1.2e21"


def test_float_and_log10_never_underflow():
    assert to_float(F(1, 10) ** 1000) is None and to_float(F(10) ** 400) is None
    assert to_float(F(1331, 1000)) == 1.331
    assert log10_abs(F(1, 10) ** 1000) == -1000 and log10_abs(F(0)) is None
    assert log10_abs(Decimal("1e-100000")) == pytest.approx(-100000)


def test_certify_raises_precision_until_two_agree_and_distrusts_zeros():
    """1 - cos(1e-50) cancels: at 80 digits it is 0; certify keeps going to 5e-101."""
    import mpmath

    def one_minus_cos(digits):
        with mpmath.workdps(digits):
            return 1 - mpmath.cos(mpmath.mpf(10) ** -50)

    value = certify(one_minus_cos, "test")
    assert abs(F(value) - F(1, 2 * 10**100)) < F(1, 10**150)
    with pytest.raises(InputError, match="could not be determined"):
        certify(lambda digits: Decimal(10) ** -(digits + 5), "tiny")  # never settles: perhaps exactly 0
