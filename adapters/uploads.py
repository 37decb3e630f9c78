"""Text files people send Buddy (survey exports), as the adapters fetch them: a size cap, and the
encodings spreadsheets write. Shared by the Slack and Teams adapters."""

from __future__ import annotations

MAX_BYTES = 5 * 1024 * 1024  # a survey export of tens of thousands of people fits easily

TOO_BIG = "That file is over 5 MB. Please split it and send the parts one at a time."
NOT_TEXT = "That file isn't a text (CSV) file. Please export the survey as CSV and send that."


def decode_text(body: bytes) -> tuple[str, str]:
    """(text, "") or ("", why it cannot be read)."""
    if len(body) > MAX_BYTES:
        return "", TOO_BIG
    if b"\x00" in body[:4096]:
        return "", NOT_TEXT
    try:
        return body.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace"), ""  # Excel's "CSV" on Windows
