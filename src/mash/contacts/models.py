from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from mash.people.models import Ethnicity, Person, Sex


class Channel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    ONLINE_FORM = "online_form", "Online form"
    LETTER = "letter", "Letter"
    IN_PERSON = "in_person", "In person"
    POLICE_NOTIFICATION = "police_notification", "Police notification"
    OTHER_LA = "other_la", "Another local authority"


class ReferralSource(models.TextChoices):
    """The Children in Need census's referral source codes."""

    FAMILY = "1A", "1A Individual: family member, relative or carer"
    ACQUAINTANCE = "1B", "1B Individual: acquaintance (including neighbours and friends)"
    SELF = "1C", "1C Individual: self"
    OTHER_INDIVIDUAL = "1D", "1D Individual: other"
    SCHOOLS = "2A", "2A Schools"
    EDUCATION_SERVICES = "2B", "2B Education services"
    GP = "3A", "3A Health services: GP"
    HEALTH_VISITOR = "3B", "3B Health services: health visitor"
    SCHOOL_NURSE = "3C", "3C Health services: school nurse"
    OTHER_PRIMARY_HEALTH = "3D", "3D Health services: other primary health services"
    A_AND_E = "3E", "3E Health services: A&E"
    OTHER_HEALTH = "3F", "3F Health services: other"
    HOUSING = "4", "4 Housing"
    LA_SOCIAL_CARE = "5A", "5A LA services: social care (e.g. adults social care)"
    LA_OTHER_INTERNAL = "5B", "5B LA services: other internal (e.g. youth offending)"
    LA_EXTERNAL = "5C", "5C LA services: external (e.g. from another local authority)"
    EARLY_HELP = "5D", "5D LA services: early help"
    POLICE = "6", "6 Police"
    OTHER_LEGAL = "7", "7 Other legal agency"
    OTHER = "8", "8 Other"
    ANONYMOUS = "9", "9 Anonymous"
    UNKNOWN = "10", "10 Unknown"


class ContactStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    AWAITING_SCREENING = "awaiting_screening", "Awaiting screening"
    SCREENED = "screened", "Screened"


class ScreeningOutcome(models.TextChoices):
    NO_FURTHER_ACTION = "nfa", "No further action"
    ADVICE = "advice", "Advice given"
    SIGNPOSTED = "signposted", "Signposted"
    PROGRESS = "progress", "Progress to MASH enquiry"


class PersonRole(models.TextChoices):
    CHILD = "child", "Child"
    ADULT = "adult", "Adult"


class Relationship(models.TextChoices):
    PARENT = "parent", "Parent"
    STEP_PARENT = "step_parent", "Step-parent"
    CARER = "carer", "Carer"
    PARTNER_OF_PARENT = "partner_of_parent", "Partner of a parent"
    SIBLING = "sibling", "Sibling"
    HOUSEHOLD_MEMBER = "household_member", "Other household member"
    ALLEGED_HARM = "alleged_harm", "Person alleged to cause harm"
    NONE = "none", "No relationship"


