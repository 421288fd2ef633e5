"""The OpenAPI schema's front page: what every caller needs before the first request."""

from __future__ import annotations

from typing import Any

DESCRIPTION = """
The API through which a police force's systems send **police notifications** (an
incident with a child present) to the hub's triage queue, and follow where triage
has got to.

## Keys

An administrator of the hub issues a key to your system (under **API keys**
in Mash), names it after the system (for example *Niche RMS*) and gives it
to you once. Send it on every request:

    Authorization: Bearer mash_…

`Token mash_…` is accepted too. A missing, unknown or revoked key is answered
**401**; a key of an agency that is not an active police force, **403**. The hub
keeps only a fingerprint of the key: if it is lost, ask for a new one.

## Requests

JSON in (`Content-Type: application/json`, UTF-8, at most 256 KB) and JSON out.
Dates are `YYYY-MM-DD`; times are ISO 8601 **with their offset** from UTC
(`2026-03-14T21:30:00Z`, `2026-06-14T22:30:00+01:00`): a time without one is
refused, as it is ambiguous when the clocks change.

## Sending again is safe

The occurrence reference is unique per force. If a request times out, send the
same notification again: the hub answers **200** with the notification it first
received and creates nothing. The same reference with different content is a
**409** that gives the id of the one received: contact the hub to correct it.

## Errors

Every error has the same shape:

    {
      "detail": "The request has 2 problems: see errors, by field.",
      "code": "invalid",
      "errors": {
        "dash_risk": ["Enter the DASH risk level for domestic abuse"],
        "children.0.date_of_birth": ["A child must be under 18"]
      }
    }

`detail` is a sentence for a person, `code` a fixed word for a program
(`invalid`, `not_authenticated`, `permission_denied`, `not_found`,
`method_not_allowed`, `conflict`, `payload_too_large`, `unsupported_media_type`,
`server_error`), and `errors` maps each field, by its path, to its problems:
a 400 lists every problem at once. Fields the API does not know are refused,
not ignored, so a misspelt field name is found at once.
"""


def describe(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: adds the description above."""
    result.setdefault("info", {})["description"] = DESCRIPTION.strip()
    return result
