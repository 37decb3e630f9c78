"""XLSX workbooks for exports, written with openpyxl in write-only mode (rows streamed to the file,
no cell objects kept): sheets of rows of text, numbers and dates.

What a cell cannot hold is made safe here: characters XML forbids are dropped, text is cut at
Excel's 32,767 characters, and dates lose their time zone (Excel has none). Text a spreadsheet
would run as a formula is neutralised by the caller for people reading the file elsewhere; here,
text is stored as text even when it starts with "=" (openpyxl would otherwise store a formula).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

MAX_CELL = 32767  # characters a cell holds
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0


def _cell(sheet: Any, value: object) -> object:
    if isinstance(value, str):
        if not value:
            return None
        value = _ILLEGAL.sub("", value[:MAX_CELL])
        if value.startswith("="):  # text, never a formula
            from openpyxl.cell import WriteOnlyCell

            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            return cell
        return value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of ``[]:*?/\\``."""
    return re.sub(r"[\[\]:*?/\\]", " ", _ILLEGAL.sub("", name))[:31] or "Sheet"


def workbook(sheets: Sequence[tuple[str, Iterable[Sequence[object]]]]) -> bytes:
    """An XLSX file of ``(sheet name, rows)``, the sheets in order."""
    from openpyxl import Workbook  # imported here: only exports need it

    book = Workbook(write_only=True)
    for name, rows in sheets:
        sheet = book.create_sheet(_sheet_name(name))
        for row in rows:
            sheet.append([_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
