"""Loading probe records: JSON lists, JSONL, CSV, and ``hf:`` datasets; validation with jsonschema."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest


class DatasetError(Exception):
    """Bad data. The message names the file, the record and the field: ``data/x.csv: record 3 (line 4):
    field 'prompt' is missing``.

    RECORD is the record's 0-based index in the list of records (shown 1-based, as people count); LINE is
    the 1-based line in the file where it is known. FIELD is shown unless MESSAGE names it already."""

    def __init__(self, source: str, message: str, record: int | None = None, field: str | None = None,
                 line: int | None = None):
        self.source, self.message, self.record, self.field, self.line = source, message, record, field, line
        super().__init__(f"{self.location()}: {message}")

    def location(self) -> str:
        """``SOURCE``, ``SOURCE: record N (line L)``, ``SOURCE: line L``, with ``, field 'F'`` when needed."""
        parts = []
        if self.record is not None:
            parts.append(f"record {self.record + 1}" + (f" (line {self.line})" if self.line is not None else ""))
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.field and repr(self.field) not in self.message:
            parts.append(f"field {self.field!r}")
        return f"{self.source}: {', '.join(parts)}" if parts else self.source


def record_error(source: str, records: Sequence[Any], index: int, message: str,
                 field: str | None = None) -> DatasetError:
    """A :class:`DatasetError` for ``records[index]``, with its line in the file where the file tells it."""
    return DatasetError(source, message, record=index, field=field, line=record_line(source, records, index))


def record_line(source: str, records: Sequence[Any], index: int) -> int | None:
    """The line where ``records[index]`` starts in the file SOURCE, if the built-in reader of that file gives
    exactly RECORDS (a loader hook may have read the file its own way: then None). Only called for an error,
    so reading the file again costs nothing that matters."""
    path = Path(source)
    finder = _LINE_FINDERS.get(path.suffix.lower())
    if finder is None or source.startswith("hf:") or not path.is_file():
        return None
    try:
        if read_file(path) != list(records):
            return None
        starts = finder(read_text(path))
    except (DatasetError, ValueError, csv.Error):
        return None
    return starts[index] if len(starts) == len(records) and 0 <= index < len(starts) else None


def _jsonl_lines(text: str) -> list[int]:
    with io.StringIO(text, newline=None) as fh:
        return [lineno for lineno, line in enumerate(fh, start=1) if line.strip()]


def _csv_lines(text: str) -> list[int]:
    """The first line of each record (a quoted field can span lines; blank lines hold no record)."""
    with io.StringIO(text, newline="") as fh:
        reader = csv.reader(fh)
        if next(reader, None) is None:  # the header
            return []
        starts, previous = [], reader.line_num
        for row in reader:
            if row:
                starts.append(previous + 1)
            previous = reader.line_num
        return starts


def _json_lines(text: str) -> list[int]:
    """The line of each item of a top-level JSON list (none for any other layout)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    decoder, starts, line, last = json.JSONDecoder(), [], 1, 0
    pos = _skip_space(text, 0)
    if not text.startswith("[", pos):
        return []
    pos = _skip_space(text, pos + 1)
    while pos < len(text) and text[pos] != "]":
        line, last = line + text.count("\n", last, pos), pos
        starts.append(line)
        pos = _skip_space(text, decoder.raw_decode(text, pos)[1])
        if not text.startswith(",", pos):
            break
        pos = _skip_space(text, pos + 1)
    return starts


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n":
        pos += 1
    return pos


