"""The demo hub: agencies, users and a synthetic person index, made through the services.

Everything here is invented (Faker's en_GB locale). NHS numbers are drawn
from the 999 range, which the NHS never issues to patients, and carry valid
check digits; unique pupil numbers carry valid check letters.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from faker import Faker

from mash.accounts import services as account_services
from mash.accounts.models import Agency, AgencyKind, Role, User
from mash.core import clock, demo_front_door, demo_history, local_authorities
from mash.core import services as core_services
from mash.core.models import LocalAuthority
from mash.people import services as people_services
from mash.people.identifiers import nhs_check_digit, upn_check_letter
from mash.people.models import Ethnicity, Sex

HUB_NAME = "Northbridge MASH"
LOCAL_AUTHORITY = "London Borough of Northbridge (demo)"
# A real 3-digit code, so that demo pupil numbers pass check-letter validation.
LA_CODE = "210"
DEFAULT_CONTACTS = 1500
DEFAULT_OPEN = 30
EMAIL_DOMAIN = "mash.example"
POSTCODE_DISTRICTS = ("SE1", "SE5", "SE15", "SE16", "SE17", "SE21", "SE22", "SE24")

# name, name on the wall board, kind, co-located, months since the protocol was signed (all
# before the demo's two years of history begin)
AGENCIES: tuple[tuple[str, str, str, bool, int], ...] = (
    ("Children's Social Care", "CSC", AgencyKind.CHILDRENS_SOCIAL_CARE, True, 60),
    ("Police: Public Protection Unit", "Police", AgencyKind.POLICE, True, 60),
    ("Northbridge University Hospital", "Hospital", AgencyKind.HEALTH_ACUTE, False, 48),
    ("Community Health Services", "Community", AgencyKind.HEALTH_COMMUNITY, True, 48),
    ("GP Federation", "GP", AgencyKind.HEALTH_GP, False, 36),
    ("Health Visiting", "HV", AgencyKind.HEALTH_VISITING, True, 48),
    ("School Nursing", "SN", AgencyKind.HEALTH_SCHOOL_NURSING, False, 40),
    ("Maternity Services", "Maternity", AgencyKind.HEALTH_MATERNITY, False, 30),
    ("Education Safeguarding", "Education", AgencyKind.EDUCATION, True, 60),
    ("Early Years", "Early Years", AgencyKind.EARLY_YEARS, False, 27),
    ("Housing Options", "Housing", AgencyKind.HOUSING, True, 36),
    ("Probation Service", "Probation", AgencyKind.PROBATION, True, 50),
    ("Youth Justice Service", "YJS", AgencyKind.YOUTH_JUSTICE, False, 44),
    ("Adult Mental Health", "AMH", AgencyKind.ADULT_MENTAL_HEALTH, False, 28),
    ("CAMHS", "CAMHS", AgencyKind.CAMHS, False, 29),
    ("Domestic Abuse Service", "DA", AgencyKind.DOMESTIC_ABUSE, True, 26),
)


@dataclass(frozen=True)
class DemoSignIn:
    email: str
    roles: tuple[str, ...]
    agency: str


# The sign-ins printed for newcomers: one per role (and three agencies).
SIGN_INS: tuple[DemoSignIn, ...] = (
    DemoSignIn(f"manager@{EMAIL_DOMAIN}", (Role.HUB_MANAGER,), "Children's Social Care"),
    DemoSignIn(
        f"coordinator@{EMAIL_DOMAIN}", (Role.REFERRAL_COORDINATOR,), "Children's Social Care"
    ),
    DemoSignIn(
        f"police@{EMAIL_DOMAIN}", (Role.AGENCY_PRACTITIONER,), "Police: Public Protection Unit"
    ),
    DemoSignIn(
        f"researcher@{EMAIL_DOMAIN}", (Role.POLICE_RESEARCHER,), "Police: Public Protection Unit"
    ),
    DemoSignIn(f"health@{EMAIL_DOMAIN}", (Role.AGENCY_PRACTITIONER,), "Health Visiting"),
    DemoSignIn(f"education@{EMAIL_DOMAIN}", (Role.AGENCY_PRACTITIONER,), "Education Safeguarding"),
    DemoSignIn(f"adviceline@{EMAIL_DOMAIN}", (Role.ADVICE_LINE_WORKER,), "Children's Social Care"),
    DemoSignIn(f"analyst@{EMAIL_DOMAIN}", (Role.ANALYST,), "Children's Social Care"),
    DemoSignIn(f"admin@{EMAIL_DOMAIN}", (Role.ADMINISTRATOR,), "Children's Social Care"),
)

# Further staff, named by Faker: (roles, agency, how many)
MORE_STAFF: tuple[tuple[tuple[str, ...], str, int], ...] = (
    ((Role.HUB_MANAGER,), "Children's Social Care", 2),
    ((Role.REFERRAL_COORDINATOR,), "Children's Social Care", 4),
    ((Role.ADVICE_LINE_WORKER,), "Children's Social Care", 1),
    ((Role.ANALYST,), "Children's Social Care", 1),
    ((Role.ADMINISTRATOR,), "Children's Social Care", 1),
    ((Role.AGENCY_PRACTITIONER,), "Police: Public Protection Unit", 1),
    ((Role.AGENCY_PRACTITIONER,), "Northbridge University Hospital", 1),
    ((Role.AGENCY_PRACTITIONER,), "Community Health Services", 1),
    ((Role.AGENCY_PRACTITIONER,), "GP Federation", 1),
    ((Role.AGENCY_PRACTITIONER,), "School Nursing", 1),
    ((Role.AGENCY_PRACTITIONER,), "Maternity Services", 1),
    ((Role.AGENCY_PRACTITIONER,), "Education Safeguarding", 1),
    ((Role.AGENCY_PRACTITIONER,), "Early Years", 1),
    ((Role.AGENCY_PRACTITIONER,), "Housing Options", 1),
    ((Role.AGENCY_PRACTITIONER,), "Probation Service", 1),
    ((Role.AGENCY_PRACTITIONER,), "Youth Justice Service", 1),
    ((Role.AGENCY_PRACTITIONER,), "Adult Mental Health", 1),
    ((Role.AGENCY_PRACTITIONER,), "CAMHS", 1),
    ((Role.AGENCY_PRACTITIONER,), "Domestic Abuse Service", 1),
)

ETHNICITY_WEIGHTS = {
    Ethnicity.WBRI: 40,
    Ethnicity.WOTH: 10,
    Ethnicity.WIRI: 2,
    Ethnicity.WROM: 1,
    Ethnicity.MWBC: 4,
    Ethnicity.MWBA: 3,
    Ethnicity.MWAS: 2,
    Ethnicity.MOTH: 3,
    Ethnicity.AIND: 3,
    Ethnicity.APKN: 2,
    Ethnicity.ABAN: 3,
    Ethnicity.AOTH: 2,
    Ethnicity.BCRB: 6,
    Ethnicity.BAFR: 12,
    Ethnicity.BOTH: 2,
    Ethnicity.CHNE: 2,
    Ethnicity.OOTH: 2,
    Ethnicity.NOBT: 1,
}


def is_empty() -> bool:
    return not (User.objects.exists() or Agency.objects.exists())


def demo_sign_ins_present() -> list[DemoSignIn]:
    emails = set(
        User.objects.filter(email__in=[s.email for s in SIGN_INS], is_active=True).values_list(
            "email", flat=True
        )
    )
    return [s for s in SIGN_INS if s.email in emails]


class _Identifiers:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.nhs: set[str] = set()
        self.upn: set[str] = set()

    def nhs_number(self) -> str:
        while True:
            first_nine = "999" + "".join(str(self.rng.randrange(10)) for _ in range(6))
            check = nhs_check_digit(first_nine)
            if check is None:
                continue
            number = f"{first_nine}{check}"
            if number not in self.nhs:
                self.nhs.add(number)
                return number

    def upn_number(self, born: dt.date) -> str:
        while True:
            school = f"{self.rng.randrange(2000, 7000):04d}"
            year = f"{(born.year + 4) % 100:02d}"
            serial = f"{self.rng.randrange(1000):03d}"
            rest = f"{LA_CODE}{school}{year}{serial}"
            number = upn_check_letter(rest) + rest
            if number not in self.upn:
                self.upn.add(number)
                return number


def seed(
    *,
    people: int = 2200,
    seed_value: int = 2026,
    log: Callable[[str], None] = print,
    contacts: int = DEFAULT_CONTACTS,
    open_enquiries: int = DEFAULT_OPEN,
) -> None:
    """Fills an empty database with the demo hub: its agencies and users, a person index,
    two years of contacts and enquiries, and today's open work. All or nothing."""
    with transaction.atomic():
        now = clock.now()
        # The hub went live, and its index was loaded, before the two years of history.
        live_from = now - dt.timedelta(days=demo_history.HISTORY_DAYS + 35)
        # One Faker for the staff and then the index: one seed gives one hub, names and all.
        faker = Faker("en_GB")
        faker.seed_instance(seed_value)
        # The migration loads them; a reset (flush) empties the table, so load them again.
        local_authorities.sync(LocalAuthority)
        with clock.at(live_from):
            _seed_staff(faker, log)
        _seed_index(people, seed_value, faker, log, live_from=live_from, now=now)
        if contacts or open_enquiries:
            demo_history.seed_history(
                contacts=contacts,
                open_enquiries=open_enquiries,
                seed_value=seed_value,
                now=now,
                log=log,
            )
            demo_front_door.seed_front_door(seed_value=seed_value, now=now, log=log)


