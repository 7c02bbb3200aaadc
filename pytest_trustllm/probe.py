"""The ``probe`` decorator and the ``trust`` marker -> one parametrized test item per dataset record."""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from .cases import GenParams, TrustCase
from .datasets import DatasetError, record_error, validate
from .markers import check_marker, default_task, marker_options, short_repr
from .run_modes import lists_fixtures

PromptBuilder = Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], Sequence[str]]


def probe(dataset: str, dimension: str, task: str | None = None, **options: Any) -> Callable:
    """Parametrize a test over DATASET: one test item per record, as a probe of DIMENSION/TASK.

    DATASET is a path (relative to the test file, else to the rootdir), ``trustllm:<dimension>/<file>.json``
    (under ``--trust-data``), or ``hf:NAME[:SPLIT]``. TASK defaults to the file's stem.

    Options: ``schema`` (a JSON Schema dict or a path to one), ``prompt_field`` ("prompt"), ``id_field``
    (a unique field for stable ids; default: the record number), ``temperature``, ``max_new_tokens``,
    ``threshold`` (gate on the task's primary metric, in its direction; ``metric``/``direction`` name
    another metric or direction), ``gates`` (extra gate expressions), ``subgroups``
    (record fields to break metrics down by), ``group_field`` (records sampled together: a field name, or
    a callable ``(record, records) -> str``), ``prompts``
    (a callable ``(record, records) -> prompts`` for probes that compare several answers), ``where``
    (a callable ``record -> bool`` filter), ``aggregate`` ("module:function" computing the task's metrics).
    Any other keyword is a usage error naming the closest of these (:func:`check_keywords`).
    """
    task = task or default_task(dataset, "")

    def decorate(fn: Callable) -> Callable:
        fn = pytest.mark.usefixtures("trust_case")(fn)
        return pytest.mark.trust(dimension=dimension, task=task, dataset=dataset, **options)(fn)

    return decorate


def resolve_dataset(ref: str, test_file: Path, rootdir: Path, data_dir: Path | None) -> str:
    if ref.startswith("trustllm:"):
        if data_dir is None:
            raise pytest.UsageError(
                f"{ref} needs the TrustLLM dataset: pass --trust-data DIR or set TRUSTLLM_DATA "
                "(get it from the upstream dataset.zip of HowieHwong/TrustLLM, or the Hugging Face dataset "
                "TrustLLM/TrustLLM-dataset)"
            )
        return str(data_dir / ref.removeprefix("trustllm:"))
    if ref.startswith("hf:"):  # a local file or folder resolves like a plain path; else a hub id, as given
        name, colon, split = ref.removeprefix("hf:").partition(":")
        local = _existing(Path(name).expanduser(), test_file, rootdir) if name else None
        return f"hf:{local}{colon}{split}" if local is not None else ref
    if re.match(r"^[A-Za-z][\w+.-]+:", ref):  # schemes that a load_dataset hook knows
        return ref
    path = Path(ref).expanduser()
    if path.is_absolute():
        return str(path)
    return str(_existing(path, test_file, rootdir) or test_file.parent / path)


def _existing(path: Path, test_file: Path, rootdir: Path) -> Path | None:
    """PATH if absolute, else PATH under the test file's folder or else the rootdir, where it exists."""
    if path.is_absolute():
        return path
    return next((base / path for base in (test_file.parent, rootdir) if (base / path).exists()), None)


def _load_schema(schema: Any, test_file: Path) -> Mapping[str, Any] | None:
    """``schema=``: a dict as it is, else the JSON file it names (relative to the test file); a file that
    cannot be read is bad data naming it."""
    if schema is None or isinstance(schema, Mapping):
        return schema
    import json

    from .datasets import read_text

    path = Path(schema).expanduser()
    if not path.is_absolute():
        path = test_file.parent / path
    if not path.is_file():
        raise DatasetError(str(path), "schema= file not found (a path is relative to the test file)")
    try:
        loaded = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise DatasetError(str(path), f"schema= is not valid JSON ({exc.msg} at column {exc.colno})",
                           line=exc.lineno) from None
    if not isinstance(loaded, Mapping):
        raise DatasetError(str(path), f"schema= must hold a JSON object (a JSON Schema), not a "
                                      f"{type(loaded).__name__}")
    return loaded


