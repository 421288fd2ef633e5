from __future__ import annotations

from typing import Any, ClassVar

import rules
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property


class AgencyKind(models.TextChoices):
    CHILDRENS_SOCIAL_CARE = "childrens_social_care", "Children's social care"
    POLICE = "police", "Police"
    HEALTH_ACUTE = "health_acute", "Health: acute (hospital)"
    HEALTH_COMMUNITY = "health_community", "Health: community"
    HEALTH_GP = "health_gp", "Health: GP"
    HEALTH_VISITING = "health_visiting", "Health: health visiting"
    HEALTH_SCHOOL_NURSING = "health_school_nursing", "Health: school nursing"
    HEALTH_MATERNITY = "health_maternity", "Health: maternity"
    EDUCATION = "education", "Education"
    EARLY_YEARS = "early_years", "Early years"
    HOUSING = "housing", "Housing"
    PROBATION = "probation", "Probation"
    YOUTH_JUSTICE = "youth_justice", "Youth justice"
    ADULT_MENTAL_HEALTH = "adult_mental_health", "Adult mental health"
    CAMHS = "camhs", "Child and adolescent mental health"
    AMBULANCE = "ambulance", "Ambulance"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse services"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse services"
    OTHER = "other", "Other"


class Agency(models.Model):
    """A member agency of the hub."""

    name = models.CharField(max_length=120, unique=True)
    # What the wall board calls the agency in its narrow column (e.g. "HV").
    short_name = models.CharField(max_length=12, blank=True)
    kind = models.CharField(max_length=32, choices=AgencyKind.choices)
    protocol_signed_on = models.DateField(
        "information-sharing protocol signed on", null=True, blank=True
    )
    co_located = models.BooleanField(
        default=True, help_text="Co-located in the hub's office, or virtual."
    )
    shared_inbox = models.EmailField("shared inbox", blank=True)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name

    @property
    def board_name(self) -> str:
        return self.short_name or self.name[:12]


class Role(models.TextChoices):
    HUB_MANAGER = "hub_manager", "Hub manager"
    REFERRAL_COORDINATOR = "referral_coordinator", "Referral co-ordinator"
    AGENCY_PRACTITIONER = "agency_practitioner", "Agency practitioner"
    POLICE_RESEARCHER = "police_researcher", "Police researcher"
    ADVICE_LINE_WORKER = "advice_line_worker", "Advice-line worker"
    ANALYST = "analyst", "Analyst"
    ADMINISTRATOR = "administrator", "Administrator"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        # A platform superuser is for the Django admin in an emergency; it
        # holds no hub role and so sees no case data.
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("full_name", "Platform superuser")
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Someone who signs in: one agency, one or more roles. Never deleted, only deactivated."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150)
    job_title = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    is_active = models.BooleanField("active", default=True)
    # The agency's lead is told when one of its requests becomes overdue.
    is_agency_lead = models.BooleanField("lead for their agency", default=False)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ("full_name",)
        constraints: ClassVar = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    @cached_property
    def roles(self) -> frozenset[str]:
        if self.pk is None:
            return frozenset()
        return frozenset(grant.role for grant in self.role_grants.all())

    def is_verified(self) -> bool:
        """Whether this session passed a second factor; django-otp's middleware replaces it."""
        return False

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        # The hub's own rules ask about roles only: a platform superuser holds no
        # role and so is refused them like anyone else. Django's superuser
        # shortcut still applies to the Django admin's model permissions.
        if rules.perm_exists(perm):
            return self.is_active and rules.has_perm(perm, self, obj)
        return super().has_perm(perm, obj)

    def has_role(self, *roles: str) -> bool:
        return self.is_active and any(role in self.roles for role in roles)

    @property
    def role_labels(self) -> list[str]:
        return [Role(role).label for role in Role.values if role in self.roles]


class UserRole(models.Model):
    """One role held by one user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=32, choices=Role.choices)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "role"], name="accounts_userrole_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user.email}: {self.get_role_display()}"
