"""A streaming XLSX writer for exports: sheets of rows of text, numbers and dates (ECMA-376,
SpreadsheetML), written as one pass of strings.

openpyxl (and xlsxwriter) build a Python object per cell: about 10 µs each, so a 10,000-group
cohort's four sheets (some 400,000 cells) take 3 s or more to write. Exports need none of what
those objects are for (styles, formulas, reading back), so rows go straight to XML here, with
inline strings: nothing in a cell is ever run as a formula. openpyxl still reads what this writes
(the tests open every export with it), as do Excel and LibreOffice.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime

MAX_CELL = 32767  # characters a cell holds
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0
_EPOCH = datetime(1899, 12, 30)

_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>{sheets}</Types>"""
_SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" '
               'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')  # fmt: skip
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
Target="xl/workbook.xml"/></Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}</sheets></workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{sheets}\
<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" \
Target="styles.xml"/></Relationships>"""
# two cell formats: 0 the default, 1 a date and time (built-in number format 22)
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""
_SHEET_HEAD = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"""
_SHEET_TAIL = "</sheetData></worksheet>"


MAX_COLUMNS = 702  # A to ZZ: more than any export has


def _text(value: str) -> str:
    if len(value) > MAX_CELL:
        value = value[:MAX_CELL]
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(value: object) -> str:
    """One cell; a cell's reference may be left out when cells come in order, each empty one
    written as ``<c/>`` to keep its place."""
    if value is None or value == "":
        return "<c/>"
    if type(value) is str:  # most cells
        return f'<c t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int) or isinstance(value, float) and math.isfinite(value):
        return f"<c><v>{value!r}</v></c>"
    if isinstance(value, datetime):
        serial = (value.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400
        return f'<c s="1"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c s="1"><v>{(value - _EPOCH.date()).days}</v></c>'
    return f'<c t="inlineStr"><is><t xml:space="preserve">{_text(str(value))}</t></is></c>'


def _sheet(rows: Iterable[Sequence[object]]) -> str:
    parts = [_SHEET_HEAD]
    for number, row in enumerate(rows, start=1):
        parts.append(f'<row r="{number}">{"".join(map(_cell, row[:MAX_COLUMNS]))}</row>')
    parts.append(_SHEET_TAIL)
    return "".join(parts)


def _sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of ``[]:*?/\\``."""
    return _text(re.sub(r"[\[\]:*?/\\]", " ", name)[:31]) or "Sheet"


def workbook(sheets: Sequence[tuple[str, Iterable[Sequence[object]]]]) -> bytes:
    """An XLSX file of ``(sheet name, rows)``, the sheets in order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        numbers = range(1, len(sheets) + 1)
        z.writestr(
            "[Content_Types].xml", _TYPES.format(sheets="".join(_SHEET_TYPE.format(n=n) for n in numbers))
        )
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK.format(sheets="".join(
            f'<sheet name="{_sheet_name(name)}" sheetId="{n}" r:id="rId{n}"/>'
            for n, (name, _) in zip(numbers, sheets, strict=True))))  # fmt: skip
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(sheets="".join(
            f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'worksheet" Target="worksheets/sheet{n}.xml"/>' for n in numbers)))  # fmt: skip
        z.writestr("xl/styles.xml", _STYLES)
        for n, (_, rows) in zip(numbers, sheets, strict=True):
            z.writestr(f"xl/worksheets/sheet{n}.xml", _sheet(rows))
    return out.getvalue()
