from decimal import Decimal
from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skipcalc.numbers import InputError, _decimal_text, log10_abs, parse_number, round_significant, show, to_float
from skipcalc.render import NumberTexts


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
    ["nan", "NaN", "inf", "-inf", "1/0", "0x10", "abc", "", " ", "1e", ".", "e5", "- 1", "1/2/3",
     "1.5/2", "١", "1_000", "0.1.2", "1e999999999", "9" * 1001],
)  # fmt: skip
def test_parse_refuses(text):
    with pytest.raises(InputError) as error:
        parse_number(text, "--target")
    assert str(error.value).startswith("--target: ")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "value, text, exact",
    [
        (F(1331, 1000), "1.331", True),
        (F(-5324, 1000), "-5.324", True),
        (F(1, 10) ** 1000, "1e-1000", True),
        (F(10) ** 1000, "1e1000", True),
        (F(1, 3), "1/3", True),
        (F(0), "0", True),
        (F(1, 10**6), "0.000001", True),
        (F(1, 10**7), "1e-7", True),
        (F(10) ** 20, "100000000000000000000", True),
        (F(25, 10**30), "2.5e-29", True),
        # 3**100 has 48 digits: correctly rounded to 40 significant digits.
        (F(1, 3**100), "1.940325217482632837588506028804650381214e-48", False),
        (F(2) ** 200, "1.606938044258990275541962092341162602522e60", False),
    ],
)
def test_show(value, text, exact):
    shown = show(value)
    assert (shown.text, shown.exact) == (text, exact)


def test_show_exact_prints_everything():
    assert show(F(1, 3**100), exact=True).text == f"1/{3**100}"
    assert show(F(2) ** 200, exact=True).text.replace(".", "").startswith(str(2**200)[:30])
    assert F(show(F(2) ** 200, exact=True).text) == 2**200


def test_show_never_float_noise():
    assert show(F(11, 10) ** 3).text == "1.331"
    assert 1.1**3 != 1.331  # what a float gives instead


def test_show_decimal_is_marked_rounded():
    shown = show(Decimal("0.1053605156578263012275009808393127983061"))
    assert not shown.exact


def test_round_half_even():
    assert round_significant(F(125, 100), 2)[:3] == (1, 12, -1)
    assert round_significant(F(135, 100), 2)[:3] == (1, 14, -1)
    assert round_significant(F(-1, 3), 3)[:3] == (-1, 333, -3)


def test_float_and_log10():
    assert to_float(F(1, 10) ** 1000) is None  # would underflow to 0
    assert to_float(F(10) ** 400) is None  # would overflow
    assert to_float(F(1331, 1000)) == 1.331
    assert log10_abs(F(1, 10) ** 1000) == -1000
    assert log10_abs(F(0)) is None


@given(st.fractions(max_denominator=10**50))
def test_shown_text_parses_back(value):
    """Whatever show() prints, Fraction parses to the value (exact) or to the value
    correctly rounded to 40 significant digits."""
    shown = show(value)
    back = F(shown.text)
    if shown.exact:
        assert back == value
    else:
        assert abs(back - value) <= abs(value) / 10**39


@given(st.fractions(max_denominator=10**60))
def test_exact_flag_prints_the_value(value):
    assert F(show(value, exact=True).text) == value


@given(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=-400, max_value=400),
)
def test_parse_print_round_trip_of_decimals(mantissa, exponent):
    text = f"{mantissa}e{exponent}"
    value = parse_number(text, "D")
    assert value == F(mantissa) * F(10) ** exponent
    assert parse_number(show(value).text, "D") == value


@given(
    st.integers(min_value=-(10**60), max_value=10**60).filter(bool),
    st.integers(min_value=-5000, max_value=5000),
)
def test_carried_decimals_print_like_exact_rounding(coefficient, exponent):
    """The fast Decimal formatting (long chains, formula layers) agrees with the exact
    rounding rule in value and in notation."""
    value = Decimal(coefficient).scaleb(exponent)
    expected = _decimal_text(*round_significant(F(value), 40)[:3])
    assert show(value).text == expected


@given(
    st.integers(min_value=1, max_value=10**80),
    st.integers(min_value=1, max_value=10**80),
    st.integers(min_value=-3, max_value=3),
    st.integers(min_value=1, max_value=40),
)
def test_round_significant_is_correct_rounding(p, q, nudge, digits):
    """Against Decimal division, which is correctly rounded: including values within a
    hair of a power of ten, where the log estimate must be settled exactly."""
    from decimal import ROUND_HALF_EVEN, Context

    for value in (F(p, q), F(10**40 + nudge, 10 ** (p % 60)), F(10 ** (q % 50), 10**30 + nudge)):
        if value <= 0:
            continue
        sign, coefficient, exponent, _ = round_significant(value, digits)
        context = Context(prec=digits, rounding=ROUND_HALF_EVEN, Emax=10**6, Emin=-(10**6))
        expected = context.divide(Decimal(value.numerator), Decimal(value.denominator))
        assert F(coefficient) * F(10) ** exponent == F(expected)


@given(st.lists(st.decimals(allow_nan=False, allow_infinity=False, places=None), max_size=20))
def test_decimal_texts_is_show_in_bulk(values):
    from skipcalc.numbers import decimal_texts

    assert decimal_texts(values) == [show(v).text for v in values]


def _one_decimal_text(value):
    """The plain rule for one carried Decimal, against which the bulk writer is checked."""
    from skipcalc.numbers import _context

    rounded = value.normalize(_context(40))
    if not rounded:
        return "0"
    if -7 < rounded.adjusted() < 21:
        return format(rounded, "f")
    return format(rounded, "e").replace("e+", "e")


DECIMALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.builds(lambda m, e: Decimal(m).scaleb(e), st.integers(-(10**70), 10**70), st.integers(-200, 200)),
)


@given(st.lists(DECIMALS, max_size=30))
def test_bulk_decimal_texts_follow_the_one_value_rule(values):
    from skipcalc.numbers import decimal_texts

    assert decimal_texts(values) == [_one_decimal_text(v) for v in values]


def test_bulk_decimal_texts_edge_cases():
    from skipcalc.numbers import decimal_texts

    values = [Decimal("1E+1"), Decimal("-0"), Decimal("1234567890123456789012.5"), Decimal("1.5E-7"), Decimal("1e-6")]
    assert decimal_texts(values) == ["10", "0", "1.2345678901234567890125e21", "1.5e-7", "0.000001"]


NUMBER_TEXTS = ["0.1", "-1.5e-300", "1/3", "0", "1.2e21"]


@given(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(), st.floats(allow_nan=False)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(st.text(), st.integers()), inner, max_size=4),
            st.lists(st.sampled_from(NUMBER_TEXTS), min_size=65, max_size=70).map(NumberTexts),
        ),
        max_leaves=20,
    )
)
def test_json_pieces_are_json_dumps(value):
    import json

    from skipcalc.render import json_pieces

    assert "".join(json_pieces(value)) == json.dumps(value, ensure_ascii=False)


def test_long_chain_json_is_json_dumps():
    import json
    from fractions import Fraction

    from skipcalc.chain import backprop
    from skipcalc.render import Options, _jsonable, json_pieces, report_for

    local = [Fraction(1, 10), Fraction(-3, 7), Fraction(5, 2)] * 1000
    data = _jsonable(report_for(backprop(local, Fraction(-4))).data, Options(format="json"), [])
    text = "".join(json_pieces(data))
    assert text == json.dumps(data, ensure_ascii=False)
    assert len(json.loads(text)["residual"]["wrt"]) == 3001
