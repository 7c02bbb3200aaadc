"""Numeric and yes/no ini keys take a TOML number or boolean in pytest 9's native ``[tool.pytest]`` table, and a
string there, in ``[tool.pytest.ini_options]`` and in pytest.ini alike; a value that is not one is still one clean
line naming the key."""

from __future__ import annotations

import pytest

from .core_suite import MODEL_ARG, read_report, write_suite

NUMBERS = '''trust_sample = 2
trust_seed = 3
trust_concurrency = 5
trust_batch_size = 4
trust_max_tokens = 7
trust_temperature = 0
trust_strict = true
'''
QUOTED = '''trust_sample = "2"
trust_seed = "3"
trust_concurrency = "5"
trust_batch_size = "4"
trust_max_tokens = "7"
trust_temperature = "0.0"
trust_strict = "true"
'''


def settings_in_report(pytester) -> tuple:
    report = read_report(pytester)
    run, generation = report["run"], report["generation"]
    (params,) = generation["params"]
    return (run["sample"], run["seed"], run["strict"], generation["concurrency"], generation["batch_size"],
            params["temperature"], params["max_new_tokens"], run["totals"]["probes"])


EXPECTED = (2, 3, True, 5, 4, 0.0, 7, 2)  # temperature 0 is given, not "unset": it overrides every task's


def run_with(pytester, config_file: str, text: str):
    write_suite(pytester, n=6, refuse=6)
    if config_file == "pytest.ini":
        pytester.makeini(text)
    else:
        pytester.makepyprojecttoml(text)
    return pytester.runpytest(MODEL_ARG, "--trust-report", "r.json", "--trust-no-cache")


@pytest.mark.parametrize("values", [NUMBERS, QUOTED], ids=["numbers", "strings"])
def test_native_toml_table_takes_numbers_and_strings(pytester, values):
    # pytest >= 9.2 (the installed one): the keys are registered as number-or-text (see options._ini_type)
    result = run_with(pytester, "pyproject.toml", "[tool.pytest]\n" + values)
    assert result.ret == pytest.ExitCode.OK, result.stderr.str()
    assert settings_in_report(pytester) == EXPECTED


@pytest.mark.parametrize("values", [NUMBERS, QUOTED], ids=["numbers", "strings"])
def test_ini_options_table_takes_numbers_and_strings(pytester, values):
    result = run_with(pytester, "pyproject.toml", "[tool.pytest.ini_options]\n" + values)
    assert result.ret == pytest.ExitCode.OK, result.stderr.str()
    assert settings_in_report(pytester) == EXPECTED


def test_pytest_ini_takes_numbers(pytester):
    result = run_with(pytester, "pytest.ini", "[pytest]\n" + NUMBERS)
    assert result.ret == pytest.ExitCode.OK, result.stderr.str()
    assert settings_in_report(pytester) == EXPECTED


@pytest.mark.parametrize(("table", "line", "message"), [
    ("tool.pytest", 'trust_sample = "some"', "ERROR: ini trust_sample='some': expected a positive whole number of "
                                             "probes per task"),
    ("tool.pytest", "trust_sample = 0", "ERROR: ini trust_sample='0': expected a positive whole number of probes "
                                        "per task"),
    ("tool.pytest", 'trust_strict = "maybe"', "ERROR: ini trust_strict='maybe': expected true or false"),
    ("tool.pytest.ini_options", "trust_temperature = -1", "ERROR: ini trust_temperature='-1': expected a number >= 0"),
    ("tool.pytest.ini_options", 'trust_concurrency = "many"', "ERROR: ini trust_concurrency='many': expected a "
                                                              "positive whole number"),
])
def test_a_value_that_is_not_a_number_names_the_ini_key(pytester, table, line, message):
    write_suite(pytester, n=2, refuse=2)
    pytester.makepyprojecttoml(f"[{table}]\n{line}\n")
    result = pytester.runpytest(MODEL_ARG)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str()
