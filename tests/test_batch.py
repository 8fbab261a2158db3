"""--batch: one case per stdin line, one result per line."""

import json


def test_chain_batch_value(cli):
    result = cli("chain", "--batch", "--format", "value", input="0.1 0.1 0.1\n\n0 0\n-0.5 1/3\n")
    assert result.exit_code == 0
    assert result.stdout == "0.001\t1.331\n0\t1\n-1/6\t2/3\n"


def test_chain_batch_json_lines_carry_the_line_number(cli):
    out = cli("chain", "--batch", "--format", "json", "--residual", input="0.1 0.1 0.1\n\n0.5\n").stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["line"], r["residual"]["gradient"]) for r in rows] == [(1, "1.331"), (3, "1.5")]


def test_chain_batch_csv_has_one_header_and_a_line_column(cli):
    out = cli("chain", "--batch", "--format", "csv", "--plain", input="0.1 0.1\n0.5\n").stdout
    assert out.splitlines() == [
        "line,layer,local,plain_factor,plain_gradient",
        "1,1,0.1,0.1,0.01",
        "1,2,0.1,0.1,0.1",
        "2,1,0.5,0.5,0.5",
    ]


def test_bad_line_stops_after_the_results_before_it(cli):
    result = cli("backprop", "--batch", "--loss-grad", "-2", "--format", "value", input="0.1\nx 1\n0.2\n")
    assert result.exit_code == 2
    assert result.stdout == "-0.2\t-2.2\n"
    assert result.stderr.startswith("skipcalc: error: stdin line 2: D1: 'x' is not a number")
    assert len(result.stderr.splitlines()) == 1


def test_keep_going_reports_in_band(cli):
    result = cli("chain", "--batch", "--keep-going", "--format", "value", input="0.1\nx\n0.2\n")
    lines = result.stdout.splitlines()
    assert lines[0] == "0.1\t1.1" and lines[2] == "0.2\t1.2"
    assert json.loads(lines[1])["line"] == 2 and "'x' is not a number" in json.loads(lines[1])["error"]
    assert result.exit_code == 2 and "1 line failed" in result.stderr


def test_loss_batch_key_value_lines_over_options(cli):
    text = "target=10 pred=8\ntarget=1 pred=0.5 kind=mae\n--target 3 --pred 1\n"
    result = cli("loss", "--batch", "--kind", "huber", "--format", "value", input=text)
    assert result.stdout == "1.5\t-1\n0.5\t-1\n1.5\t-1\n"


def test_update_batch(cli):
    result = cli("update", "--batch", "--lr", "0.1", "--input", "1", "--format", "value",
                 input="weight=0.5 grad=-5.324\nweight=1 grad=2 input=0\n")  # fmt: skip
    assert result.stdout == "1.0324\n1\n"


def test_batch_errors(cli):
    for args, text, fragment in (
        (["chain", "--batch"], "0.1\n", "--batch"),  # table
        (["chain", "0.1", "--batch", "--format", "value"], "0.1\n", "--batch"),
        (["loss", "--batch", "--format", "value"], "target=1\n", "stdin line 1: --pred"),
        (["loss", "--batch", "--format", "value"], "target=1 pred=0 size=3\n", "'size=3'"),
    ):
        result = cli(*args, input=text)
        assert result.exit_code == 2 and fragment in result.stderr and len(result.stderr.splitlines()) == 1


def test_single_call_still_requires_its_options(cli):
    result = cli("update", "--weight", "1", "--lr", "0.1", "--grad", "1")
    assert result.exit_code == 2 and "--input" in result.stderr
