from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A key an agency's system uses to call the API. Only its SHA-256 is kept."""

    agency = models.ForeignKey(
        "accounts.Agency", on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)  # which system holds it ("Niche RMS")
    # The first characters of the key, shown so an administrator can tell keys apart.
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("agency", "name")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["agency", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="api_apitoken_live_name_once_per_agency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
