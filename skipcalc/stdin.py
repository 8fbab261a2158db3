"""What skipcalc reads from standard input: one chain's derivatives (`-`), or one case per
line (--batch), each answered by one result line as it is computed.

Typer-free: the shell-loop fast path (console.py) and the Typer app (cli.py) share it, so
both read, refuse and report alike.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from fractions import Fraction
from math import gcd, prod

from .console import refuse
from .numbers import InputError, parse_number, parse_numbers, show_parts, show_scaled, terminating

MAX_STDIN = 64 * 2**20
"""Most characters `-` reads from stdin (a million layers of 0.1 are 4 MiB)."""
MAX_LINE = 2**20
"""Longest --batch line, in characters."""


def read_derivatives(texts: Sequence[str] | None, name: str = "D") -> list[Fraction]:
    """The positional local derivatives; a lone '-' reads them from stdin."""
    if not texts:
        raise InputError(f"{name}: give at least one local derivative (or - to read them from stdin)")
    if list(texts) == ["-"]:
        data = sys.stdin.read(MAX_STDIN + 1)
        if len(data) > MAX_STDIN:
            raise InputError(f"stdin: more than the {MAX_STDIN // 2**20} MiB of derivatives skipcalc reads")
        texts = data.split()
        if not texts:
            raise InputError("stdin: no local derivatives were read; expected numbers separated by spaces or newlines")
        return parse_numbers(texts, "stdin number ")
    for text in texts:
        if text.startswith("--") or (text.startswith("-") and text[1:2].isalpha()):
            raise InputError(f"{text}: no such option; see --help")
    return parse_numbers(texts, name)


def line_derivatives(text: str) -> list[Fraction]:
    """A --batch line of chain/backprop: the derivatives D1 ... Dn (never stdin's `-`)."""
    texts = text.split()
    if texts == ["-"]:
        raise InputError("D1: '-' is not a number here; a --batch line holds the derivatives themselves")
    return read_derivatives(texts)


BATCH_FORMATS = ("json", "csv", "value")


def run_batch(
    case: Callable[[str], object],
    format: str,
    exact: bool,
    keep_going: bool,
    quick: Callable[[str], str | None] | None = None,
) -> None:
    """--batch: ``case`` turns one stdin line into a result; each result is written as it
    is computed (json lines, csv rows with a `line` column, or value lines). ``quick``, if
    given, may answer a line's whole output itself (None passes the line to ``case``).
    A bad line stops the run with exit 2 after the results before it, unless --keep-going
    writes {"line": N, "error": ...} in its place and goes on (exit 2 at the end if any failed)."""
    if format not in BATCH_FORMATS:
        raise InputError("--batch: writes one result per line; add --format json, csv or value")
    import json

    from .render import Options, render

    write = sys.stdout.write
    failed = 0
    first = True
    for number, text in enumerate(iter(lambda: sys.stdin.readline(MAX_LINE + 1), ""), start=1):
        if len(text) > MAX_LINE:
            sys.stdout.flush()
            refuse(f"stdin line {number}: longer than the {MAX_LINE // 2**20} MiB a --batch line may be")
        if quick is not None:
            answer = quick(text)
            if answer is not None:
                write(answer)
                continue
        if not text.strip():
            continue
        try:
            result = case(text)
        except InputError as error:
            message = f"stdin line {number}: {error}"
            if not keep_going:
                sys.stdout.flush()
                refuse(message)
            failed += 1
            write(json.dumps({"line": number, "error": message}) + "\n")
            continue
        render(result, Options(format=format, exact=exact, line=number, header=first))
        first = False
    if failed:
        sys.stdout.flush()
        refuse(f"--batch: {failed} line{'s' if failed != 1 else ''} failed (reported in-band)")


def chain_batch(
    networks: Sequence[str],
    upstream: Fraction | None,
    loss: object,
    format: str,
    exact: bool,
    keep_going: bool,
) -> None:
    """chain (``upstream`` None) or backprop --batch: one chain's derivatives per line."""
    from .chain import backward

    def case(line: str) -> object:
        return backward(line_derivatives(line), networks, upstream, loss)  # type: ignore[arg-type]

    one = Fraction(1) if upstream is None else upstream
    quick = QuickChain(networks, one, exact) if QuickChain.applies(format, one) else None
    run_batch(case, format, exact, keep_going, quick)


class QuickChain:
    """The value line of chain/backprop for a --batch line of small numbers, straight from
    integer products: the shell-loop case, without building a result and its report.

    Each D is kept as numerator/denominator, a decimal's denominator as its power of ten
    (0.5 is 5/10). A network's gradient is upstream * prod(D_i) or upstream * prod(1 + D_i);
    when every number is a decimal it is prod(numerators) / 10**(sum of scales), printed
    by numbers.show_scaled without a gcd, else reduced by one gcd and printed by
    numbers.show_parts - the same value and writer as the general path, which tests check
    line by line. A line it does not take (more than LAYERS layers, a number above BITS
    bits, anything that is not a number) returns None and goes the general way, errors
    included."""

    LAYERS = 1000
    """Lines up to this long, of parts up to BITS bits, stay far inside check_chain's limits."""
    BITS = 64

    def __init__(self, networks: Sequence[str], upstream: Fraction, exact: bool) -> None:
        self.exact = exact
        # Per number text: the numerator of D and of 1 + D over their denominator, and for
        # a decimal, its scale (the denominator is 10**scale).
        self.plain: dict[str, int] = {}
        self.skip: dict[str, int] = {}
        self.denominator: dict[str, int] = {}
        self.scale: dict[str, int] = {}
        self.numerators = [self.skip if name == "residual" else self.plain for name in networks]
        self.upstream = self._parts(upstream)

    @classmethod
    def applies(cls, format: str, upstream: Fraction) -> bool:
        small = max(upstream.numerator.bit_length(), upstream.denominator.bit_length()) <= cls.BITS
        return format == "value" and small

    @staticmethod
    def _parts(value: Fraction) -> tuple[int, int, int | None]:
        """(numerator, denominator, scale): over 10**scale when value is a decimal."""
        n, d = value.numerator, value.denominator
        decimal = terminating(n, d)
        if decimal is None:
            return n, d, None
        sign, coefficient, exponent = decimal
        if exponent >= 0:
            return sign * coefficient * 10**exponent, 1, 0
        return sign * coefficient, 10**-exponent, -exponent

    def _learn(self, texts: list[str]) -> bool:
        """Read the texts not seen before; False if any is not a small number."""
        for text in texts:
            if text in self.denominator:
                continue
            try:
                value = parse_number(text, "D")
            except InputError:
                return False
            if max(value.numerator.bit_length(), value.denominator.bit_length()) > self.BITS:
                return False
            if len(self.denominator) >= 100_000:  # a bound on memory, not a limit on input
                for known in (self.plain, self.skip, self.denominator, self.scale):
                    known.clear()
            n, d, scale = self._parts(value)
            self.plain[text], self.skip[text], self.denominator[text] = n, n + d, d
            if scale is not None:
                self.scale[text] = scale
        return True

    def __call__(self, line: str) -> str | None:
        texts = line.split()
        if not texts or len(texts) > self.LAYERS:
            return None
        up_num, up_den, up_scale = self.upstream
        try:  # the common case: every number seen before, and a decimal
            scale = sum(map(self.scale.__getitem__, texts))
        except KeyError:
            if not all(map(self.denominator.__contains__, texts)) and not self._learn(texts):
                return None
            decimals = all(map(self.scale.__contains__, texts))
            scale = sum(map(self.scale.__getitem__, texts)) if decimals else None
        if scale is not None and up_scale is not None:
            scale += up_scale
            return (
                "\t".join(
                    [show_scaled(up_num * prod(map(n.__getitem__, texts)), scale, self.exact) for n in self.numerators]
                )
                + "\n"
            )
        den = up_den * prod(map(self.denominator.__getitem__, texts))
        shown = []
        for numerators in self.numerators:
            num = up_num * prod(map(numerators.__getitem__, texts))
            common = gcd(num, den)
            shown.append(show_parts(num // common, den // common, self.exact).text)
        return "\t".join(shown) + "\n"
