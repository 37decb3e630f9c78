"""An invoke answer's body as JSON-ready data: shared by the HTTP endpoint (which writes it) and the
bot (which records it so a retried invoke gets the same answer). A leaf: it imports no other module
of the adapter, so neither of those two has to import the other for it."""

from __future__ import annotations

from typing import Any

from botbuilder.core import InvokeResponse, serializer_helper
from msrest.serialization import Model


def invoke_body(response: InvokeResponse | Any) -> Any:
    """The body of ``response`` (or ``response`` itself) as plain data: botbuilder models are
    serialised with their wire names; dicts and other plain values pass through."""
    body = getattr(response, "body", response)
    if isinstance(body, Model):
        return serializer_helper(body)
    return body
