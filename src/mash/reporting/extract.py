"""The pseudonymised extract: one CSV row per child per decision, for analysts.

No names, no full dates, no references, no addresses: a pseudonym instead of the child
(the first 16 hex characters of HMAC-SHA256 of the person's id, keyed by the hub's
secret, so the same child has the same pseudonym in every extract and no one without the
secret can work back from it), the month and year of birth, the postcode district, and
the decision's codes and themes. The hub's secret (PseudonymKey) is made, securely
random, the first time an extract is made, and kept ever after.

Rows are streamed: the decisions are read `CHUNK` at a time, with their themes fetched
once per chunk, so memory and the number of queries grow with chunks, not rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import secrets
from collections.abc import Iterator
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch

from mash.core import audit, clock
from mash.core.models import Hub
from mash.core.spreadsheet import safe_cell as csv_safe
from mash.enquiries.models import DecisionTheme
from mash.reporting import performance
from mash.reporting.models import Export, PseudonymKey
from mash.reporting.performance import Period
from mash.reporting.themes import decisions_in, with_district

CHUNK = 2000
PSEUDONYM_LENGTH = 16
HEADER = [
    "pseudonym",
    "birth_month",
    "unborn",
    "sex",
    "ethnicity",
    "postcode_district",
    "referral_source",
    "rag",
    "outcome",
    "primary_need",
    "themes",
    "decision_month",
]


# --- The hub's secret ---------------------------------------------------------------------------


def _first_key() -> str | None:
    return PseudonymKey.objects.order_by("pk").values_list("key", flat=True).first()


def pseudonym_key() -> bytes:
    """The hub's pseudonym secret: made (securely random, audited) on first use, then kept."""
    key = _first_key()
    if key is None:
        with transaction.atomic():
            # The hub's row is the lock: two first extracts at once make one key.
            Hub.objects.select_for_update().filter(pk=Hub.load().pk).first()
            key = _first_key()
            if key is None:
                made = PseudonymKey.objects.create(
                    key=secrets.token_hex(32), created_at=clock.now()
                )
                audit.record(action="reporting.pseudonym_key_created", actor=None, obj=made)
                key = made.key
    return bytes.fromhex(key)


def pseudonym(key: bytes, person_id: int) -> str:
    """The child's stable pseudonym under this key."""
    digest = hmac.new(key, str(person_id).encode("ascii"), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_LENGTH]


# --- The rows -----------------------------------------------------------------------------------


def _decisions(period: Period) -> Any:
    return (
        with_district(decisions_in(period))
        .select_related("child", "enquiry__contact")
        .only(
            "id",
            "outcome",
            "primary_need",
            "decided_at",
            "child_id",
            "enquiry_id",
            "child__date_of_birth",
            "child__expected_date_of_birth",
            "child__sex",
            "child__ethnicity",
            "enquiry__rag",
            "enquiry__contact_id",
            "enquiry__contact__referral_source",
        )
        .prefetch_related(
            Prefetch("themes", queryset=DecisionTheme.objects.only("decision_id", "theme"))
        )
        .order_by("decided_at", "pk")
    )


def count(period: Period) -> int:
    return decisions_in(period).count()


def rows(period: Period, key: bytes) -> Iterator[list[str]]:
    """One list of cells per decision in the period (see HEADER), oldest first."""
    for decision in _decisions(period).iterator(chunk_size=CHUNK):
        child = decision.child
        decided_on = clock.localtime(decision.decided_at).date()
        born = child.date_of_birth or child.expected_date_of_birth
        unborn = (child.date_of_birth is None and child.expected_date_of_birth is not None) or (
            child.date_of_birth is not None and child.date_of_birth > decided_on
        )
        themes = sorted(t.theme for t in decision.themes.all())
        cells = [
            pseudonym(key, child.pk),
            f"{born:%Y-%m}" if born else "",
            "yes" if unborn else "",
            child.sex,
            child.ethnicity,
            decision.district,
            decision.enquiry.contact.referral_source,
            decision.enquiry.rag,
            decision.outcome,
            decision.primary_need,
            ";".join(themes),
            f"{decided_on:%Y-%m}",
        ]
        yield [csv_safe(str(cell)) for cell in cells]


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream(period: Period, key: bytes) -> Iterator[str]:
    """The CSV text, a batch of rows at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    batch: list[str] = []
    for row in rows(period, key):
        batch.append(writer.writerow(row))
        if len(batch) >= 500:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def file_name(period: Period) -> str:
    return f"pseudonymised-extract-{period.first.isoformat()}-to-{period.last.isoformat()}.csv"


def record_download(*, actor: Any, period: Period) -> None:
    """Audits that someone took the extract (before it is streamed to them)."""
    audit.record(
        action="reporting.pseudonymised_extract",
        actor=actor,
        object_type="reporting.extract",
        detail={"from": period.first.isoformat(), "to": period.last.isoformat()},
    )


# --- As a background export (mash.reporting.exports) --------------------------------------------


def check_parameters(parameters: dict[str, Any]) -> dict[str, str]:
    """{"from": ISO date, "to": ISO date}, checked like the page's form."""
    errors: dict[str, str] = {}
    days: dict[str, dt.date] = {}
    for name, missing in (
        ("from", "Enter the date the period starts"),
        ("to", "Enter the date the period ends"),
    ):
        value = str(parameters.get(name) or "")[:10]
        if not value:
            errors[name] = missing
            continue
        try:
            days[name] = dt.date.fromisoformat(value)
        except ValueError:
            errors[name] = "Enter a real date"
    if not errors:
        today = clock.localtime(clock.now()).date()
        first, last = days["from"], days["to"]
        if first < performance.EARLIEST:
            errors["from"] = "The date the period starts must be 1 January 2000 or later"
        elif last > today:
            errors["to"] = "The date the period ends must be today or in the past"
        elif last < first:
            errors["to"] = "The date the period ends must be on or after the date it starts"
        elif last >= performance.add_years(first, performance.MAX_YEARS):
            errors["to"] = f"The period must be {performance.MAX_YEARS} years or shorter"
    if errors:
        raise ValidationError(errors)
    return {"from": days["from"].isoformat(), "to": days["to"].isoformat()}


def write_csv(export: Export, out: IO[bytes], progress: Any) -> None:
    """The exporter for ExportKind.PSEUDONYMISED: the CSV, written to `out`."""
    checked = check_parameters(export.parameters)
    period = Period(dt.date.fromisoformat(checked["from"]), dt.date.fromisoformat(checked["to"]))
    total = count(period)
    progress(0, total)
    key = pseudonym_key()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    done = 0
    for row in rows(period, key):
        writer.writerow(row)
        done += 1
        if done % CHUNK == 0:
            out.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
            progress(done, total)
    out.write(buffer.getvalue().encode("utf-8"))
    progress(done, max(total, done))