def _seed_staff(faker: Faker, log: Callable[[str], None]) -> None:
    today = timezone.localdate()
    core_services.update_hub(
        actor=None,
        name=HUB_NAME,
        local_authority_name=LOCAL_AUTHORITY,
        la_code=LA_CODE,
        postcode_areas=" ".join(POSTCODE_DISTRICTS),
    )
    agencies: dict[str, Agency] = {}
    for name, short_name, kind, co_located, months in AGENCIES:
        agencies[name] = account_services.create_agency(
            actor=None,
            name=name,
            short_name=short_name,
            kind=kind,
            co_located=co_located,
            protocol_signed_on=today - dt.timedelta(days=30 * months),
            shared_inbox=f"{name.split(':')[0].lower().replace(' ', '.').replace(chr(39), '')}"
            f"@{EMAIL_DOMAIN}",
        )
    log(f"{len(agencies)} agencies")

    password = settings.MASH_DEMO_PASSWORD
    password_hash = make_password(password)
    staff = 0
    # The first practitioner of each agency leads it (told when its requests are overdue).
    led: set[str] = set()

    def lead(agency_name: str, roles: tuple[str, ...]) -> bool:
        if Role.AGENCY_PRACTITIONER not in roles or agency_name in led:
            return False
        led.add(agency_name)
        return True

    for sign_in in SIGN_INS:
        user = User(email=sign_in.email, full_name=faker.name())
        validate_password(password, user)
        account_services.create_user(
            actor=None,
            email=sign_in.email,
            full_name=user.full_name,
            agency=agencies[sign_in.agency],
            roles=sign_in.roles,
            job_title=Role(sign_in.roles[0]).label,
            is_agency_lead=lead(sign_in.agency, sign_in.roles),
            password_hash=password_hash,
            send_invitation=False,
        )
        staff += 1
    for roles, agency_name, count in MORE_STAFF:
        for _ in range(count):
            first, last = faker.first_name(), faker.last_name()
            email = f"{first}.{last}.{staff}@{EMAIL_DOMAIN}".lower().replace("'", "")
            account_services.create_user(
                actor=None,
                email=email,
                full_name=f"{first} {last}",
                agency=agencies[agency_name],
                roles=roles,
                job_title=Role(roles[0]).label,
                is_agency_lead=lead(agency_name, roles),
                password_hash=password_hash,
                send_invitation=False,
            )
            staff += 1
    log(f"{staff} users")


