from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class ExportKind(models.TextChoices):
    CIN_CENSUS = "cin_census", "Children in Need census (XML)"
    ANNEX_A_XLSX = "annex_a_xlsx", "Ofsted Annex A (XLSX)"
    ANNEX_A_CSV = "annex_a_csv", "Ofsted Annex A (CSV, zipped)"
    PSEUDONYMISED = "pseudonymised", "Pseudonymised extract (CSV)"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Export(models.Model):
    """A large export made in the background: its progress, then its file to download."""

    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    # What was asked for: the census year, a date range... (validated before queueing).
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED, db_index=True
    )
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    # The finished file, under settings.MASH_EXPORT_DIR, named by the export's id.
    file_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    # Why it failed, in words the user can act on (never a traceback).
    problem = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class WardLookup(models.Model):
    """A postcode's electoral ward, loaded by the hub from a postcode-to-ward CSV."""

    postcode = models.CharField(max_length=8, unique=True)  # upper case, no space
    ward_code = models.CharField(max_length=9)
    ward_name = models.CharField(max_length=100)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["ward_code"])]

    def __str__(self) -> str:
        return f"{self.postcode}: {self.ward_name}"


class PseudonymKey(models.Model):
    """The hub's secret for stable pseudonyms in extracts: one row, made on first use."""

    key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return "Pseudonym key"