def build_cases(records: Sequence[Mapping[str, Any]], source: str, kwargs: Mapping[str, Any],
                params: GenParams, overrides: Mapping[str, Any] | None = None, probe_name: str = "") -> list[TrustCase]:
    """One case per record. Generation parameters: PARAMS, then the marker's, then OVERRIDES (the CLI's).
    PROBE_NAME (the test's) names the probe when one of its callables raises."""
    dimension, task = kwargs.get("dimension") or "custom", kwargs["task"]
    id_field = kwargs.get("id_field")
    prompt_field = kwargs.get("prompt_field", "prompt")
    builder: PromptBuilder | None = kwargs.get("prompts")
    where = kwargs.get("where")
    params = params.replace(temperature=kwargs.get("temperature"), max_new_tokens=kwargs.get("max_new_tokens"))
    params = params.replace(**(overrides or {}))
    call = _RecordCaller(source, records, probe_name)
    width = len(str(max(len(records) - 1, 0)))
    cases, seen_ids = [], set()
    for i, record in enumerate(records):
        if where is not None and not call("where", where, i, record):
            continue
        case_id = str(record.get(id_field)) if id_field else str(i).zfill(width)
        if id_field and (id_field not in record or case_id in seen_ids):
            problem = "is missing" if id_field not in record else f"repeats id {case_id!r}"
            raise record_error(source, records, i, f"id field {id_field!r} {problem}", field=id_field)
        seen_ids.add(case_id)
        prompts = (_built_prompts(call("prompts", builder, i, record, records), source, records, i) if builder
                   else (record[prompt_field],))
        subgroups = {name: _label(record.get(name)) for name in kwargs.get("subgroups", ())}
        cases.append(TrustCase(
            dimension=dimension, task=task, case_id=case_id, index=i, prompts=prompts, params=params,
            source=source, group=_group(kwargs.get("group_field"), call, i, records),
            subgroups=subgroups, record=record,
        ))
    return cases


