"""Files people send Buddy (survey exports), as the adapters and the CLI read them: a size cap, the
encodings spreadsheets write, and Excel workbooks. Shared by the Slack and Teams adapters and by
``buddybot import``, so every way in reads a file the same way.

A workbook (``.xlsx``: Microsoft Forms, SurveyMonkey) becomes CSV text of its first sheet, so the
engine reads one kind of table whatever the survey tool wrote.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, time

MAX_BYTES = 5 * 1024 * 1024  # a survey export of tens of thousands of people fits easily
MAX_SHEET_ROWS = 20_100  # the import's row limit plus headings; more is refused, not truncated

TOO_BIG = "That file is over 5 MB. Please split it and send the parts one at a time."
NOT_TEXT = (
    "That file isn't a CSV or Excel (.xlsx) file. Please export the survey as CSV or Excel and send that."
)
BAD_WORKBOOK = "I couldn't open that Excel file. Please save it again as .xlsx (or CSV) and send that."
TOO_MANY_ROWS = "That workbook has more than 20,000 rows. Please split it and send the parts one at a time."

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_text(body: bytes) -> tuple[str, str]:
    """(text, "") or ("", why it cannot be read). UTF-8 with or without a byte order mark,
    UTF-16 (Excel's "Unicode text"), Windows-1252 (Excel's "CSV" on Windows), or an .xlsx workbook."""
    if len(body) > MAX_BYTES:
        return "", TOO_BIG
    if body.startswith(b"PK\x03\x04"):
        return xlsx_to_csv(body)
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            try:
                text = body.decode(encoding)
            except UnicodeDecodeError:
                return "", NOT_TEXT
            # a file with NUL bytes is not text (once UTF-16 is decoded, which is full of them)
            return ("", NOT_TEXT) if "\x00" in text else (text.lstrip("\ufeff"), "")
    if b"\x00" in body:
        return "", NOT_TEXT
    try:
        return body.decode("utf-8"), ""
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace"), ""


def xlsx_to_csv(body: bytes) -> tuple[str, str]:
    """The first sheet of a workbook as CSV text (dates as ISO 8601, empty cells empty)."""
    from openpyxl import load_workbook  # only when a workbook arrives

    try:
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return "", BAD_WORKBOOK
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return "", BAD_WORKBOOK
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for count, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if count > MAX_SHEET_ROWS:
                return "", TOO_MANY_ROWS
            writer.writerow([_cell(value) for value in row])
        return out.getvalue(), ""
    finally:
        book.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