def _seed_index(
    people: int,
    seed_value: int,
    faker: Faker,
    log: Callable[[str], None],
    *,
    live_from: dt.datetime,
    now: dt.datetime,
) -> None:
    rng = random.Random(seed_value)  # noqa: S311  (invented data, not security)
    today = timezone.localdate()
    coordinator = User.objects.get(email=f"coordinator@{EMAIL_DOMAIN}")
    ids = _Identifiers(rng)
    created = 0
    households = 0
    ethnicities = list(ETHNICITY_WEIGHTS)
    weights = list(ETHNICITY_WEIGHTS.values())
    while created < people:
        family_name = faker.last_name()
        ethnicity = rng.choices(ethnicities, weights)[0]
        members: list[people_services.NewPerson] = []
        adults = rng.choice((1, 1, 2, 2, 2))
        for i in range(adults):
            sex = Sex.FEMALE if i == 0 else Sex.MALE
            born = today - dt.timedelta(days=rng.randrange(19 * 365, 55 * 365))
            given = faker.first_name_female() if sex == Sex.FEMALE else faker.first_name_male()
            members.append(
                people_services.NewPerson(
                    given_name=given,
                    family_name=family_name if i == 0 or rng.random() < 0.6 else faker.last_name(),
                    sex=sex,
                    ethnicity=ethnicity,
                    date_of_birth=born,
                    nhs_number=ids.nhs_number() if rng.random() < 0.9 else "",
                )
            )
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            born = today - dt.timedelta(days=rng.randrange(0, 18 * 365))
            sex = rng.choice((Sex.FEMALE, Sex.MALE))
            given = faker.first_name_female() if sex == Sex.FEMALE else faker.first_name_male()
            school_age = (today - born).days > 4 * 365
            members.append(
                people_services.NewPerson(
                    given_name=given,
                    family_name=family_name,
                    sex=sex,
                    ethnicity=ethnicity,
                    date_of_birth=born,
                    nhs_number=ids.nhs_number() if rng.random() < 0.95 else "",
                    upn=ids.upn_number(born) if school_age and rng.random() < 0.85 else "",
                )
            )
        if rng.random() < 0.05:
            members.append(
                people_services.NewPerson(
                    given_name="Unborn",
                    family_name=family_name,
                    sex=Sex.UNKNOWN,
                    ethnicity=ethnicity,
                    expected_date_of_birth=today + dt.timedelta(days=rng.randrange(14, 250)),
                )
            )
        district = rng.choice(POSTCODE_DISTRICTS)
        postcode = (
            f"{district} {rng.randrange(1, 10)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        )
        with clock.at(_joined(members, households, live_from, now)):
            people_services.create_household(
                actor=coordinator,
                line_1=faker.street_address().replace("\n", ", "),
                town="London",
                postcode=postcode,
                members=members,
            )
        created += len(members)
        households += 1
    log(f"{created} people in {households} households")


def _joined(
    members: list[people_services.NewPerson], n: int, live_from: dt.datetime, now: dt.datetime
) -> dt.datetime:
    """When a household entered the index: at go-live, or (a young family) when the
    midwife first knew of the youngest child, some months before the birth."""
    youngest = max(p.date_of_birth or p.expected_date_of_birth or dt.date.min for p in members)
    known = dt.datetime.combine(
        youngest - dt.timedelta(days=150 + n % 60), dt.time(10, n % 60), tzinfo=clock.LONDON
    )
    loaded = live_from + dt.timedelta(minutes=n % 600)
    return min(max(loaded, known), now - dt.timedelta(days=1 + n % 5, minutes=n % 50))


def sign_in_lines() -> list[str]:
    present = demo_sign_ins_present()
    if not present:
        return []
    lines = [f"Demo sign-ins (password for each: {settings.MASH_DEMO_PASSWORD}):"]
    for s in present:
        role = ", ".join(Role(r).label for r in s.roles)
        lines.append(f"  {role:<24} {s.email:<28} {s.agency}")
    return lines
