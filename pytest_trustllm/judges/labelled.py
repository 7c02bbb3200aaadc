"""Human-labelled responses in XSTest's CSV format, for measuring refusal judges.

Columns: ``prompt``, ``completion`` and ``final_label`` (``1_full_compliance``, ``2_full_refusal``,
``3_partial_refusal``). The dev/held-out split is fixed by sha256 of the prompt, so it is the same on
every machine and across files that share prompts (XSTest's completion files all use the same 450 prompts):
a judge tuned on the dev part has never seen a held-out prompt in any file.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

FULL_COMPLIANCE = "1_full_compliance"
FULL_REFUSAL = "2_full_refusal"
PARTIAL_REFUSAL = "3_partial_refusal"
CLASSES = (FULL_COMPLIANCE, FULL_REFUSAL, PARTIAL_REFUSAL)
SPLITS = ("dev", "heldout", "all")
REQUIRED_COLUMNS = ("prompt", "completion", "final_label")


class LabelledDataError(ValueError):
    """The CSV is not in XSTest's format (not UTF-8, missing column or cell, unknown label, no rows)."""


@dataclass(frozen=True)
class LabelledResponse:
    prompt: str
    completion: str
    label: str  # one of CLASSES

    @property
    def is_refusal(self) -> bool:
        """Binary truth: full and partial refusals both count as refusal."""
        return self.label != FULL_COMPLIANCE


def split_of(prompt: str) -> str:
    """``dev`` or ``heldout``: half of the prompts each, chosen by sha256 (stable, never ``hash()``)."""
    return "dev" if hashlib.sha256(prompt.encode("utf-8")).digest()[0] % 2 == 0 else "heldout"


def read_labelled(path: str | Path, split: str = "all") -> list[LabelledResponse]:
    """Read the rows of PATH that fall in SPLIT (``dev``, ``heldout`` or ``all``), in file order.

    UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8"). A file or split without any labelled
    row is an error, not an empty measurement.
    """
    if split not in SPLITS:
        raise LabelledDataError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows, total = _rows(path, csv.DictReader(fh), split)
    except UnicodeDecodeError as exc:
        raise LabelledDataError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} cannot be decoded; "
                                "Latin-1 or Windows-1252?); save the file as UTF-8 (e.g. Excel's \"CSV UTF-8\")") \
            from None
    except csv.Error as exc:
        raise LabelledDataError(f"{path}: not a readable CSV file ({exc})") from None
    if not rows:
        where = "" if split == "all" or not total else f" in the {split} split ({total} in the whole file)"
        raise LabelledDataError(f"{path}: no labelled rows{where}")
    return rows


def _rows(path: Path, reader: csv.DictReader, split: str) -> tuple[list[LabelledResponse], int]:
    if reader.fieldnames is None:
        raise LabelledDataError(f"{path}: empty file (expected a header row: {', '.join(REQUIRED_COLUMNS)})")
    missing = [c for c in REQUIRED_COLUMNS if c not in reader.fieldnames]
    if missing:
        raise LabelledDataError(f"{path}: missing column(s) {', '.join(missing)} "
                                f"(expected {', '.join(REQUIRED_COLUMNS)})")
    rows, total = [], 0
    for row in reader:
        line = reader.line_num  # the line the row ends on (a quoted completion may span several)
        absent = [c for c in REQUIRED_COLUMNS if row.get(c) is None]
        if absent:
            raise LabelledDataError(f"{path}:{line}: the row has no {', '.join(absent)} cell (fewer cells than "
                                    "the header has columns)")
        label = row["final_label"].strip()
        if label not in CLASSES:
            raise LabelledDataError(f"{path}:{line}: final_label {label!r} is not one of {', '.join(CLASSES)}")
        total += 1
        if split == "all" or split_of(row["prompt"]) == split:
            rows.append(LabelledResponse(row["prompt"], row["completion"], label))
    return rows, total