class _RecordCaller:
    """Calls one of a probe's callables (``where=``, ``prompts=``, ``group_field=``) on a record; an exception
    in it is bad data naming the probe, the file, the record and the exception."""

    def __init__(self, source: str, records: Sequence[Mapping[str, Any]], probe_name: str) -> None:
        self.source, self.records, self.probe_name = source, records, probe_name

    def __call__(self, option: str, fn: Callable, index: int, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            raised = exc
        import traceback

        frames = traceback.extract_tb(raised.__traceback__)[1:]  # not this frame
        where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
        of = f" of {self.probe_name}" if self.probe_name else ""
        raise record_error(self.source, self.records, index, f"{option}={of} raised {short_repr(raised, 120)}{where}")


def _group(group_field: Any, call: _RecordCaller, index: int, records: Sequence[Mapping[str, Any]]) -> str | None:
    """The record's ``group_field=``: the field's value, or what the callable returns; a missing field is bad
    data, as a missing ``id_field`` is."""
    if not group_field:
        return None
    record = records[index]
    if callable(group_field):
        return str(call("group_field", group_field, index, record, records))
    if group_field not in record:
        raise record_error(call.source, records, index, f"group field {group_field!r} is missing", field=group_field)
    return str(record[group_field])


def _built_prompts(built: Any, source: str, records: Sequence[Mapping[str, Any]], index: int) -> tuple[str, ...]:
    """What ``prompts=`` built for one record: a non-empty sequence of non-empty strings, else bad data."""
    problem = None
    if isinstance(built, (str, bytes)) or not isinstance(built, Sequence):
        problem = f"a {type(built).__name__} ({short_repr(built)})"
    elif not built:
        problem = "an empty list"
    else:
        bad = next(((n, p) for n, p in enumerate(built) if not isinstance(p, str) or not p.strip()), None)
        if bad is not None:
            problem = f"{short_repr(bad[1])} as prompt {bad[0]}"
    if problem is not None:
        raise record_error(source, records, index,
                           f"prompts= returned {problem}; expected a non-empty list of prompt strings")
    return tuple(built)


def _label(value: Any) -> str:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return "" if value is None else str(value)


def sample_cases(cases: list[TrustCase], n: int, seed: int, task: str) -> list[TrustCase]:
    """N groups (a case without a group is its own group), seeded per task, in file order."""
    groups = list(dict.fromkeys(c.group if c.group is not None else f"#{c.case_id}" for c in cases))
    if n >= len(groups):
        return cases
    chosen = set(random.Random(f"{seed}/{task}").sample(groups, n))
    return [c for c in cases if (c.group if c.group is not None else f"#{c.case_id}") in chosen]


class BuiltinSampling:
    """``--trust-sample``/``--trust-seed`` as a ``pytest_trustllm_modify_cases`` implementation."""

    def __init__(self, sample: int | None, seed: int) -> None:
        self.sample, self.seed = sample, seed

    @pytest.hookimpl(trylast=True)
    def pytest_trustllm_modify_cases(self, config: pytest.Config, task: str, cases: list[TrustCase]) -> None:
        if self.sample is not None:
            cases[:] = sample_cases(cases, self.sample, self.seed, task)


def _from_rootdir(source: Any, root: Path) -> str:
    """A data file named from the rootdir, as pytest names test files (``data/x.csv``); other sources as
    they are (``hf:``, a file outside the rootdir)."""
    path = Path(os.path.normpath(str(source)))  # "tests/../data/x.csv" is data/x.csv
    return path.relative_to(root).as_posix() if path.is_absolute() and path.is_relative_to(root) else str(source)


def _shown_from_rootdir(exc: DatasetError, root: Path) -> str:
    message, source = str(exc), str(exc.source)
    return _from_rootdir(source, root) + message[len(source):] if message.startswith(source) else message


def parametrize(metafunc: pytest.Metafunc, state) -> None:
    """``pytest_generate_tests`` for tests carrying the ``trust`` marker with a ``dataset``.

    A probe left with no case (no records, ``where=`` kept none, a ``modify_cases`` hook removed them all)
    collects like pytest's empty parametrize: one skipped item that says why."""
    marker = metafunc.definition.get_closest_marker("trust")
    if marker is None or "dataset" not in marker.kwargs:
        return
    try:
        check_marker(marker.kwargs, marker.args)
    except pytest.UsageError:
        return  # a mistake in the marker (a misspelt threshold=): check_markers names the test, before any data
    kwargs = marker_options(marker.args, marker.kwargs, metafunc.definition.originalname)
    test_file = Path(str(metafunc.definition.path))
    config = metafunc.config
    problem = None
    try:
        ref = resolve_dataset(kwargs["dataset"], test_file, config.rootpath, state.settings.data_dir)
        records = state.load_records(ref)
        validate(records, ref, _load_schema(kwargs.get("schema"), test_file), kwargs.get("prompt_field", "prompt"))
        overrides = {"temperature": state.settings.temperature, "max_new_tokens": state.settings.max_tokens}
        cases = build_cases(records, ref, kwargs, state.base_params, overrides, metafunc.definition.originalname)
    except DatasetError as exc:
        problem = _shown_from_rootdir(exc, config.rootpath)
    except pytest.UsageError as exc:  # no --trust-data, a missing package: one "ERROR:" line once collected
        if not lists_fixtures(config):  # (raised here, pytest would print it inside a traceback of its hooks)
            state.collection_problems.append(str(exc))
        _skip_all(metafunc, kwargs["task"], str(exc))  # --fixtures still lists the fixtures, without data
        return
    if problem is not None:  # outside the except: the message alone, not "During handling of ..." too
        pytest.fail(f"bad probe data: {problem}", pytrace=False)
    built = len(cases)
    config.hook.pytest_trustllm_modify_cases(config=config, task=kwargs["task"], cases=cases)
    if not cases:
        if not records:
            reason = f"no records in {_from_rootdir(ref, config.rootpath)}"
        elif not built:
            reason = f"where= kept none of {len(records)} records in {_from_rootdir(ref, config.rootpath)}"
        else:
            reason = f"a modify_cases hook left no case of {kwargs.get('dimension') or 'custom'}/{kwargs['task']}"
        _skip_all(metafunc, kwargs["task"], reason)
        return
    metafunc.parametrize("trust_case", cases, ids=[f"{c.task}-{c.case_id}" for c in cases], indirect=True)


def _skip_all(metafunc: pytest.Metafunc, task: str, reason: str) -> None:
    """One skipped item saying REASON, as pytest's empty ``parametrize`` makes."""
    metafunc.parametrize("trust_case", [pytest.param(None, marks=pytest.mark.skip(reason=reason),
                                                     id=f"{task}-NOTSET")], indirect=True)