class Contact(models.Model):
    """A concern about one or more children reaching the hub's front door."""

    status = models.CharField(
        max_length=24, choices=ContactStatus.choices, default=ContactStatus.DRAFT, db_index=True
    )
    received_at = models.DateTimeField(null=True, blank=True, db_index=True)
    channel = models.CharField(max_length=24, choices=Channel.choices, blank=True)
    referral_source = models.CharField(max_length=3, choices=ReferralSource.choices, blank=True)
    referrer_anonymous = models.BooleanField(default=False)
    referrer_name = models.CharField(max_length=150, blank=True)
    referrer_role = models.CharField(max_length=150, blank=True)
    referrer_organisation = models.CharField(max_length=200, blank=True)
    referrer_phone = models.CharField(max_length=40, blank=True)
    referrer_email = models.EmailField(blank=True)
    concern = models.TextField(blank=True)
    family_told = models.TextField("what the family has been told", blank=True)
    # An incoming transfer (source 5C): the authority that sent it.
    from_local_authority = models.ForeignKey(
        "core.LocalAuthority", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # While a draft, what was typed, exactly as typed (it may not be valid yet).
    draft = models.JSONField(default=dict, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    screening_outcome = models.CharField(
        max_length=16, choices=ScreeningOutcome.choices, blank=True
    )
    screening_reason = models.TextField(blank=True)
    signposted_to = models.CharField(max_length=200, blank=True)
    screened_at = models.DateTimeField(null=True, blank=True)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # Optimistic locking: every change bumps it; a form posts the version it saw.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ("-received_at", "-id")
        indexes: ClassVar = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"C-{self.pk:06d}" if self.pk else "C-new"


class ContactPerson(models.Model):
    """A child or adult named on a contact, as the referrer described them, linked to the index."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="people")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="contact_links")
    role = models.CharField(max_length=8, choices=PersonRole.choices)
    position = models.PositiveSmallIntegerField(default=0)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    expected_date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    ethnicity = models.CharField(max_length=4, choices=Ethnicity.choices, default=Ethnicity.NOBT)
    nhs_number = models.CharField(max_length=10, blank=True)
    upn = models.CharField(max_length=13, blank=True)
    address_line_1 = models.CharField(max_length=200, blank=True)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    school = models.CharField(max_length=200, blank=True)
    gp = models.CharField("GP", max_length=200, blank=True)
    # How the person was matched to the index when linked to an existing record.
    match_score = models.PositiveSmallIntegerField(null=True, blank=True)
    match_reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("contact", "role", "position")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["contact", "person"], name="contacts_contactperson_once_per_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


class ContactRelationship(models.Model):
    """How an adult on a contact relates to one of its children."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="relationships")
    adult = models.ForeignKey(ContactPerson, on_delete=models.CASCADE, related_name="+")
    child = models.ForeignKey(ContactPerson, on_delete=models.CASCADE, related_name="+")
    relationship = models.CharField(max_length=24, choices=Relationship.choices)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["adult", "child"], name="contacts_relationship_once_per_pair"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.adult} is {self.get_relationship_display()} of {self.child}"


# --- Police notifications -----------------------------------------------------------------


class IncidentType(models.TextChoices):
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
    MISSING_CHILD = "missing_child", "Missing child"
    EXPLOITATION = "exploitation", "Child exploitation concern"
    DRUGS = "drugs", "Drugs"
    ANTI_SOCIAL_BEHAVIOUR = "asb", "Anti-social behaviour"
    PARENT_ARRESTED = "parent_arrested", "Arrest of a parent or carer"
    OTHER = "other", "Other"


class DashRisk(models.TextChoices):
    STANDARD = "standard", "Standard"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class ReceivedVia(models.TextChoices):
    API = "api", "The force's system (API)"
    CSV = "csv", "CSV upload"
    MANUAL = "manual", "Entered by hand"


class TriageOutcome(models.TextChoices):
    RECORD_ONLY = "record_only", "Record only (no further action)"
    SHARE_UNIVERSAL = "share_universal", "Share with universal services"
    PROGRESS_CONTACT = "progress_contact", "Progress to a contact"
    ADD_TO_ENQUIRY = "add_to_enquiry", "Add to an open enquiry as information"


class UniversalService(models.TextChoices):
    SCHOOL = "school", "School"
    HEALTH_VISITOR = "health_visitor", "Health visitor"
    SCHOOL_NURSE = "school_nurse", "School nurse"
    GP = "gp", "GP"
    EARLY_YEARS = "early_years", "Early years setting"


class QualityIssue(models.TextChoices):
    CHILD_NOT_IDENTIFIED = "child_not_identified", "Child not identified"
    NO_NARRATIVE = "no_narrative", "No narrative"
    NO_ACCOUNT_OF_CHILD = "no_account_of_child", "No account of the child"
    OTHER = "other", "Other"


class AdultRole(models.TextChoices):
    VICTIM = "victim", "Victim"
    SUSPECT = "suspect", "Suspect"
    WITNESS = "witness", "Witness"
    OTHER = "other", "Other"


class PoliceNotification(models.Model):
    """A police notification of an incident with a child present, awaiting or after triage."""

    force = models.ForeignKey(
        "accounts.Agency", on_delete=models.PROTECT, related_name="police_notifications"
    )
    occurrence_reference = models.CharField(max_length=40)
    incident_at = models.DateTimeField()
    incident_type = models.CharField(max_length=20, choices=IncidentType.choices)
    dash_risk = models.CharField(
        "DASH risk level", max_length=8, choices=DashRisk.choices, blank=True
    )
    location = models.CharField(max_length=300, blank=True)
    narrative = models.TextField(blank=True)
    officer_name = models.CharField(max_length=150, blank=True)
    officer_collar_number = models.CharField(max_length=20, blank=True)
    officer_team = models.CharField(max_length=100, blank=True)

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    received_via = models.CharField(max_length=8, choices=ReceivedVia.choices)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    api_token = models.ForeignKey(
        "api.ApiToken", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # SHA-256 of the notification's content as sent, to tell a replay from a conflict.
    content_hash = models.CharField(max_length=64)
    # When the children were last matched to the person index (None: not yet).
    matched_at = models.DateTimeField(null=True, blank=True)

    outcome = models.CharField(max_length=20, choices=TriageOutcome.choices, blank=True)
    outcome_reason = models.TextField(blank=True)
    shared_with = models.JSONField(default=list, blank=True)  # UniversalService values
    shared_with_detail = models.CharField(max_length=300, blank=True)
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="police_notifications",
    )
    enquiry = models.ForeignKey(
        "enquiries.Enquiry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="police_notifications",
    )
    triaged_at = models.DateTimeField(null=True, blank=True, db_index=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    quality_issue = models.CharField(max_length=24, choices=QualityIssue.choices, blank=True)
    quality_note = models.TextField(blank=True)
    quality_marked_at = models.DateTimeField(null=True, blank=True)
    quality_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ("received_at", "id")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["force", "occurrence_reference"],
                name="contacts_policenotification_once_per_force",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["outcome", "received_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"PN-{self.pk:06d}" if self.pk else "PN-new"

    @property
    def is_triaged(self) -> bool:
        return bool(self.outcome)


class NotificationChild(models.Model):
    """A child present at a police incident, as the officer recorded them."""

    notification = models.ForeignKey(
        PoliceNotification, on_delete=models.CASCADE, related_name="children"
    )
    position = models.PositiveSmallIntegerField(default=0)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    seen = models.BooleanField(null=True, blank=True)
    spoken_to = models.BooleanField(null=True, blank=True)
    # The person index record the child matched (automatically or by the researcher).
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="police_notification_links",
    )
    match_score = models.PositiveSmallIntegerField(null=True, blank=True)
    match_reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("notification", "position")

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip() or "Name not known"


class NotificationAdult(models.Model):
    """An adult involved in a police incident, and their part in it."""

    notification = models.ForeignKey(
        PoliceNotification, on_delete=models.CASCADE, related_name="adults"
    )
    position = models.PositiveSmallIntegerField(default=0)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    role = models.CharField(max_length=8, choices=AdultRole.choices)

    class Meta:
        ordering = ("notification", "position")

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}".strip() or "Name not known"


# --- The professionals' advice line -------------------------------------------------------


class ConsultationOutcome(models.TextChoices):
    ADVICE_ONLY = "advice_only", "Advice only"
    EARLY_HELP = "early_help", "Early help assessment recommended"
    CONTACT = "contact", "Progressed to a contact"


class Consultation(models.Model):
    """A call to the professionals' advice line: who called, about what, and the advice given."""

    called_at = models.DateTimeField(default=timezone.now, db_index=True)
    caller_name = models.CharField(max_length=150)
    caller_role = models.CharField(max_length=150, blank=True)
    caller_agency = models.CharField(max_length=200)
    # The kind of agency the caller works for, for the monthly figures.
    caller_agency_kind = models.CharField(max_length=32, blank=True)  # accounts.AgencyKind
    caller_phone = models.CharField(max_length=40, blank=True)
    caller_email = models.EmailField(blank=True)
    # The child, if the caller named one; linked to the person index when matched.
    child_given_name = models.CharField(max_length=100, blank=True)
    child_family_name = models.CharField(max_length=100, blank=True)
    child_date_of_birth = models.DateField(null=True, blank=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="consultations"
    )
    worry = models.TextField()
    advice = models.TextField()
    outcome = models.CharField(max_length=12, choices=ConsultationOutcome.choices)
    # For an early help recommendation: the support offered to start one.
    early_help_support = models.TextField(blank=True)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="consultations"
    )
    follow_up_on = models.DateField(null=True, blank=True, db_index=True)
    follow_up_done_at = models.DateTimeField(null=True, blank=True)
    follow_up_note = models.TextField(blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ("-called_at", "-id")

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"AL-{self.pk:06d}" if self.pk else "AL-new"
