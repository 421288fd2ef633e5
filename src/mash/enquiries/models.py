from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from mash.accounts.models import Agency
from mash.contacts.models import Contact
from mash.core.clock import Duration, DurationUnit
from mash.people.models import Person


class Rag(models.TextChoices):
    URGENT = "urgent", "Urgent"
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"


class EnquiryStatus(models.TextChoices):
    AWAITING_CONSENT = "awaiting_consent", "Awaiting consent"
    AWAITING_RATING = "awaiting_rating", "Awaiting rating"
    CHECKS = "checks", "Agency checks"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (
    EnquiryStatus.AWAITING_CONSENT,
    EnquiryStatus.AWAITING_RATING,
    EnquiryStatus.CHECKS,
)


class ClosedAs(models.TextChoices):
    DECIDED = "decided", "Decided"
    TRANSFERRED = "transferred", "Transferred to another authority"


class Enquiry(models.Model):
    """A contact progressed to multi-agency checks."""

    contact = models.OneToOneField(Contact, on_delete=models.PROTECT, related_name="enquiry")
    # When the hub received the contact: a copy of contact.received_at, which is fixed once
    # the contact is submitted (before any enquiry opens). The performance figures time
    # every stage from it; the copy spares them joining every contact (docs/decisions/0020).
    contact_received_at = models.DateTimeField()
    status = models.CharField(
        max_length=20,
        choices=EnquiryStatus.choices,
        default=EnquiryStatus.AWAITING_CONSENT,
        db_index=True,
    )
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    rag = models.CharField(max_length=8, choices=Rag.choices, blank=True, db_index=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    # What the agencies are told so they can search their systems.
    summary_for_agencies = models.TextField(blank=True)
    team = models.ForeignKey(
        "core.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="enquiries"
    )
    proposed_rag = models.CharField(max_length=8, choices=Rag.choices, blank=True)
    proposed_rag_reason = models.TextField(blank=True)
    proposed_rag_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_as = models.CharField(max_length=12, choices=ClosedAs.choices, blank=True)
    # The authority responsible for the children: the hub's own (None) or another.
    responsible_la = models.ForeignKey(
        "core.LocalAuthority",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="responsible local authority",
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ("-opened_at", "-id")
        verbose_name_plural = "enquiries"
        indexes: ClassVar = [models.Index(fields=["status", "rag"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"E-{self.pk:06d}" if self.pk else "E-new"

    @property
    def is_open(self) -> bool:
        return self.status != EnquiryStatus.CLOSED


class ConsentStatus(models.TextChoices):
    GIVEN = "given", "Given"
    REFUSED = "refused", "Refused"
    NOT_SOUGHT = "not_sought", "Not sought"


class Consent(models.Model):
    """Whether the family was told and agreed to information being shared. Latest applies."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="consents")
    status = models.CharField(max_length=12, choices=ConsentStatus.choices)
    given_by = models.CharField("given or refused by", max_length=200, blank=True)
    decided_on = models.DateTimeField("when", null=True, blank=True)
    notes = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("-recorded_at", "-id")

    def __str__(self) -> str:
        return f"{self.enquiry}: consent {self.get_status_display().lower()}"


class OverrideGround(models.TextChoices):
    SIGNIFICANT_HARM = "significant_harm", "The child may be at risk of significant harm"
    GREATER_RISK = (
        "greater_risk",
        ("Seeking consent would place the child or another person at greater risk"),
    )
    PREJUDICE_CRIME = (
        "prejudice_crime",
        ("Seeking consent would prejudice the prevention or detection of a crime"),
    )
    OTHER = "other", "Other (stated)"


class OverrideStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    AUTHORISED = "authorised", "Authorised"
    DECLINED = "declined", "Declined"


class ConsentOverride(models.Model):
    """Checks without consent: proposed by a co-ordinator or manager, authorised by a manager."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="overrides")
    grounds = models.JSONField(default=list)
    other_ground = models.CharField(max_length=500, blank=True)
    justification = models.TextField()
    status = models.CharField(
        max_length=12, choices=OverrideStatus.choices, default=OverrideStatus.PROPOSED
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    declined_reason = models.TextField(blank=True)

    class Meta:
        ordering = ("-proposed_at", "-id")

    def __str__(self) -> str:
        return f"{self.enquiry}: override {self.get_status_display().lower()}"

    @property
    def ground_labels(self) -> list[str]:
        # Grounds are stored sorted, so "other" need not be last: label each in place.
        return [
            f"Other: {self.other_ground}"
            if g == OverrideGround.OTHER and self.other_ground
            else OverrideGround(g).label
            for g in self.grounds
            if g in OverrideGround.values
        ]


class Rating(models.Model):
    """One RAG rating or re-rating of an enquiry; the clock starts (again) at rated_at."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="ratings")
    rag = models.CharField(max_length=8, choices=Rag.choices)
    previous_rag = models.CharField(max_length=8, choices=Rag.choices, blank=True)
    rationale = models.TextField()
    rated_at = models.DateTimeField(default=timezone.now)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("-rated_at", "-id")

    def __str__(self) -> str:
        return f"{self.enquiry}: {self.get_rag_display()}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ANSWERED = "answered", "Answered"
    NOTHING_HELD = "nothing_held", "Nothing held"
    NOT_REQUIRED = "not_required", "Not required"


class AgencyRequest(models.Model):
    """An enquiry's request to one member agency for what it holds, with its deadline."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="requests")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="requests")
    status = models.CharField(
        max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING, db_index=True
    )
    requested_at = models.DateTimeField(default=timezone.now)
    clock_started_at = models.DateTimeField(default=timezone.now)
    deadline_at = models.DateTimeField(db_index=True)
    # When 75% of the time has run (counted as the clock counts): the reminder.
    reminder_at = models.DateTimeField(null=True, blank=True, db_index=True)
    duration_amount = models.PositiveSmallIntegerField()
    duration_unit = models.CharField(max_length=16, choices=DurationUnit.choices)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    not_required_reason = models.TextField(blank=True)
    not_required_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ("deadline_at", "id")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["enquiry", "agency"], name="enquiries_request_once_per_agency"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["agency", "status", "deadline_at"])]

    def __str__(self) -> str:
        return f"{self.enquiry} → {self.agency}"

    @property
    def duration(self) -> Duration:
        return Duration(self.duration_amount, self.duration_unit)

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.PENDING

    def is_overdue(self, at: object = None) -> bool:
        from mash.core import clock

        moment = at or clock.now()
        return self.status == RequestStatus.PENDING and self.deadline_at <= moment  # type: ignore[operator]


class Sensitivity(models.TextChoices):
    SHAREABLE = "shareable", "Shareable with the family"
    PROFESSIONALS = "professionals", "Professionals only"
    MASH_ONLY = "mash_only", "MASH only"


class RiskIndicator(models.TextChoices):
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
    VIOLENCE = "violence", "Violence or threats"
    WEAPONS = "weapons", "Weapons"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"
    MENTAL_HEALTH = "mental_health", "Mental ill-health"
    SEXUAL_HARM = "sexual_harm", "Sexual harm or offending"
    EXPLOITATION = "exploitation", "Exploitation"
    MISSING = "missing", "Missing episodes"
    NEGLECT = "neglect", "Neglect"
    NON_ENGAGEMENT = "non_engagement", "Not engaging with services"
    HOUSING = "housing", "Housing instability"
    OFFENDING = "offending", "Offending history"


class AnswerItem(models.Model):
    """One thing an agency holds, as recorded by its practitioner. Never edited: additions
    are new items."""

    request = models.ForeignKey(AgencyRequest, on_delete=models.CASCADE, related_name="items")
    # The agency that wrote it (the request's), kept here so the sensitivity rule can filter
    # items without a join.
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    summary = models.CharField(max_length=500)
    detail = models.TextField(blank=True)
    risk_indicators = models.JSONField(default=list, blank=True)
    source_reference = models.CharField(
        "reference in the agency's system", max_length=100, blank=True
    )
    sensitivity = models.CharField(max_length=16, choices=Sensitivity.choices)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.summary

    @property
    def risk_indicator_labels(self) -> list[str]:
        return [RiskIndicator(r).label for r in self.risk_indicators if r in RiskIndicator.values]


class Outcome(models.TextChoices):
    SECTION_47 = "s47", "Strategy discussion / section 47 enquiry"
    SECTION_17 = (
        "s17",
        "Referral to children's social care: child and family assessment (section 17)",
    )
    EARLY_HELP = "early_help", "Early help assessment"
    SIGNPOST = "signpost", "Signpost to universal services"
    NFA = "nfa", "No further action"


REFERRAL_OUTCOMES = (Outcome.SECTION_47, Outcome.SECTION_17)


class PrimaryNeed(models.TextChoices):
    N0 = "N0", "N0 Not stated"
    N1 = "N1", "N1 Abuse or neglect"
    N2 = "N2", "N2 Child's disability or illness"
    N3 = "N3", "N3 Parent's disability or illness"
    N4 = "N4", "N4 Family in acute stress"
    N5 = "N5", "N5 Family dysfunction"
    N6 = "N6", "N6 Socially unacceptable behaviour"
    N7 = "N7", "N7 Low income"
    N8 = "N8", "N8 Absent parenting"
    N9 = "N9", "N9 Cases other than children in need"


class Theme(models.TextChoices):
    CSE = "cse", "Child sexual exploitation"
    CCE = "cce", "Child criminal exploitation and county lines"
    TRAFFICKING = "trafficking", "Trafficking and modern slavery"
    FGM = "fgm", "Female genital mutilation"
    PRIVATE_FOSTERING = "private_fostering", "Private fostering"
    RADICALISATION = "radicalisation", "Radicalisation"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
    NEGLECT = "neglect", "Neglect"
    MISSING = "missing", "Missing episodes"
    HONOUR_BASED_ABUSE = "honour_based_abuse", "Honour-based abuse"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"


class Decision(models.Model):
    """The manager's decision for one child on an enquiry. Corrections are amendments."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="decisions")
    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    primary_need = models.CharField(max_length=2, choices=PrimaryNeed.choices)
    rationale = models.TextField()
    next_team = models.CharField("team that acts next", max_length=200)
    lead_professional_agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="For early help: the agency of the lead professional",
    )
    referrer_feedback = models.TextField(blank=True)
    pending_reason = models.TextField(
        blank=True, help_text="Why the decision was made before every agency answered"
    )
    decided_at = models.DateTimeField(default=timezone.now, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("decided_at", "id")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["enquiry", "child"], name="enquiries_decision_once_per_child"
            ),
        ]
        indexes: ClassVar = [
            # A child's earlier referrals, for the re-referral check (people.selectors and
            # the performance dashboard): answered from the index alone.
            models.Index(
                fields=["child", "decided_at", "id"],
                condition=models.Q(outcome__in=REFERRAL_OUTCOMES),
                name="enquiries_referral_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enquiry}: {self.get_outcome_display()}"

    @property
    def is_referral(self) -> bool:
        return self.outcome in REFERRAL_OUTCOMES


class DecisionTheme(models.Model):
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="themes")
    theme = models.CharField(max_length=24, choices=Theme.choices, db_index=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["decision", "theme"], name="enquiries_theme_once"),
        ]

    def __str__(self) -> str:
        return self.get_theme_display()


class DecisionAmendment(models.Model):
    """A correction to a decision: what changed, why, by whom. The decision keeps its history."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="amendments")
    changes = models.JSONField()  # {field: [old, new]}
    reason = models.TextField()
    amended_at = models.DateTimeField(default=timezone.now)
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ("amended_at", "id")

    def __str__(self) -> str:
        return f"Amendment to {self.decision}"


class AlertKind(models.TextChoices):
    REMINDER = "reminder", "Reminder at 75% of the time"
    OVERDUE = "overdue", "Overdue at the deadline"


class RequestAlert(models.Model):
    """That a request's reminder or overdue escalation was raised, once per clock.

    The unique constraint is what makes the sweep safe to run twice or in two
    workers at once: the second insert fails and notifies nobody.
    """

    request = models.ForeignKey(AgencyRequest, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    clock_started_at = models.DateTimeField()
    raised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["request", "kind", "clock_started_at"],
                name="enquiries_alert_once_per_clock",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request}: {self.kind}"


class BoardScreen(models.Model):
    """A wall screen allowed to show the board, by a token only its URL carries."""

    name = models.CharField(max_length=80)
    token_hash = models.CharField(max_length=64, unique=True)
    # The slice this screen shows, as the board's URL query (e.g. "rag=red&agency=3").
    filters = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class EnquiryTransfer(models.Model):
    """An enquiry handed to the authority responsible for the children, and what was sent."""

    enquiry = models.OneToOneField(Enquiry, on_delete=models.PROTECT, related_name="transfer")
    to_la = models.ForeignKey(
        "core.LocalAuthority", on_delete=models.PROTECT, related_name="+", verbose_name="to"
    )
    recipient = models.CharField(max_length=200)  # the team or person it went to
    recipient_email = models.EmailField(blank=True)
    reason = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # SHA-256 of the JSON package as produced, so a copy can be checked later.
    package_sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.enquiry} to {self.to_la}"
