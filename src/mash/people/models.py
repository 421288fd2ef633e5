from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class Sex(models.TextChoices):
    # The Children in Need census codes.
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    UNKNOWN = "U", "Not known"


class Ethnicity(models.TextChoices):
    # The Department for Education's ethnicity codes (CIN census).
    WBRI = "WBRI", "White: British"
    WIRI = "WIRI", "White: Irish"
    WIRT = "WIRT", "White: Traveller of Irish heritage"
    WROM = "WROM", "White: Gypsy or Roma"
    WOTH = "WOTH", "White: any other White background"
    MWBC = "MWBC", "Mixed: White and Black Caribbean"
    MWBA = "MWBA", "Mixed: White and Black African"
    MWAS = "MWAS", "Mixed: White and Asian"
    MOTH = "MOTH", "Mixed: any other mixed background"
    AIND = "AIND", "Asian: Indian"
    APKN = "APKN", "Asian: Pakistani"
    ABAN = "ABAN", "Asian: Bangladeshi"
    AOTH = "AOTH", "Asian: any other Asian background"
    BCRB = "BCRB", "Black: Caribbean"
    BAFR = "BAFR", "Black: African"
    BOTH = "BOTH", "Black: any other Black background"
    CHNE = "CHNE", "Chinese"
    OOTH = "OOTH", "Any other ethnic group"
    REFU = "REFU", "Refused"
    NOBT = "NOBT", "Information not yet obtained"


class Address(models.Model):
    line_1 = models.CharField(max_length=200)
    line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return ", ".join(p for p in (self.line_1, self.line_2, self.town, self.postcode) if p)


class Household(models.Model):
    """People who live together at one address."""

    address = models.ForeignKey(Address, on_delete=models.PROTECT, related_name="households")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Household at {self.address}"


class Person(models.Model):
    """A child or adult in the hub's person index."""

    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100, db_index=True)
    date_of_birth = models.DateField(null=True, blank=True, db_index=True)
    expected_date_of_birth = models.DateField(
        null=True, blank=True, help_text="For an unborn child"
    )
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    ethnicity = models.CharField(max_length=4, choices=Ethnicity.choices, default=Ethnicity.NOBT)
    nhs_number = models.CharField("NHS number", max_length=10, null=True, blank=True, unique=True)
    upn = models.CharField("unique pupil number", max_length=13, null=True, blank=True, unique=True)
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    # Phonetic keys of the names (see people/matching.py), kept for fast blocking.
    given_key = models.CharField(max_length=40, blank=True, db_index=True)
    family_key = models.CharField(max_length=40, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name_plural = "people"
        indexes: ClassVar = [
            models.Index(fields=["family_name", "given_name"]),
            models.Index(fields=["family_key", "given_key"]),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~models.Q(
                    date_of_birth__isnull=False, expected_date_of_birth__isnull=False
                ),
                name="people_person_born_or_expected",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def is_unborn(self) -> bool:
        return self.date_of_birth is None and self.expected_date_of_birth is not None

    def age_on(self, day: dt.date) -> int | None:
        if self.date_of_birth is None:
            return None
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class PersonAlias(models.Model):
    """Another name a person is known by (recorded when a contact names them differently)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="aliases")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    given_key = models.CharField(max_length=40, blank=True, db_index=True)
    family_key = models.CharField(max_length=40, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "person aliases"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["person", "given_name", "family_name"], name="people_alias_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"