def read_text(path: Path) -> str:
    """The file as UTF-8 text, without the byte order mark Excel and Notepad write; other encodings are bad
    data that says where."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(str(path), f"not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}); "
                           "save it as UTF-8") from None
    return text.removeprefix("\ufeff")


def _characters(value: Any) -> Any:
    """VALUE with every lone UTF-16 surrogate in its text ("\\ud800" is valid JSON but no character: no
    model, cache or report can take it as UTF-8) replaced by U+FFFD, as in answers."""
    from .models.base import answer_text

    if isinstance(value, str):
        return answer_text(value)
    if isinstance(value, dict):
        return {_characters(k): _characters(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_characters(v) for v in value]
    return value


def _loads(text: str) -> Any:
    data = json.loads(text)
    return _characters(data) if "\\ud" in text.lower() else data  # only an escape can make a surrogate


def _read_json(path: Path) -> list[dict[str, Any]]:
    text = read_text(path)
    if not text.strip():  # an empty file holds no records, as an empty .jsonl or .csv does
        return []
    try:
        data = _loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(str(path), f"invalid JSON ({exc.msg} at column {exc.colno})", line=exc.lineno) from None
    if isinstance(data, Mapping):  # {"data": [...]} style
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) == 1:
            data = lists[0]
    if not isinstance(data, list):
        raise DatasetError(str(path), f"expected a JSON list of objects, got {type(data).__name__}")
    return data


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    with io.StringIO(read_text(path), newline=None) as fh:  # lines end at \n, \r\n or \r, as in a file
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                records.append(_loads(line))
            except json.JSONDecodeError as exc:
                raise DatasetError(str(path), f"invalid JSON ({exc.msg} at column {exc.colno})", line=lineno) from None
    return records


def _read_csv(path: Path) -> list[dict[str, Any]]:
    with io.StringIO(read_text(path), newline="") as fh:
        return [dict(row) for row in csv.DictReader(fh)]


_READERS = {".json": _read_json, ".jsonl": _read_jsonl, ".ndjson": _read_jsonl, ".csv": _read_csv}
_LINE_FINDERS = {".json": _json_lines, ".jsonl": _jsonl_lines, ".ndjson": _jsonl_lines, ".csv": _csv_lines}


def read_file(path: Path) -> list[dict[str, Any]]:
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise DatasetError(str(path), f"unknown file type {path.suffix!r}; accepted: {', '.join(_READERS)}")
    if not path.is_file():
        raise DatasetError(str(path), "file not found")
    return reader(path)


def load_hf(ref: str) -> list[dict[str, Any]]:
    """``hf:NAME[:SPLIT]`` through the datasets library: a hub id, a local data file (json, jsonl, csv,
    parquet), or a folder written by ``save_to_disk``. SPLIT defaults to ``train``."""
    try:
        import datasets
    except ImportError:
        raise pytest.UsageError(f"{ref}: the datasets package is needed: pip install 'pytest-trustllm[datasets]'") from None
    target = ref.removeprefix("hf:")
    name, _, split = target.partition(":")
    split = split or "train"
    try:
        if os.path.isdir(name) and any((Path(name) / f).exists() for f in ("state.json", "dataset_dict.json")):
            ds = datasets.load_from_disk(name)  # a copy saved with save_to_disk (e.g. a downloaded hub dataset)
            if isinstance(ds, datasets.DatasetDict):
                if split not in ds:
                    raise DatasetError(ref, f"no split {split!r}; splits: {', '.join(ds)}")
                ds = ds[split]
        elif os.path.exists(name):
            suffix = Path(name).suffix.lstrip(".").lower()
            builder = {"jsonl": "json", "ndjson": "json"}.get(suffix, suffix)
            ds = datasets.load_dataset(builder, data_files=name, split=split)
        else:  # a hub id: needs the network (or the hub cache) unless HF_HUB_OFFLINE says otherwise
            ds = datasets.load_dataset(name, split=split)
    except DatasetError:
        raise
    except Exception as exc:  # datasets raises many types; the user needs the ref and the reason
        raise DatasetError(ref, f"the datasets library could not load it: {type(exc).__name__}: {exc}") from None
    return [dict(row) for row in ds]


def validate(records: list[Any], source: str, schema: Mapping[str, Any] | None,
             prompt_field: str = "prompt") -> None:
    """Every record must be an object with a non-empty string prompt, and match SCHEMA when given."""
    validator = None
    if schema is not None:
        import jsonschema

        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            where = "/".join(str(p) for p in exc.absolute_path)
            raise DatasetError(source, f"the probe's schema= is not a valid JSON Schema: {exc.message}"
                                       f"{f' (at {where})' if where else ''}") from None
        validator = jsonschema.Draft202012Validator(schema)
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise record_error(source, records, i, f"expected an object, got {type(record).__name__}")
        if validator is not None:
            error = jsonschema_best_error(validator, record)
            if error is not None:
                field = "/".join(str(p) for p in error.absolute_path) or _missing_field(error) or None
                raise record_error(source, records, i, error.message, field=field)
        prompt = record.get(prompt_field)
        if not isinstance(prompt, str) or not prompt.strip():
            problem = "is missing" if prompt_field not in record else "must be a non-empty string"
            raise record_error(source, records, i, f"field {prompt_field!r} {problem}", field=prompt_field)


def jsonschema_best_error(validator, record):
    import jsonschema

    return jsonschema.exceptions.best_match(validator.iter_errors(record))


def _missing_field(error) -> str | None:
    if error.validator == "required":
        for name in error.validator_value:
            if name not in error.instance:
                return name
    return None


class BuiltinLoaders:
    """The built-in ``pytest_trustllm_load_dataset`` implementation (registered as a plugin)."""

    @pytest.hookimpl(trylast=True)
    def pytest_trustllm_load_dataset(self, config: pytest.Config, ref: str):
        if ref.startswith("hf:"):
            return load_hf(ref)
        return read_file(Path(ref))
