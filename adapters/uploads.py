"""Text files people send Buddy (survey exports), as the adapters fetch them: a size cap, and the
encodings spreadsheets write. Shared by the Slack and Teams adapters."""

from __future__ import annotations

MAX_BYTES = 5 * 1024 * 1024  # a survey export of tens of thousands of people fits easily

TOO_BIG = "That file is over 5 MB. Please split it and send the parts one at a time."
NOT_TEXT = "That file isn't a text (CSV) file. Please export the survey as CSV and send that."


def decode_text(body: bytes) -> tuple[str, str]:
    """(text, "") or ("", why it cannot be read). UTF-8 with or without a BOM, UTF-16 with its BOM
    (Excel's "Unicode text"), or cp1252 (Excel's "CSV" on Windows). A file with NUL bytes is not
    text (once UTF-16 is decoded, which is full of them). Used by both adapters and by
    ``buddybot import``, so every path accepts and refuses the same files with the same words."""
    if len(body) > MAX_BYTES:
        return "", TOO_BIG
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = body.decode("utf-16")
        except UnicodeDecodeError:
            return "", NOT_TEXT
        return ("", NOT_TEXT) if "\x00" in text else (text.lstrip("\ufeff"), "")
    if b"\x00" in body:
        return "", NOT_TEXT
    try:
        return body.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace"), ""  # Excel's "CSV" on Windows
