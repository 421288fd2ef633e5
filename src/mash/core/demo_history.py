"""Two years of the demo hub's work, made through the services by the demo's own users.

Every contact, screening, consent, override, rating, agency answer and
decision is recorded by calling the same service a user's click would call,
acting as one of the demo's co-ordinators, managers or agency practitioners,
with the clock set (`clock.at`) to the moment it happened. So every rule is
obeyed and every audit event is written, as in real use.

The plan is drawn first (pure Python, from one seeded random generator), as a
list of timed steps; the steps then run in time order. History is anchored to
the start of today, so one seed gives the same hub all day; the open
enquiries are anchored to the real now, so their clocks are live on first run.

Everything is invented: people come from the synthetic person index,
referrers and staff from Faker's en_GB locale, concerns from templates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import itertools
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch
from faker import Faker

from mash.accounts.models import Agency, AgencyKind, Role, User
from mash.contacts import services as contact_services
from mash.contacts.models import Channel, Contact, PersonRole, ReferralSource, Relationship
from mash.contacts.models import ScreeningOutcome as Screening
from mash.core import clock
from mash.core.models import Hub, LocalAuthority
from mash.enquiries import services as enquiry_services
from mash.enquiries.models import (
    AgencyRequest,
    ConsentOverride,
    ConsentStatus,
    Decision,
    Enquiry,
    Outcome,
    OverrideGround,
    PrimaryNeed,
    Rag,
    RiskIndicator,
    Sensitivity,
    Theme,
)
from mash.people import matching
from mash.people.models import Person, PersonAlias, Sex

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
HISTORY_DAYS = 730
# Where transfers in come from: the demo hub's neighbours (Greenwich, Lambeth, Lewisham,
# Bromley, Croydon), by the Department for Education's codes.
NEIGHBOUR_LA_CODES = ("203", "208", "209", "305", "306")
RE_REFERRAL_WINDOW = dt.timedelta(days=365)

# --------------------------------------------------------------------------------------
# Where contacts come from: the Children in Need referral source, how often, and how it
# usually reaches the hub.
# --------------------------------------------------------------------------------------

SOURCE_WEIGHTS: dict[str, float] = {
    ReferralSource.POLICE: 25,
    ReferralSource.SCHOOLS: 18,
    ReferralSource.EDUCATION_SERVICES: 2,
    ReferralSource.GP: 4,
    ReferralSource.HEALTH_VISITOR: 3,
    ReferralSource.SCHOOL_NURSE: 1,
    ReferralSource.OTHER_PRIMARY_HEALTH: 1.5,
    ReferralSource.A_AND_E: 3,
    ReferralSource.OTHER_HEALTH: 2.5,
    ReferralSource.FAMILY: 5,
    ReferralSource.ACQUAINTANCE: 3,
    ReferralSource.SELF: 1,
    ReferralSource.OTHER_INDIVIDUAL: 1,
    ReferralSource.HOUSING: 3,
    ReferralSource.LA_SOCIAL_CARE: 3,
    ReferralSource.LA_OTHER_INTERNAL: 3,
    ReferralSource.LA_EXTERNAL: 3,
    ReferralSource.EARLY_HELP: 4,
    ReferralSource.OTHER_LEGAL: 2,
    ReferralSource.OTHER: 2,
    ReferralSource.ANONYMOUS: 2,
    ReferralSource.UNKNOWN: 1,
}

# The children a source refers (years): schools and school nurses school-age children,
# health visitors the under-fives.
SOURCE_AGES: dict[str, tuple[int, int]] = {
    ReferralSource.SCHOOLS: (4, 17),
    ReferralSource.EDUCATION_SERVICES: (4, 17),
    ReferralSource.SCHOOL_NURSE: (4, 17),
    ReferralSource.HEALTH_VISITOR: (0, 4),
}
NEUTRAL_SOURCES = (ReferralSource.POLICE, ReferralSource.FAMILY, ReferralSource.GP)

# Which of a theme's concern templates fits a source.
VOICE: dict[str, str] = {
    ReferralSource.POLICE: "police",
    ReferralSource.SCHOOLS: "school",
    ReferralSource.EDUCATION_SERVICES: "school",
    ReferralSource.SCHOOL_NURSE: "school",
    ReferralSource.GP: "health",
    ReferralSource.HEALTH_VISITOR: "health",
    ReferralSource.OTHER_PRIMARY_HEALTH: "health",
    ReferralSource.A_AND_E: "health",
    ReferralSource.OTHER_HEALTH: "health",
    ReferralSource.LA_SOCIAL_CARE: "health",
    ReferralSource.FAMILY: "family",
    ReferralSource.ACQUAINTANCE: "family",
    ReferralSource.SELF: "family",
    ReferralSource.OTHER_INDIVIDUAL: "family",
    ReferralSource.ANONYMOUS: "family",
    ReferralSource.UNKNOWN: "family",
    ReferralSource.HOUSING: "housing",
}

CHANNELS: dict[str, dict[str, float]] = {
    "police": {Channel.POLICE_NOTIFICATION: 80, Channel.EMAIL: 14, Channel.PHONE: 6},
    "school": {Channel.ONLINE_FORM: 45, Channel.PHONE: 35, Channel.EMAIL: 20},
    "health": {Channel.PHONE: 45, Channel.EMAIL: 28, Channel.ONLINE_FORM: 22, Channel.LETTER: 5},
    "family": {Channel.PHONE: 78, Channel.ONLINE_FORM: 14, Channel.IN_PERSON: 6, Channel.LETTER: 2},
    "other_la": {Channel.OTHER_LA: 88, Channel.EMAIL: 12},
    "any": {Channel.EMAIL: 40, Channel.PHONE: 38, Channel.ONLINE_FORM: 20, Channel.LETTER: 2},
}

# Which themes each source tends to raise (weights).
THEMES_BY_SOURCE: dict[str, dict[str, float]] = {
    ReferralSource.POLICE: {
        "domestic_abuse": 55,
        "missing": 12,
        "substance": 8,
        "knife": 7,
        "online": 4,
        "neglect": 6,
        "injury": 3,
        "mental_health": 5,
    },
    ReferralSource.SCHOOLS: {
        "injury": 20,
        "neglect": 15,
        "domestic_abuse": 10,
        "missing": 8,
        "online": 8,
        "family_stress": 12,
        "private_fostering": 4,
        "fgm": 3,
        "radicalisation": 3,
        "forced_marriage": 2,
        "sexual_abuse": 4,
        "knife": 4,
        "mental_health": 4,
        "substance": 3,
    },
    ReferralSource.EDUCATION_SERVICES: {"neglect": 40, "family_stress": 40, "missing": 20},
    ReferralSource.GP: {
        "mental_health": 30,
        "domestic_abuse": 20,
        "neglect": 15,
        "substance": 15,
        "injury": 10,
        "family_stress": 10,
    },
    ReferralSource.HEALTH_VISITOR: {
        "neglect": 35,
        "mental_health": 25,
        "injury": 15,
        "domestic_abuse": 15,
        "family_stress": 10,
    },
    ReferralSource.SCHOOL_NURSE: {
        "fgm": 25,
        "neglect": 25,
        "sexual_abuse": 10,
        "injury": 20,
        "family_stress": 20,
    },
    ReferralSource.OTHER_PRIMARY_HEALTH: {
        "family_stress": 40,
        "neglect": 30,
        "mental_health": 30,
    },
    ReferralSource.A_AND_E: {
        "injury": 50,
        "mental_health": 25,
        "substance": 15,
        "domestic_abuse": 10,
    },
    ReferralSource.OTHER_HEALTH: {
        "substance": 30,
        "mental_health": 30,
        "domestic_abuse": 20,
        "fgm": 10,
        "neglect": 10,
    },
    ReferralSource.HOUSING: {"neglect": 50, "family_stress": 40, "domestic_abuse": 10},
    ReferralSource.LA_SOCIAL_CARE: {"mental_health": 40, "substance": 30, "domestic_abuse": 30},
    ReferralSource.LA_OTHER_INTERNAL: {"knife": 50, "missing": 50},
    ReferralSource.LA_EXTERNAL: {
        "domestic_abuse": 30,
        "neglect": 30,
        "missing": 20,
        "family_stress": 20,
    },
    ReferralSource.EARLY_HELP: {"family_stress": 40, "neglect": 40, "domestic_abuse": 20},
    ReferralSource.OTHER_LEGAL: {"domestic_abuse": 60, "neglect": 40},
    ReferralSource.OTHER: {
        "radicalisation": 10,
        "missing": 30,
        "family_stress": 30,
        "neglect": 30,
    },
    ReferralSource.FAMILY: {
        "domestic_abuse": 35,
        "neglect": 25,
        "online": 15,
        "missing": 15,
        "family_stress": 10,
    },
    ReferralSource.ACQUAINTANCE: {"neglect": 60, "domestic_abuse": 30, "substance": 10},
    ReferralSource.OTHER_INDIVIDUAL: {"neglect": 60, "domestic_abuse": 30, "substance": 10},
    ReferralSource.ANONYMOUS: {"neglect": 60, "domestic_abuse": 30, "substance": 10},
    ReferralSource.SELF: {"family_stress": 80, "domestic_abuse": 20},
    ReferralSource.UNKNOWN: {"neglect": 50, "domestic_abuse": 50},
}


# --------------------------------------------------------------------------------------
# Themes: what the concern is about, who it is about, how serious it tends to be, and how
# referrers put it. Placeholders are filled from the family on the contact.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeSpec:
    key: str
    label: str  # as a manager would write it in a rationale
    themes: tuple[str, ...]
    needs: tuple[str, ...]
    ages: tuple[int, int]  # the subject child's age range (years, inclusive)
    siblings: float  # chance the other children of the household are named too
    rag: tuple[float, float, float, float]  # urgent, red, amber, green
    progress: float  # chance screening progresses it to a MASH enquiry
    consent: float  # chance the family's consent is sought and given
    grounds: tuple[str, ...]
    concerns: dict[str, tuple[str, ...]]  # voice -> templates
    summary: str
    reason: str  # why a screener progresses it
    sex: str = ""
    pregnancy: float = 0.0  # chance the mother is pregnant (an unborn child on the contact)
    new_adult: str = ""  # "alleged" or "carer": an adult not in the index is named


THEME_SPECS: tuple[ThemeSpec, ...] = (
    ThemeSpec(
        key="domestic_abuse",
        label="domestic abuse in the household",
        themes=(Theme.DOMESTIC_ABUSE,),
        needs=(PrimaryNeed.N1, PrimaryNeed.N1, PrimaryNeed.N5),
        ages=(0, 17),
        siblings=1.0,
        rag=(2, 20, 50, 28),
        progress=0.5,
        consent=0.6,
        grounds=(OverrideGround.GREATER_RISK, OverrideGround.SIGNIFICANT_HARM),
        pregnancy=0.1,
        new_adult="alleged",
        concerns={
            "police": (
                "Police attended the family home at about {time} on {weekday} after a neighbour "
                "called 999 reporting shouting and a woman screaming. {mother} had a cut lip and "
                "said {partner} had pushed her into the kitchen door during an argument about "
                "money. {kids} {were} in the home; {child} was found hiding in {his} bedroom and "
                'told officers "{da_quote}". {partner} was arrested for assault and released '
                "under investigation. DASH risk assessment: {dash} risk.",
                "Domestic incident on {weekday} evening. {mother} called police to say {partner} "
                "had come back to the address drunk, smashed the television and threatened to "
                '"end" her. {kids} {were} present. {partner} left before officers arrived and '
                "has not been located. {mother} said this is the third incident this month but "
                "did not want to make a statement. DASH: {dash} risk.",
                "Verbal argument between {mother} and {partner} reported by {mother} at {time} on "
                "{weekday}. No injuries and no offences disclosed. {kids} {were} in bed upstairs "
                "at the time. Both calm when officers arrived; {partner} agreed to stay with a "
                "relative overnight. DASH: {dash} risk.",
                "[6-17] Officers called to a disturbance at the address on {weekday}. {mother} had "
                "bruising to her neck and said {partner} had held her against the wall while "
                "{child} ({age}) tried to pull him away. {partner} was arrested for "
                "non-fatal strangulation and remains in custody. DASH: {dash} risk.",
            ),
            "school": (
                "[4-17] "
                "{child} ({age}) told {his} class teacher this morning that {he} did not sleep "
                'because "Mummy and {partner} were fighting again and there was lots of '
                'banging". {child} said {partner} "hurt Mummy\'s arm". {child} was tired and '
                "tearful all morning. We have not spoken to the parents yet.",
                "[4-17] "
                "{child} ({age}) arrived late and upset. {He} told the DSL that police came to "
                'the house last night because {partner} was "shouting and throwing things at '
                'Mum". {child} asked if {he} could stay at school tonight.',
            ),
            "health": (
                "{mother} attended the surgery with bruising to her upper arms. She disclosed "
                "that {partner} grabbed her during an argument on {weekday} while {kids} {were} "
                "in the room. She is frightened of him but does not want police involvement. "
                "She has agreed to a referral to the domestic abuse service.",
            ),
            "family": (
                "I am {mother}'s sister. She rang me last night crying and said {partner} had hit "
                "her again in front of the children. I went round this morning and she has a "
                "black eye. {kid_names} {are} scared of him. I am worried something serious will "
                "happen.",
            ),
            "any": (
                "Concern that {mother} and {kids} are living with domestic abuse. "
                "{mother} disclosed that {partner} controls the money, checks her phone and has "
                "hit her twice in the last month, once while holding {child}.",
            ),
        },
        summary="Domestic abuse: {partner_full} alleged to have assaulted {mother_full} with "
        "{kids} present.",
        reason="Domestic abuse with children present; partner agencies' information is needed "
        "to judge the risk.",
    ),
    ThemeSpec(
        key="injury",
        label="an injury to the child that has not been explained",
        themes=(),
        needs=(PrimaryNeed.N1,),
        ages=(0, 15),
        siblings=0.3,
        rag=(6, 28, 50, 16),
        progress=0.7,
        consent=0.5,
        grounds=(OverrideGround.SIGNIFICANT_HARM, OverrideGround.PREJUDICE_CRIME),
        concerns={
            "school": (
                "[4-15] "
                "{child} ({age}) came into school on {weekday} with a fingertip-pattern bruise "
                "on {his} upper arm and a red mark on {his} cheek. Asked what happened, {child} "
                'said "{injury_quote}". {He} flinched when the teacher raised her arm to point '
                "at the board. This is the second unexplained mark this half-term; a bruise to "
                "{his} shin was logged three weeks ago.",
                "[4-15] "
                "During PE, {child} ({age}) was seen to have several bruises across {his} back "
                "in different stages of healing. {child} said {his} older cousin did it while "
                "play-fighting, then became upset and asked us not to tell {his} mum.",
            ),
            "health": (
                "{child} ({age}) was brought to the Emergency Department by {mother} with a "
                "spiral fracture of the left forearm. {mother} said {child} fell off the sofa, "
                "but the injury is not consistent with that and there was a delay of about 18 "
                "hours in seeking treatment. Skeletal survey requested; {child} is being kept in "
                "overnight.",
                "[0-1] At a routine review I saw two small bruises on {child}'s forehead and ear. "
                '{child} ({age}) is {mobility}. {mother} said {child} "bumped into the cot". '
                "Referring in line with the bruising in babies protocol.",
            ),
            "police": (
                "Police were called by a member of the public who saw {partner} slap {child} "
                "({age}) hard across the face outside a supermarket on {weekday}. {child} was "
                "crying and had a red handprint. {partner} said {child} had run into the road.",
            ),
            "any": (
                "{child} ({age}) has a burn mark the size of a coin on the back of {his} hand. "
                '{He} said it happened "at home" and would not say more.',
            ),
        },
        summary='Unexplained injury to {child} ({age}); explanation given: "{injury_quote}".',
        reason="Injury to a child without a consistent explanation: checks needed before "
        "deciding whether a strategy discussion is required.",
    ),
    ThemeSpec(
        key="neglect",
        label="neglect and poor home conditions",
        themes=(Theme.NEGLECT,),
        needs=(PrimaryNeed.N1, PrimaryNeed.N1, PrimaryNeed.N4, PrimaryNeed.N7),
        ages=(0, 15),
        siblings=1.0,
        rag=(1, 12, 50, 37),
        progress=0.45,
        consent=0.85,
        grounds=(OverrideGround.SIGNIFICANT_HARM,),
        concerns={
            "health": (
                "[0-3] "
                "Home visit on {weekday}: the flat was very cold with no working heating, dog "
                "mess on the kitchen floor and very little food in the cupboards. {child} ({age}) "
                "was in a heavily soiled nappy with severe nappy rash. {mother} appeared low and "
                'said she is "just about coping". {child} has missed three weight checks.',
                "{child} ({age}) has dropped two centiles and has had three missed hospital "
                "appointments for {his} eczema, which is now infected. {mother} says she could "
                "not afford the bus fare. The family are not answering the door to the health "
                "visitor.",
            ),
            "school": (
                "[4-15] "
                "{child} ({age}) is regularly arriving at school hungry and in the same unwashed "
                "uniform. Staff have been giving {him} breakfast most days. Attendance is {pct}% "
                "this term and {he} has head lice that have not been treated despite letters "
                'home. {child} said there is "no electric" at home some days.',
            ),
            "family": (
                "I live next door. {kid_names} {are} often left on their own in the "
                "evenings. Last night I heard a young child crying for over an hour and nobody "
                "answered the door. The garden is full of rubbish bags and there is a smell "
                "coming from the flat.",
            ),
            "housing": (
                "Housing officer visited for a gas safety check and found the property in very "
                "poor condition: rotting food, mouse droppings in the kitchen, mattresses on the "
                "floor with no bedding. {kids} {were} living there. {mother} has rent arrears of "
                "£{arrears} and a notice seeking possession.",
            ),
            "any": (
                "A home visit found the property in very poor condition: rotting food, mouse "
                "droppings in the kitchen and mattresses on the floor with no bedding. {kids} "
                "{were} living there and {child} had not been to school for a week.",
            ),
        },
        summary="Neglect: poor home conditions and unmet needs reported for {kids}.",
        reason="Cumulative signs of neglect; need to know what other agencies are seeing.",
    ),
    ThemeSpec(
        key="missing",
        label="missing episodes with signs of exploitation",
        themes=(Theme.MISSING, Theme.CCE),
        needs=(PrimaryNeed.N1, PrimaryNeed.N6),
        ages=(11, 17),
        siblings=0.0,
        rag=(3, 25, 52, 20),
        progress=0.75,
        consent=0.75,
        grounds=(OverrideGround.SIGNIFICANT_HARM, OverrideGround.PREJUDICE_CRIME),
        concerns={
            "police": (
                "{child} ({age}) was reported missing by {mother} at 10pm on {weekday} and was "
                "found by officers the next afternoon in {far_town}, about {miles} miles away, "
                "with two older males. {child} had £{cash} in cash and two mobile phones and "
                "would not explain how {he} got there. This is {his} {nth} missing episode in "
                "six weeks.",
                "{child} ({age}) was stopped on a train to {far_town} with wrapped substances "
                "believed to be crack cocaine concealed on {him}. {He} was arrested and released "
                "under investigation. County lines indicators present; a National Referral "
                "Mechanism referral is being considered.",
            ),
            "school": (
                "{child}'s attendance has fallen to {pct}%. {He} has been seen getting into cars "
                "with older young people after school and has new expensive trainers that the "
                'family cannot explain. {child} ({age}) told a friend {he} "owes money" and has '
                'to "do runs" to pay it back.',
            ),
            "family": (
                "My {rel_child} {child} ({age}) keeps going missing overnight and comes back "
                "with money and clothes I have not bought. Last weekend {he} came home with a "
                "cut on {his} hand and will not tell me who {he} is with. I think {he} is being "
                "used by older boys.",
            ),
            "any": (
                "{child} ({age}) has been missing from home three times this month; on each "
                "return {he} has been vague about where {he} was. A youth worker saw {him} in a "
                "car with adults not known to the family.",
            ),
        },
        summary="Repeated missing episodes for {child} ({age}) with signs of criminal "
        "exploitation.",
        reason="Missing episodes and exploitation indicators: multi-agency picture needed.",
    ),
    ThemeSpec(
        key="online",
        label="online grooming",
        themes=(Theme.CSE,),
        needs=(PrimaryNeed.N1,),
        ages=(10, 16),
        siblings=0.0,
        rag=(2, 28, 52, 18),
        progress=0.75,
        consent=0.8,
        grounds=(OverrideGround.PREJUDICE_CRIME, OverrideGround.SIGNIFICANT_HARM),
        concerns={
            "family": (
                "I found messages on {child}'s phone from a man on a social media app who says "
                'he is 19. He has asked {child} ({age}) to send photos "without clothes" and to '
                "meet him at {far_town} station. {child} has sent at least one picture. I have "
                "taken the phone and reported it to the police.",
            ),
            "school": (
                "{child} ({age}) has been upset in school. A friend told staff that {child} has "
                "been talking to an adult online who sends {him} gift cards for games and asked "
                "{him} to keep the chat secret. {child} said the man knows where {he} lives.",
            ),
            "police": (
                "Report from {mother} that {child} ({age}) has been sent sexual images by an "
                "adult on a gaming platform and asked to meet. Devices seized; enquiries "
                "ongoing to identify the suspect.",
            ),
            "any": (
                "{child} ({age}) disclosed that an adult she met online has been asking for "
                "images and threatening to share the ones she already sent.",
            ),
        },
        summary="Online grooming of {child} ({age}) by an unknown adult; police investigating.",
        reason="Sexual exploitation online: checks needed on the child and household.",
    ),
    ThemeSpec(
        key="mental_health",
        label="a parent's mental ill-health",
        themes=(Theme.MENTAL_HEALTH,),
        needs=(PrimaryNeed.N3,),
        ages=(0, 17),
        siblings=1.0,
        rag=(2, 18, 50, 30),
        progress=0.5,
        consent=0.85,
        grounds=(OverrideGround.SIGNIFICANT_HARM,),
        pregnancy=0.08,
        concerns={
            "health": (
                "[8-17] "
                "{mother} was taken to the Emergency Department by ambulance on {weekday} after "
                "an overdose of paracetamol and her antidepressants. She had been alone at home "
                "with {kids}; {child} ({age}) called 999. She has been admitted to the "
                "psychiatric ward. It is not clear who is caring for the children.",
                "{mother} has bipolar disorder and has stopped taking her medication. At today's "
                "appointment she was talking very fast, said she had not slept for three nights "
                'and that "the neighbours are watching the children through the walls". {kids} '
                "{were} at home with her.",
                "[0-1] {mother} scored 21 on the postnatal depression scale today and told me she "
                'sometimes feels the family would be "better off without her". She is '
                "isolated, with no family nearby, and {partner} works nights. {child} is {age}.",
            ),
            "police": (
                "Police called to a concern for welfare on {weekday}: {mother} was found on a "
                "bridge in {near_town} saying she wanted to end her life. She was detained under "
                "section 136. {kids} {were} left at home with a neighbour.",
            ),
            "school": (
                "[6-17] "
                '{child} ({age}) told us {his} mum "stays in bed all day and cries" and that '
                "{he} has been making dinner for {his} siblings. {child} has been late every "
                "day this week and seems anxious about leaving {his} mum at home.",
            ),
            "any": (
                "Concern about {mother}'s mental health: she has told professionals she hears "
                "voices telling her the children are in danger. {kids} {were} living with her.",
            ),
        },
        summary="{mother_full}'s mental health: risk to {kids} while she is unwell.",
        reason="Parental mental ill-health affecting the care of the children; need health "
        "partners' information.",
    ),
    ThemeSpec(
        key="substance",
        label="substance misuse by the adults caring for the child",
        themes=(Theme.SUBSTANCE_MISUSE,),
        needs=(PrimaryNeed.N3, PrimaryNeed.N5, PrimaryNeed.N1),
        ages=(0, 17),
        siblings=1.0,
        rag=(2, 20, 50, 28),
        progress=0.5,
        consent=0.75,
        grounds=(OverrideGround.SIGNIFICANT_HARM, OverrideGround.PREJUDICE_CRIME),
        pregnancy=0.25,
        concerns={
            "police": (
                "Police executed a drugs warrant at the address on {weekday}. Cannabis plants, "
                "scales and a quantity of cocaine were found; a used syringe was in the bathroom "
                "within reach of {child} ({age}). {partner} was arrested for possession with "
                "intent to supply. {mother} appeared to be under the influence.",
            ),
            "health": (
                "{mother} disclosed at her booking appointment that she uses cocaine most "
                "weekends and drinks up to a bottle of vodka a day. {kids} also {live} at home. "
                "She has declined a referral to the drug and alcohol service.",
                "{partner} attended the Emergency Department intoxicated with a head injury on "
                "{weekday} and said he had been drinking since the morning while looking after "
                "{child} ({age}), who was left at home.",
            ),
            "school": (
                "[6-17] "
                '{child} ({age}) told {his} teacher that {his} mum "sleeps all day" and that '
                "{he} has to get {his} younger siblings ready for school. Staff have smelt "
                "alcohol on {mother} at pick-up several times, and on {weekday} she was unsteady "
                "and had to be helped to the gate.",
            ),
            "any": (
                "Concern that {mother} and {partner} are using heroin at home while caring for "
                "{kids}. Foil and needles have been seen in the communal bin store and visitors "
                "come and go at all hours.",
            ),
        },
        summary="Substance misuse by {mother_full} and/or {partner_full} while caring for {kids}.",
        reason="Parental substance misuse affecting the children's care; checks needed.",
    ),
    ThemeSpec(
        key="private_fostering",
        label="a private fostering arrangement",
        themes=(Theme.PRIVATE_FOSTERING,),
        needs=(PrimaryNeed.N8, PrimaryNeed.N9),
        ages=(6, 15),
        siblings=0.0,
        rag=(0, 0, 50, 50),
        progress=0.8,
        consent=0.9,
        grounds=(OverrideGround.SIGNIFICANT_HARM,),
        new_adult="carer",
        concerns={
            "school": (
                "At parents' evening we learned that {child} ({age}) has been living with a "
                "family friend, {carer}, for about three months while {mother} is working "
                "abroad. {carer} is not a relative. We do not think the local authority has been "
                "told and we are not sure how long the arrangement will last.",
            ),
            "any": (
                "{child} ({age}) has been staying with {carer}, a friend of the family, since "
                "{mother} moved away for work. {carer} asked us for help with {child}'s school "
                'place and said {he} will be staying "for the foreseeable".',
            ),
        },
        summary="Possible private fostering: {child} ({age}) living with {carer}, not a relative.",
        reason="Private fostering must be assessed; checks on the carer's household needed.",
    ),
    ThemeSpec(
        key="fgm",
        label="risk of female genital mutilation",
        themes=(Theme.FGM,),
        needs=(PrimaryNeed.N1,),
        ages=(5, 13),
        siblings=0.4,
        sex=Sex.FEMALE,
        rag=(4, 30, 50, 16),
        progress=0.85,
        consent=0.4,
        grounds=(OverrideGround.SIGNIFICANT_HARM,),
        pregnancy=0.2,
        concerns={
            "school": (
                "{child} ({age}) told a friend she is going on a long holiday abroad in the "
                'summer for "a special ceremony to become a woman" and that she will get lots '
                "of presents. Her mother, {mother}, has FGM recorded in the maternity notes "
                "from {child}'s birth. School ends in three weeks.",
            ),
            "health": (
                "At an antenatal appointment {mother} disclosed that she had FGM as a child. "
                'She has a daughter, {child} ({age}), and said the grandmother "expects it to '
                'be done" when the family visit this summer. Referring for {child} and the '
                "unborn baby.",
            ),
            "any": (
                "Information that {child} ({age}) may be taken abroad for FGM during the "
                "holidays: an older cousin was cut on a similar trip last year.",
            ),
        },
        summary="Risk of FGM to {child} ({age}); family travel planned.",
        reason="Indicators of FGM risk: urgent checks and consideration of a protection order.",
    ),
    ThemeSpec(
        key="radicalisation",
        label="signs of radicalisation",
        themes=(Theme.RADICALISATION,),
        needs=(PrimaryNeed.N6,),
        ages=(13, 17),
        siblings=0.0,
        rag=(0, 15, 55, 30),
        progress=0.6,
        consent=0.6,
        grounds=(OverrideGround.PREJUDICE_CRIME,),
        concerns={
            "school": (
                "{child} ({age}) has been sharing extremist videos in the year group chat and "
                'told another pupil that people like them "should be sent back". {He} has '
                "become withdrawn, is online most of the night and has stopped seeing old "
                "friends. We have also made a Prevent referral.",
            ),
            "any": (
                "{child} ({age}) has been in contact online with people promoting violent "
                "extremism and has searched for how to make weapons. Prevent are aware.",
            ),
        },
        summary="Concern that {child} ({age}) is being drawn into violent extremism.",
        reason="Radicalisation concerns: checks to inform Prevent and Channel.",
    ),
    ThemeSpec(
        key="forced_marriage",
        label="a risk of forced marriage",
        themes=(Theme.HONOUR_BASED_ABUSE,),
        needs=(PrimaryNeed.N1,),
        ages=(14, 17),
        siblings=0.0,
        sex=Sex.FEMALE,
        rag=(15, 50, 35, 0),
        progress=0.95,
        consent=0.0,
        grounds=(OverrideGround.GREATER_RISK, OverrideGround.SIGNIFICANT_HARM),
        concerns={
            "school": (
                "{child} ({age}) told her tutor that her family are arranging for her to marry "
                "a cousin abroad over the summer. She said her passport has been taken and that "
                "she is not allowed out except to school. She is frightened her family will find "
                "out she has told anyone.",
            ),
            "any": (
                "{child} ({age}) disclosed that she is being made to marry an older man and "
                'that her family will "disown" her if she refuses.',
            ),
        },
        summary="Risk of forced marriage to {child} ({age}); do not contact the family.",
        reason="Honour-based abuse: the family must not be alerted; checks under override.",
    ),
    ThemeSpec(
        key="sexual_abuse",
        label="a disclosure of sexual abuse",
        themes=(),
        needs=(PrimaryNeed.N1,),
        ages=(4, 15),
        siblings=0.3,
        rag=(60, 40, 0, 0),
        progress=1.0,
        consent=0.05,
        grounds=(OverrideGround.SIGNIFICANT_HARM, OverrideGround.PREJUDICE_CRIME),
        concerns={
            "school": (
                "[4-11] "
                "{child} ({age}) told a teaching assistant during a reading session that "
                '{partner} "comes into my room at night and touches me where my pants go" and '
                'that it is "a secret". We have not spoken to anyone at home. {child} is due to '
                "be collected by {mother} at 3.15pm today.",
                "[12-17] "
                "{child} ({age}) told {his} form tutor that {partner} has been coming into {his} "
                "room at night and touching {him}, and that it started when {he} was eleven. "
                "{He} does not want to go home tonight and has asked us not to tell {mother}.",
            ),
            "any": (
                "{child} ({age}) has disclosed sexual abuse by {partner}, an adult in the "
                "household. {child} is frightened to go home.",
            ),
        },
        summary="Disclosure of sexual abuse by {child} ({age}) about an adult in the household.",
        reason="Disclosure of sexual abuse: strategy discussion likely.",
    ),
    ThemeSpec(
        key="knife",
        label="carrying a knife and serious youth violence",
        themes=(Theme.CCE,),
        needs=(PrimaryNeed.N6,),
        ages=(12, 17),
        siblings=0.0,
        rag=(1, 20, 55, 24),
        progress=0.6,
        consent=0.85,
        grounds=(OverrideGround.SIGNIFICANT_HARM,),
        concerns={
            "police": (
                "{child} ({age}) was arrested on {weekday} for possession of a kitchen knife "
                "outside a chicken shop in {near_town}. {He} said {he} carries it for protection "
                "because older boys have threatened {him}. {mother} says she cannot control "
                "{him} and {he} stays out until 2am most nights.",
            ),
            "school": (
                "{child} ({age}) was found with a knife in {his} bag at school. {He} said "
                '{he} needed it "to get home safe". {He} has been involved in fights with '
                "young people from another area.",
            ),
            "any": (
                "{child} ({age}) was injured in a stabbing in {near_town} park on {weekday}; "
                "{he} will not say who was involved.",
            ),
        },
        summary="{child} ({age}) carrying a knife; risk from and to older young people.",
        reason="Serious youth violence and possible criminal exploitation.",
    ),
    ThemeSpec(
        key="family_stress",
        label="a family under pressure",
        themes=(),
        needs=(PrimaryNeed.N4, PrimaryNeed.N7, PrimaryNeed.N2, PrimaryNeed.N4),
        ages=(0, 17),
        siblings=0.8,
        rag=(0, 2, 25, 73),
        progress=0.2,
        consent=0.97,
        grounds=(OverrideGround.SIGNIFICANT_HARM,),
        concerns={
            "family": (
                "[5-17] I am a single parent of {kid_names}. I have lost my job and cannot pay the "
                "bills or buy enough food. {child} ({age}) is refusing to go to school and I "
                "feel I am losing control. I would like help with routines and {child}'s "
                "behaviour.",
            ),
            "school": (
                "[4-17] The family are living in one room in temporary accommodation, sharing two "
                "beds. {child} ({age}) is sleeping badly and falling asleep in lessons. The "
                "parents are doing their best but are under a lot of stress. No concerns about "
                "the care the children receive.",
            ),
            "health": (
                "{mother}, parent carer of {child} ({age}), who has autism and severe learning "
                "disabilities, says she is at breaking point: {child} sleeps no more than four "
                "hours a night and has become physically aggressive towards {his} siblings. She "
                "is asking for respite and support.",
            ),
            "any": (
                "{mother} has asked for help: the family have been served notice by their "
                "landlord, {partner} has left, and {child} ({age}) has become withdrawn and is "
                "refusing to eat.",
            ),
        },
        summary="Family under stress; {mother_full} asking for support for {kids}.",
        reason="Needs are unclear from the contact alone: checks will show which service fits.",
    ),
)
THEME_BY_KEY: dict[str, ThemeSpec] = {t.key: t for t in THEME_SPECS}

INJURY_QUOTES = (
    "I fell off my bike",
    "I'm not allowed to say",
    "I banged it on the door",
    "Daddy got cross",
    "I was naughty",
    "it was an accident",
)
DA_QUOTES = (
    "I don't like it when they shout",
    "he hurt Mummy",
    "please don't let him come back",
    "I put my headphones on so I couldn't hear",
    "I called Nan",
)
PLACES = (
    "Kingsmere",
    "Ashford Vale",
    "Thornbury",
    "Millbrook",
    "Eastcote Green",
    "Harwood",
    "Lowfield",
    "Redhill Cross",
)
NEAR_PLACES = ("Peckham Rye", "Camberwell", "Walworth", "Bermondsey", "Nunhead", "Dulwich")

SIGNPOSTS: dict[str, tuple[str, ...]] = {
    "domestic_abuse": ("Domestic abuse one-stop shop", "Freedom Programme at the Family Hub"),
    "neglect": ("Northbridge Central Family Hub", "Food bank and holiday activities programme"),
    "mental_health": ("Talking Therapies", "Perinatal mental health peer support group"),
    "substance": ("Drug and alcohol service (self-referral)", "Family Hub parenting group"),
    "family_stress": (
        "Citizens Advice debt clinic",
        "Northbridge Central Family Hub",
        "Parent carers' forum",
        "Young carers service",
    ),
    "knife": ("Youth service detached team", "Boxing academy mentoring project"),
    "missing": ("Youth service detached team",),
    "online": ("School's online safety lead", "Family Hub parenting group"),
    "radicalisation": ("Youth service mentoring",),
    "injury": ("Health visiting drop-in",),
    "private_fostering": ("School's family support worker",),
    "fgm": ("FGM community support service",),
    "forced_marriage": ("Specialist honour-based abuse service",),
    "sexual_abuse": ("Sexual abuse counselling service",),
}

SCREEN_OUT: dict[str, tuple[str, ...]] = {
    Screening.NO_FURTHER_ACTION: (
        "A single incident with no previous concerns; the parents acted protectively. No role "
        "for children's services; re-refer if anything changes.",
        "Already known: the family has an allocated worker, who has been sent this information.",
        "Duplicate of a notification already dealt with this week.",
    ),
    Screening.ADVICE: (
        "Advice given to the referrer: speak to the parent, keep monitoring and re-refer if "
        "there are further concerns.",
        "Discussed with the designated safeguarding lead: below the threshold for MASH checks. "
        "Advice on the school's own early help offer.",
        "Consultation only: advice given on talking to the family about consent and on what to "
        "record.",
    ),
    Screening.SIGNPOSTED: (
        "Needs can be met by universal and community services; family signposted with their "
        "agreement.",
    ),
}
# Screening-out reasons that only fit some themes.
SCREEN_OUT_FOR: dict[str, dict[str, tuple[str, ...]]] = {
    "domestic_abuse": {
        Screening.NO_FURTHER_ACTION: (
            "Information only: a single verbal incident, no injuries, the children were asleep "
            "and there are no previous concerns. Police have given safety advice.",
        ),
    },
    "injury": {
        Screening.NO_FURTHER_ACTION: (
            "The school has spoken to the parent and the explanation is consistent with the "
            "injury; no previous concerns. No further action; re-refer if anything changes.",
        ),
    },
    "family_stress": {
        Screening.SIGNPOSTED: (
            "Parent asking for support rather than raising a safeguarding concern: signposted.",
        ),
    },
}
# What makes a concern, as worded, a milder one.
MILD = ("Verbal argument", "No injuries", "asked for help", "asking for help", "not sure how long")

TEAMS: dict[str, tuple[str, ...]] = {
    Outcome.SECTION_47: (
        "Assessment and Intervention Team (strategy discussion)",
        "Child Protection Investigation Team",
    ),
    Outcome.SECTION_17: (
        "Assessment Team 1",
        "Assessment Team 2",
        "Assessment Team 3",
        "Disabled Children's Team",
    ),
    Outcome.EARLY_HELP: (
        "Early Help: North Family Hub",
        "Early Help: Central Family Hub",
        "Early Help: South Family Hub",
    ),
    Outcome.SIGNPOST: ("Referrer, with signposting information for the family",),
    Outcome.NFA: ("None: feedback to the referrer",),
}

RATIONALE: dict[str, tuple[str, ...]] = {
    Outcome.SECTION_47: (
        "Reasonable cause to suspect {child} is suffering, or likely to suffer, significant "
        "harm from {label}. {info} Strategy discussion convened with police and health.",
        "{info} Taken together with {label}, the threshold for a section 47 enquiry is met. "
        "Strategy discussion today.",
    ),
    Outcome.SECTION_17: (
        "{child} is a child in need: {label}, and {info} A child and family assessment is "
        "needed to understand the risk and what support the family needs.",
        "{info} The concern about {label} is not isolated; a section 17 assessment will look "
        "at the whole family.",
    ),
    Outcome.EARLY_HELP: (
        "Needs arising from {label} can be met with early help: {info} The family have "
        "agreed to an early help assessment.",
        "{info} No indication of significant harm; an early help assessment with a lead "
        "professional will support the family.",
    ),
    Outcome.SIGNPOST: (
        "{info} Needs relating to {label} can be met by universal services; family signposted.",
    ),
    Outcome.NFA: (
        "{info} The concern about {label} is not substantiated and protective factors are "
        "in place. No further action.",
        "{info} Parents have acted protectively. No role for children's services at present.",
    ),
}

FEEDBACK: dict[str, str] = {
    Outcome.SECTION_47: (
        "Thank you for your referral about {child}. The hub has shared information with "
        "partner agencies and a social worker is now working with the family. Please continue "
        "to share any concerns straight away."
    ),
    Outcome.SECTION_17: (
        "Thank you for your referral about {child}. After checks with partner agencies the "
        "case has passed to {team} for a child and family assessment. A social worker will "
        "contact the family; they may also contact you."
    ),
    Outcome.EARLY_HELP: (
        "Thank you for your referral about {child}. The family will be offered an early help "
        "assessment through {team}. Please keep supporting them and share any new concerns."
    ),
    Outcome.SIGNPOST: (
        "Thank you for your referral about {child}. The hub did not find a need for a "
        "children's social care service; the family have been given information about local "
        "support."
    ),
    Outcome.NFA: (
        "Thank you for your referral about {child}. After checks, no further action is needed "
        "from children's services at this time. Please refer again if anything changes."
    ),
}

PENDING_REASONS = (
    "Strategy discussion held; the agencies yet to answer were asked to bring what they hold "
    "to it.",
    "The information already shared is enough to decide; the remaining agencies have been "
    "chased and told the outcome.",
    "Still no answer after two reminders; waiting longer would delay help for the family.",
)

AMENDMENTS: tuple[tuple[str, str], ...] = (
    ("primary_need", "Primary need corrected after discussion with the assessment team."),
    ("next_team", "Team corrected: the case was allocated to a different assessment team."),
    (
        "outcome",
        "Police shared further information after the decision; the case now needs a child and "
        "family assessment.",
    ),
    ("themes", "Themes updated after a late answer from health."),
)

RERATE_REASONS = {
    "up": (
        "Police shared that {partner_full} has a history of violence: risk higher than it "
        "first appeared.",
        "Health hold a recent hospital attendance for {child}: raised.",
    ),
    "down": (
        "Children confirmed safe with a grandparent; no immediate risk.",
        "The injury has a consistent explanation from the GP: lowered.",
    ),
}


@dataclass(frozen=True)
class ItemTemplate:
    summary: str
    detail: str
    risks: tuple[str, ...]
    sensitivity: tuple[float, float, float]  # shareable, professionals only, MASH only
    themes: tuple[str, ...] = ()  # theme keys it fits ("" = any)


R = RiskIndicator
ITEMS: dict[str, tuple[ItemTemplate, ...]] = {
    AgencyKind.POLICE: (
        ItemTemplate(
            "{n} domestic incidents recorded at the address in the last 12 months",
            "Incidents on {d1} (verbal argument), {d2} (criminal damage) and {d3} (assault; "
            "no further action as the victim withdrew). Children recorded as present at two.",
            (R.DOMESTIC_ABUSE, R.VIOLENCE),
            (0, 50, 50),
            ("domestic_abuse", "mental_health", "substance", "injury", "sexual_abuse"),
        ),
        ItemTemplate(
            "{partner_full} has a conviction for assault on a former partner",
            "Convicted in {year} of assault by beating against a former partner; community "
            "order. Flagged on the police national computer as violent.",
            (R.DOMESTIC_ABUSE, R.VIOLENCE, R.OFFENDING),
            (0, 30, 70),
            ("domestic_abuse", "injury", "sexual_abuse", "substance"),
        ),
        ItemTemplate(
            "Intelligence links the address to the supply of class A drugs",
            "Graded intelligence from {d1} that the address is used by a county line. Not for "
            "disclosure outside the MASH.",
            (R.SUBSTANCE_MISUSE, R.EXPLOITATION),
            (0, 0, 100),
            ("substance", "missing", "knife"),
        ),
        ItemTemplate(
            "{child} recorded missing {n} times this year",
            "Missing episodes on {d1}, {d2} and {d3}; return home interviews completed twice. "
            "Associates known to police for drug supply.",
            (R.MISSING, R.EXPLOITATION),
            (0, 60, 40),
            ("missing", "knife", "online"),
        ),
        ItemTemplate(
            "{child} named in a crime report as a victim of online sexual offences",
            "Crime report {d1}: indecent images requested by an adult; suspect not yet "
            "identified. Investigation ongoing.",
            (R.SEXUAL_HARM,),
            (0, 40, 60),
            ("online",),
        ),
        ItemTemplate(
            "{mother_full} recorded as a victim of crime once; nothing on the children",
            "Theft of a bicycle reported {d1}. No other records for the household.",
            (),
            (30, 70, 0),
        ),
        ItemTemplate(
            "{partner_full} wanted on warrant for failing to appear",
            "Warrant issued {d1}; believed to be staying at the address.",
            (R.OFFENDING,),
            (0, 20, 80),
            ("domestic_abuse", "substance", "sexual_abuse"),
        ),
    ),
    AgencyKind.HEALTH_GP: (
        ItemTemplate(
            "{child} registered with the practice; immunisations up to date",
            "Last seen on {d1} for a chest infection. No safeguarding codes on the record.",
            (),
            (50, 50, 0),
        ),
        ItemTemplate(
            "{mother_full} treated for depression and anxiety",
            "Diagnosed {year}; reviewed every three months on sertraline; two missed reviews "
            "this year. No record of self-harm.",
            (R.MENTAL_HEALTH,),
            (0, 60, 40),
            ("mental_health", "neglect", "family_stress", "domestic_abuse", "substance"),
        ),
        ItemTemplate(
            "{n} missed appointments for {child} in the past year",
            "Did not attend on {d1}, {d2} and {d3}; letters sent, no reply.",
            (R.NON_ENGAGEMENT, R.NEGLECT),
            (0, 100, 0),
            ("neglect", "injury", "substance"),
        ),
        ItemTemplate(
            "Alcohol dependence recorded for {partner_full}",
            "Coded {year}; referred to the drug and alcohol service, did not engage.",
            (R.SUBSTANCE_MISUSE,),
            (0, 50, 50),
            ("substance", "domestic_abuse"),
        ),
    ),
    AgencyKind.HEALTH_ACUTE: (
        ItemTemplate(
            "{child} attended the Emergency Department {n} times in 18 months",
            "Attendances for a head injury (fall), a burn to the hand and swallowing a "
            "parent's tablets. The safeguarding liaison nurse was told each time.",
            (R.NEGLECT,),
            (0, 70, 30),
            ("injury", "neglect", "substance"),
        ),
        ItemTemplate(
            "{mother_full} attended with facial injuries on {d1}",
            "Said she had fallen; the routine domestic abuse question was not answered.",
            (R.DOMESTIC_ABUSE,),
            (0, 40, 60),
            ("domestic_abuse",),
        ),
        ItemTemplate(
            "{child} seen once in the children's ward; nothing of concern",
            "Admitted overnight on {d1} with bronchiolitis; discharged home with {mother}.",
            (),
            (60, 40, 0),
        ),
    ),
    AgencyKind.HEALTH_COMMUNITY: (
        ItemTemplate(
            "{child} under community paediatrics for an ADHD assessment",
            "Referred by the school in {year}; seen twice, next appointment {d1}.",
            (),
            (40, 60, 0),
        ),
        ItemTemplate(
            "{child} known to the speech and language therapy service",
            "Expressive language delay; three of six sessions attended.",
            (R.NON_ENGAGEMENT,),
            (50, 50, 0),
        ),
    ),
    AgencyKind.HEALTH_VISITING: (
        ItemTemplate(
            "Family known to health visiting (universal plus service)",
            "Last contact on {d1}: growth on the 25th centile, development as expected. "
            "{mother_full} talked about low mood and was referred to perinatal mental health.",
            (R.MENTAL_HEALTH,),
            (20, 80, 0),
        ),
        ItemTemplate(
            "Three missed development reviews; home visits unanswered",
            "Reviews due {d1} and {d2} not completed; two visits with no answer at the door.",
            (R.NON_ENGAGEMENT, R.NEGLECT),
            (0, 100, 0),
            ("neglect", "substance", "mental_health", "injury"),
        ),
        ItemTemplate(
            "Domestic abuse disclosed by {mother_full} at a routine enquiry",
            "Disclosed on {d1} that {partner_full} had pushed her; declined a referral.",
            (R.DOMESTIC_ABUSE,),
            (0, 30, 70),
            ("domestic_abuse",),
        ),
    ),
    AgencyKind.HEALTH_SCHOOL_NURSING: (
        ItemTemplate(
            "{child} seen by the school nurse for low mood",
            "Drop-in on {d1}: worries about home and friendships; follow-up offered.",
            (R.MENTAL_HEALTH,),
            (0, 100, 0),
        ),
        ItemTemplate(
            "{child}'s height and weight below expected at the reception check",
            "Measured on {d1}; letter sent to parents, no response.",
            (R.NEGLECT,),
            (30, 70, 0),
            ("neglect",),
        ),
    ),
    AgencyKind.HEALTH_MATERNITY: (
        ItemTemplate(
            "{mother_full} booked late at 24 weeks; two missed scans",
            "Booked on {d1}; did not attend on {d2} and {d3}.",
            (R.NON_ENGAGEMENT,),
            (0, 100, 0),
        ),
        ItemTemplate(
            "Substance use disclosed at the booking appointment",
            "{mother_full} disclosed weekend cocaine use and daily drinking; referred to the "
            "specialist midwife.",
            (R.SUBSTANCE_MISUSE,),
            (0, 40, 60),
            ("substance",),
        ),
        ItemTemplate(
            "FGM (type 2) recorded at {child}'s birth",
            "Recorded by the midwife under the mandatory reporting duty; {mother_full} was "
            "given information about the law.",
            (R.SEXUAL_HARM,),
            (0, 30, 70),
            ("fgm",),
        ),
    ),
    AgencyKind.EDUCATION: (
        ItemTemplate(
            "{child}'s attendance is {pct}% this year",
            "Persistent absence; {n} unauthorised absences; the attendance officer is involved.",
            (R.NEGLECT, R.NON_ENGAGEMENT),
            (40, 60, 0),
        ),
        ItemTemplate(
            "{n} safeguarding entries on the school's record for {child}",
            "Entries include arriving hungry ({d1}), talk of arguments at home ({d2}) and "
            "bruising that {mother_full} explained as a fall ({d3}).",
            (R.NEGLECT, R.DOMESTIC_ABUSE),
            (0, 80, 20),
        ),
        ItemTemplate(
            "{child} has an education, health and care plan",
            "Plan for social, emotional and mental health needs since {year}; annual review due "
            "{d1}.",
            (),
            (80, 20, 0),
        ),
        ItemTemplate(
            "{child} has had {n} suspensions this year",
            "For fighting and for threatening staff; a managed move is being considered.",
            (R.VIOLENCE,),
            (30, 70, 0),
            ("knife", "missing", "radicalisation"),
        ),
    ),
    AgencyKind.EARLY_YEARS: (
        ItemTemplate(
            "{child} attends nursery three days a week",
            "Attendance good; sometimes arrives unkempt and hungry; speech delay noted on {d1}.",
            (R.NEGLECT,),
            (40, 60, 0),
        ),
    ),
    AgencyKind.HOUSING: (
        ItemTemplate(
            "Family in temporary accommodation since {month_year}",
            "Two rooms for the whole household; on the housing register, band B.",
            (R.HOUSING,),
            (40, 60, 0),
        ),
        ItemTemplate(
            "Rent arrears of £{arrears}; notice seeking possession served",
            "Notice served {d1}; tenancy sustainment officer allocated.",
            (R.HOUSING,),
            (20, 80, 0),
        ),
        ItemTemplate(
            "Anti-social behaviour complaints about visitors to the flat at night",
            "Three complaints since {d1}; suspected drug dealing reported by neighbours.",
            (R.SUBSTANCE_MISUSE,),
            (0, 50, 50),
            ("substance", "neglect", "missing"),
        ),
    ),
    AgencyKind.PROBATION: (
        ItemTemplate(
            "{partner_full} is on licence until {month_year}",
            "Released from custody for assault occasioning actual bodily harm; assessed as a "
            "high risk of serious harm to known adults. Licence condition not to contact a "
            "former partner.",
            (R.VIOLENCE, R.DOMESTIC_ABUSE, R.OFFENDING),
            (0, 20, 80),
        ),
    ),
    AgencyKind.YOUTH_JUSTICE: (
        ItemTemplate(
            "{child} on a referral order for possession of a bladed article",
            "Order made {d1}; engaging with the case worker; concerns about older associates.",
            (R.OFFENDING, R.EXPLOITATION, R.WEAPONS),
            (0, 70, 30),
        ),
    ),
    AgencyKind.ADULT_MENTAL_HEALTH: (
        ItemTemplate(
            "{mother_full} known to the community mental health team",
            "Diagnosis of emotionally unstable personality disorder; care co-ordinator "
            "allocated; two crisis team contacts in the past year, the last on {d1}.",
            (R.MENTAL_HEALTH,),
            (0, 50, 50),
        ),
    ),
    AgencyKind.CAMHS: (
        ItemTemplate(
            "{child} referred to CAMHS for self-harm; on the waiting list",
            "Referral accepted {d1}; risk assessment completed; waiting for therapy.",
            (R.MENTAL_HEALTH,),
            (0, 70, 30),
        ),
    ),
    AgencyKind.DOMESTIC_ABUSE: (
        ItemTemplate(
            "{mother_full} supported by an IDVA after a MARAC in {month_year}",
            "High-risk case heard at MARAC; safety plan in place; panic alarm fitted.",
            (R.DOMESTIC_ABUSE,),
            (0, 30, 70),
        ),
    ),
}

ADDITIONS: dict[str, tuple[ItemTemplate, ...]] = {
    AgencyKind.POLICE: (
        ItemTemplate(
            "Update: {partner_full} charged with assault",
            "Charged on {d0}; remanded to court with bail conditions not to contact "
            "{mother_full} or attend the address.",
            (R.DOMESTIC_ABUSE, R.OFFENDING),
            (0, 40, 60),
        ),
    ),
    "": (
        ItemTemplate(
            "Further record found on a second system search",
            "A referral from {d1} was found on the old system: similar concerns, closed after "
            "advice.",
            (),
            (0, 100, 0),
        ),
    ),
}
REFERENCES: dict[str, str] = {
    AgencyKind.POLICE: "CRIS {n6}/{yy}",
    AgencyKind.HEALTH_GP: "EMIS {n6}",
    AgencyKind.HEALTH_ACUTE: "EPR {n7}",
    AgencyKind.HEALTH_COMMUNITY: "RIO {n6}",
    AgencyKind.HEALTH_VISITING: "SystmOne {n6}",
    AgencyKind.HEALTH_SCHOOL_NURSING: "SystmOne {n6}",
    AgencyKind.HEALTH_MATERNITY: "BadgerNet {n6}",
    AgencyKind.EDUCATION: "CPOMS {n5}",
    AgencyKind.EARLY_YEARS: "EY-{n5}",
    AgencyKind.HOUSING: "HSG-{n6}",
    AgencyKind.PROBATION: "nDelius X{n6}",
    AgencyKind.YOUTH_JUSTICE: "YJ-{n5}",
    AgencyKind.ADULT_MENTAL_HEALTH: "RIO {n6}",
    AgencyKind.CAMHS: "RIO {n6}",
    AgencyKind.DOMESTIC_ABUSE: "DAS-{n5}",
}

# How likely an agency holds something: a base, raised for the themes it sees most.
HOLDS: dict[str, float] = {
    AgencyKind.POLICE: 0.5,
    AgencyKind.HEALTH_ACUTE: 0.3,
    AgencyKind.HEALTH_COMMUNITY: 0.25,
    AgencyKind.HEALTH_GP: 0.7,
    AgencyKind.HEALTH_VISITING: 0.7,
    AgencyKind.HEALTH_SCHOOL_NURSING: 0.35,
    AgencyKind.HEALTH_MATERNITY: 0.6,
    AgencyKind.EDUCATION: 0.8,
    AgencyKind.EARLY_YEARS: 0.5,
    AgencyKind.HOUSING: 0.35,
    AgencyKind.PROBATION: 0.1,
    AgencyKind.YOUTH_JUSTICE: 0.1,
    AgencyKind.ADULT_MENTAL_HEALTH: 0.15,
    AgencyKind.CAMHS: 0.15,
    AgencyKind.DOMESTIC_ABUSE: 0.1,
}
HOLDS_FOR_THEME: dict[str, dict[str, float]] = {
    "domestic_abuse": {
        AgencyKind.POLICE: 0.45,
        AgencyKind.DOMESTIC_ABUSE: 0.45,
        AgencyKind.PROBATION: 0.15,
    },
    "mental_health": {AgencyKind.ADULT_MENTAL_HEALTH: 0.6, AgencyKind.HEALTH_ACUTE: 0.3},
    "substance": {AgencyKind.POLICE: 0.3, AgencyKind.ADULT_MENTAL_HEALTH: 0.2},
    "missing": {AgencyKind.POLICE: 0.45, AgencyKind.YOUTH_JUSTICE: 0.35, AgencyKind.CAMHS: 0.2},
    "knife": {AgencyKind.POLICE: 0.45, AgencyKind.YOUTH_JUSTICE: 0.5},
    "neglect": {AgencyKind.HOUSING: 0.3, AgencyKind.HEALTH_VISITING: 0.15},
    "injury": {AgencyKind.HEALTH_ACUTE: 0.35, AgencyKind.POLICE: 0.1},
    "online": {AgencyKind.POLICE: 0.35, AgencyKind.CAMHS: 0.2},
    "sexual_abuse": {AgencyKind.POLICE: 0.3},
    "fgm": {AgencyKind.HEALTH_MATERNITY: 0.3},
}
# The chance an agency answers after its deadline.
LATE: dict[str, float] = {
    AgencyKind.POLICE: 0.05,
    AgencyKind.HEALTH_GP: 0.18,
    AgencyKind.ADULT_MENTAL_HEALTH: 0.2,
    AgencyKind.CAMHS: 0.2,
    AgencyKind.PROBATION: 0.15,
}

OVERRIDE_JUSTIFICATIONS: dict[str, str] = {
    OverrideGround.SIGNIFICANT_HARM: (
        "The child may be suffering significant harm; we cannot wait for the family's "
        "agreement before finding out what agencies know."
    ),
    OverrideGround.GREATER_RISK: (
        "Asking the family would alert the person alleged to cause harm and could put the "
        "child and the non-abusing parent at greater risk."
    ),
    OverrideGround.PREJUDICE_CRIME: (
        "Police are investigating; telling the family now could prejudice the investigation."
    ),
}


NICKNAMES = {
    "Thomas": "Tom",
    "William": "Will",
    "James": "Jamie",
    "Joseph": "Joe",
    "Daniel": "Danny",
    "Samuel": "Sam",
    "Benjamin": "Ben",
    "Alexander": "Alex",
    "Charlotte": "Lottie",
    "Elizabeth": "Beth",
    "Rebecca": "Becky",
    "Jessica": "Jess",
    "Katherine": "Katie",
    "Olivia": "Liv",
    "Isabella": "Bella",
    "Amelia": "Millie",
    "Margaret": "Maggie",
    "Victoria": "Vicky",
    "Matthew": "Matt",
    "Christopher": "Chris",
}


# --------------------------------------------------------------------------------------
# The cast (the demo's users) and the families (the person index)
# --------------------------------------------------------------------------------------


@dataclass
class Cast:
    managers: list[User]
    coordinators: list[User]
    practitioners: dict[int, list[User]]  # agency pk -> its practitioners
    agencies: list[Agency]  # every active agency, as rate_enquiry asks them

    @classmethod
    def load(cls) -> Cast:
        users = list(
            User.objects.filter(is_active=True, agency__isnull=False)
            .prefetch_related("role_grants")
            .order_by("pk")
        )
        practitioners: dict[int, list[User]] = defaultdict(list)
        for user in users:
            if Role.AGENCY_PRACTITIONER in user.roles and user.agency_id is not None:
                practitioners[user.agency_id].append(user)
        return cls(
            managers=[u for u in users if Role.HUB_MANAGER in u.roles],
            coordinators=[u for u in users if Role.REFERRAL_COORDINATOR in u.roles],
            practitioners=dict(practitioners),
            # Sorted here, not by the database, whose collation may differ.
            agencies=sorted(Agency.objects.filter(is_active=True), key=lambda a: a.name),
        )


LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass
class Home:
    """A household of the person index, as the planner sees it."""

    joined: dt.datetime  # when it entered the index
    line_1: str
    town: str
    postcode: str
    adults: list[Person]
    children: list[Person]  # born or expected
    school: str = ""
    surgery: str = ""
    busy_until: dt.datetime = LONG_AGO

    @property
    def family_name(self) -> str:
        return self.adults[0].family_name if self.adults else self.children[0].family_name


def load_homes(today: dt.date, schools: Sequence[str], surgeries: Sequence[str]) -> list[Home]:
    people = (
        Person.objects.filter(household__isnull=False)
        .select_related("household__address")
        .prefetch_related(Prefetch("aliases", queryset=PersonAlias.objects.order_by("pk")))
        .order_by("household_id", "pk")
    )
    homes: list[Home] = []
    for _, members in itertools.groupby(people, key=lambda p: p.household_id):
        group = list(members)
        household = group[0].household
        if household is None:  # (excluded by the query)
            continue
        address = household.address
        children = [p for p in group if p.is_unborn or (_age(p, today) or 0) < 18]
        adults = [p for p in group if p not in children]
        if not children:
            continue
        homes.append(
            Home(
                joined=household.created_at,
                line_1=address.line_1,
                town=address.town,
                postcode=address.postcode,
                adults=adults,
                children=children,
                school=schools[len(homes) % len(schools)],
                surgery=surgeries[len(homes) % len(surgeries)],
            )
        )
    return homes


def _age(person: Person, day: dt.date) -> int | None:
    return person.age_on(day) if person.date_of_birth else None


def _born(person: Person) -> dt.date:
    """The date of birth, or for an unborn child the expected date."""
    day = person.date_of_birth or person.expected_date_of_birth
    if day is None:
        raise ValueError(f"{person} has neither a date of birth nor a due date")
    return day


def _age_text(born: dt.date, day: dt.date) -> str:
    days = (day - born).days
    if days < 14:
        return "1 week"
    if days < 61:
        return f"{days // 7} weeks"
    if days < 730:
        return f"{days * 12 // 365} months"
    years = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return str(years)


# --------------------------------------------------------------------------------------
# Steps: one service call at one moment
# --------------------------------------------------------------------------------------


@dataclass(order=True)
class Step:
    moment: dt.datetime
    seq: int
    run: Callable[[], Any] = field(compare=False)


@dataclass
class AnswerPlan:
    agency: Agency
    actor: User
    at: dt.datetime | None  # None: never answers
    items: list[enquiry_services.ItemEntry]  # empty: nothing held
    addition_after: dt.timedelta | None = None  # an addition, this long after the answer
    addition: list[enquiry_services.ItemEntry] = field(default_factory=list)
    excluded_at: dt.datetime | None = None  # marked not required by a manager instead

    @property
    def addition_at(self) -> dt.datetime | None:
        if self.at is None or self.addition_after is None:
            return None
        return self.at + self.addition_after


@dataclass
class DecisionPlan:
    position: int
    at: dt.datetime
    actor: User
    outcome: str
    need: str = ""
    themes: list[str] = field(default_factory=list)
    team: str = ""
    lead: Agency | None = None
    rationale: str = ""
    feedback: str = ""
    pending_reason: str = ""
    amend_at: dt.datetime | None = None
    amend_kind: str = ""


@dataclass
class Named:
    """Someone on a contact: an index person (or a new one) and what the referrer typed."""

    entry: contact_services.PersonEntry
    person: Person | None
    name: str  # how the text calls them
    born: dt.date | None = None
    sex: str = Sex.UNKNOWN


class Case:
    """One contact's life: what was typed, and the steps that record it through the services."""

    def __init__(
        self,
        planner: Planner,
        *,
        theme: ThemeSpec,
        source: str,
        received: dt.datetime,
        home: Home,
        children: list[Named],
        adults: list[Named],
        relationships: list[contact_services.RelationshipEntry],
        details: contact_services.Details,
        ctx: dict[str, str],
        rereferral: bool,
    ) -> None:
        self.planner = planner
        self.theme = theme
        self.source = source
        self.received = received
        self.home = home
        self.children = children
        self.adults = adults
        self.relationships = relationships
        self.details = details
        self.ctx = ctx
        self.rereferral = rereferral
        self.last = received
        self.rag = ""
        self.answers: list[AnswerPlan] = []
        self.decision_plans: list[DecisionPlan] = []
        self.authorised_override = False
        self.consent_given = True
        self.mild = False  # the concern, as worded, is a milder one
        self.due: dt.datetime | None = None  # the agencies' deadline
        # Filled as the steps run.
        self.contact: Contact | None = None
        self.enquiry: Enquiry | None = None
        self.override: ConsentOverride | None = None
        self.requests: dict[int, AgencyRequest] = {}
        self.child_ids: list[int] = []
        self.decisions: dict[int, Decision] = {}

    @property
    def live_contact(self) -> Contact:
        if self.contact is None:
            raise RuntimeError("The contact has not been submitted yet")
        return self.contact

    @property
    def live_enquiry(self) -> Enquiry:
        if self.enquiry is None:
            raise RuntimeError("The contact has not been progressed to an enquiry yet")
        return self.enquiry

    @property
    def live_override(self) -> ConsentOverride:
        if self.override is None:
            raise RuntimeError("No override has been proposed yet")
        return self.override

    # -- scheduling -------------------------------------------------------------------

    def step(self, moment: dt.datetime, run: Callable[[], Any]) -> None:
        self.planner.add(moment, run)
        self.last = max(self.last, moment)

    @property
    def subject(self) -> Named:
        return self.children[0]

    def fill(self, template: str, **extra: str) -> str:
        return template.format_map({**self.ctx, **extra})

    # -- the front door ---------------------------------------------------------------

    def submit(self, at: dt.datetime, actor: User, draft_at: dt.datetime | None = None) -> None:
        if draft_at is not None:
            drafter = self.planner.other(self.planner.cast.coordinators, actor)
            data = {
                "received_at": self.details.received_at.isoformat(),
                "channel": self.details.channel,
                "referral_source": self.details.referral_source,
                "referrer_name": self.details.referrer_name,
                "concern": self.details.concern[: max(40, len(self.details.concern) // 2)],
            }

            def draft() -> None:
                self.contact = contact_services.save_draft(actor=drafter, data=data)

            self.step(draft_at, draft)

        def submit() -> None:
            self.contact = contact_services.submit_contact(
                actor=actor,
                details=self.details,
                people=[c.entry for c in self.children] + [a.entry for a in self.adults],
                relationships=self.relationships,
                contact=self.contact,
            )
            known = [c.person.pk for c in self.children if c.person is not None]
            if len(known) == len(self.children):
                self.child_ids = known  # (children take positions in the order given)
            else:
                self.child_ids = list(
                    self.contact.people.filter(role=PersonRole.CHILD)
                    .order_by("position")
                    .values_list("person_id", flat=True)
                )

        self.step(at, submit)

    def screen(self, at: dt.datetime, actor: User, outcome: str) -> None:
        rng = self.planner.rng
        if outcome == Screening.PROGRESS:
            reason = self.theme.reason
            if self.rereferral:
                reason += (
                    " Re-referral: the child was referred to children's social care this year."
                )
        else:
            reason = rng.choice(
                SCREEN_OUT[outcome] + SCREEN_OUT_FOR.get(self.theme.key, {}).get(outcome, ())
            )
        signposted = (
            rng.choice(SIGNPOSTS.get(self.theme.key, SIGNPOSTS["family_stress"]))
            if outcome == Screening.SIGNPOSTED
            else ""
        )

        def screen() -> None:
            contact_services.screen_contact(
                actor=actor,
                contact=self.live_contact,
                outcome=outcome,
                reason=reason,
                signposted_to=signposted,
            )
            if outcome == Screening.PROGRESS:
                self.enquiry = Enquiry.objects.get(contact=self.contact)

        self.step(at, screen)

    # -- consent ----------------------------------------------------------------------

    def consent(self, at: dt.datetime, actor: User, status: str) -> None:
        rng = self.planner.rng
        mother = self.ctx["mother_full"]
        if status == ConsentStatus.GIVEN:
            given_by = f"{mother} (mother)"
            notes = rng.choice(
                (
                    "Consent given by phone; she understands which agencies will be asked.",
                    "Agreed to checks with all partner agencies.",
                    "Consent given at the home visit; information-sharing leaflet left.",
                    "",
                )
            )
        elif status == ConsentStatus.REFUSED:
            given_by = f"{mother} (mother)"
            notes = "Refused: said the family does not want social services involved."
        else:
            given_by = ""
            notes = rng.choice(
                (
                    "Not sought: seeking consent could alert the person alleged to cause harm.",
                    "Not sought: police investigation under way.",
                    "Not sought: the child may be at immediate risk.",
                )
            )
        decided_on = at - MINUTE * rng.randint(5, 90) if given_by else None

        def consent() -> None:
            enquiry_services.record_consent(
                actor=actor,
                enquiry=self.live_enquiry,
                status=status,
                given_by=given_by,
                decided_on=decided_on,
                notes=notes,
            )

        self.step(at, consent)

    def propose_override(self, at: dt.datetime, actor: User) -> None:
        grounds = sorted(
            set(self.planner.rng.sample(self.theme.grounds, k=min(2, len(self.theme.grounds))))
        )
        justification = " ".join(OVERRIDE_JUSTIFICATIONS[g] for g in grounds)
        if self.manager_authorises(actor):
            self.authorised_override = True

        def propose() -> None:
            self.override = enquiry_services.propose_override(
                actor=actor, enquiry=self.live_enquiry, grounds=grounds, justification=justification
            )

        self.step(at, propose)

    @staticmethod
    def manager_authorises(actor: User) -> bool:
        return Role.HUB_MANAGER in actor.roles

    def decide_override(self, at: dt.datetime, actor: User, *, authorise: bool) -> None:
        reason = (
            ""
            if authorise
            else "The concern does not meet the threshold to share information without consent; "
            "the referrer will keep working with the family to gain it."
        )
        self.authorised_override = self.authorised_override or authorise

        def decide() -> None:
            enquiry_services.decide_override(
                actor=actor, override=self.live_override, authorise=authorise, reason=reason
            )

        self.step(at, decide)

    # -- rating and agency checks ---------------------------------------------------------

    def propose_rating(self, at: dt.datetime, actor: User, rag: str) -> None:
        reason = self.fill(self.planner.rng.choice(RAG_REASONS[rag]), label=self.theme.label)

        def propose() -> None:
            enquiry_services.propose_rating(
                actor=actor, enquiry=self.live_enquiry, rag=rag, reason=reason
            )

        self.step(at, propose)

    def not_required(self) -> dict[int, str]:
        """The agencies a manager leaves out at rating, by what the children's ages make
        irrelevant."""
        day = self.received.astimezone(clock.LONDON).date()
        ages = [
            -1 if c.born is None or c.born > day else (day - c.born).days // 365
            for c in self.children
        ]
        reasons: dict[int, str] = {}
        for agency in self.planner.cast.agencies:
            kind = agency.kind
            reason = ""
            if kind == AgencyKind.CHILDRENS_SOCIAL_CARE:
                reason = "Children's social care records were checked by the hub at screening."
            elif kind == AgencyKind.HEALTH_MATERNITY and not any(a < 1 for a in ages):
                reason = "No pregnancy and no baby under one in the household."
            elif kind in (AgencyKind.HEALTH_VISITING, AgencyKind.EARLY_YEARS) and not any(
                a < 5 for a in ages
            ):
                reason = "No child under five."
            elif kind in (AgencyKind.HEALTH_SCHOOL_NURSING, AgencyKind.EDUCATION) and not any(
                a >= 4 for a in ages
            ):
                reason = "No child of school age."
            elif kind == AgencyKind.YOUTH_JUSTICE and not any(a >= 10 for a in ages):
                reason = "No child aged ten or over."
            if reason or kind not in self.planner.practitioner_kinds:
                reasons[agency.pk] = reason or "No practitioner of this agency in the hub."
        return reasons

    def rate(self, at: dt.datetime, actor: User, rag: str) -> list[Agency]:
        rng = self.planner.rng
        excluded = self.not_required()
        if rag in (Rag.AMBER, Rag.GREEN):
            # Proportionate checks: the core agencies and those the concern points to; for
            # amber, now and then one more.
            relevant = CORE_AGENCIES + RELEVANT_AGENCIES.get(self.theme.key, ())
            for agency in self.planner.cast.agencies:
                if (
                    agency.pk not in excluded
                    and agency.kind not in relevant
                    and (rag == Rag.GREEN or rng.random() < 0.75)
                ):
                    excluded[agency.pk] = rng.choice(PROPORTIONATE)
        rationale = self.fill(rng.choice(RAG_REASONS[rag]), label=self.theme.label)
        summary = self.fill(self.theme.summary) + " " + AGENCY_ASK
        self.rag = rag

        def rate() -> None:
            self.enquiry = enquiry_services.rate_enquiry(
                actor=actor,
                enquiry=self.live_enquiry,
                rag=rag,
                rationale=rationale,
                summary_for_agencies=summary,
                not_required=excluded,
            )
            self.requests = {}
            for request in AgencyRequest.objects.filter(enquiry=self.enquiry):
                request.enquiry = self.enquiry
                self.requests[request.agency_id] = request

        self.step(at, rate)
        return [a for a in self.planner.cast.agencies if a.pk not in excluded]

    def rerate(self, at: dt.datetime, actor: User, rag: str) -> None:
        direction = "up" if RAG_ORDER.index(rag) < RAG_ORDER.index(self.rag) else "down"
        reason = self.fill(self.planner.rng.choice(RERATE_REASONS[direction]))
        self.rag = rag

        def rerate() -> None:
            self.enquiry = enquiry_services.rate_enquiry(
                actor=actor, enquiry=self.live_enquiry, rag=rag, rationale=reason
            )

        self.step(at, rerate)

    def emit_answers(self, until: dt.datetime) -> None:
        """The answers, additions and exclusions planned up to `until`."""
        for plan in self.answers:
            if plan.excluded_at is not None and plan.excluded_at <= until:
                self._exclude(plan, plan.excluded_at)
            if plan.at is not None and plan.at <= until:
                self._answer(plan, plan.at)
                added = plan.addition_at
                if added is not None and added <= until:
                    self._add(plan, added)

    def _exclude(self, plan: AnswerPlan, at: dt.datetime) -> None:
        actor = self.planner.rng.choice(self.planner.cast.managers)
        reason = self.planner.rng.choice(
            (
                "Not relevant to this family: confirmed no involvement.",
                "The agency has told us it has had no contact with the family.",
            )
        )

        def exclude() -> None:
            enquiry_services.mark_not_required(
                actor=actor, request=self.requests[plan.agency.pk], reason=reason
            )

        self.step(at, exclude)

    def _answer(self, plan: AnswerPlan, at: dt.datetime) -> None:
        def answer() -> None:
            enquiry_services.answer_request(
                actor=plan.actor,
                request=self.requests[plan.agency.pk],
                items=plan.items,
                nothing_held=not plan.items,
            )

        self.step(at, answer)

    def _add(self, plan: AnswerPlan, at: dt.datetime) -> None:
        def add() -> None:
            enquiry_services.add_to_answer(
                actor=plan.actor, request=self.requests[plan.agency.pk], items=plan.addition
            )

        self.step(at, add)

    # -- decisions ----------------------------------------------------------------------

    def info(self, at: dt.datetime) -> str:
        holding = [
            p.agency.name
            for p in self.answers
            if p.at is not None and p.at <= at and (p.items or p.addition)
        ]
        asked = [p for p in self.answers if p.excluded_at is None]
        if not asked:
            return "No agency checks were made."
        if not holding:
            return f"{len(asked)} agencies checked; none holds anything of concern."
        if len(holding) == 1:
            return f"{len(asked)} agencies checked; only {holding[0]} holds relevant information."
        named = ", ".join(holding[:-1]) + " and " + holding[-1]
        return f"{len(asked)} agencies checked; {named} hold relevant information."

    def pending_at(self, at: dt.datetime) -> list[AnswerPlan]:
        return [
            p
            for p in self.answers
            if (p.excluded_at is None or p.excluded_at > at) and (p.at is None or p.at > at)
        ]

    def write_decision(self, plan: DecisionPlan) -> None:
        """The words of a decision, from its outcome (called again if the outcome changes)."""
        rng, child = self.planner.rng, self.children[plan.position]
        day = self.received.astimezone(clock.LONDON).date()
        age = None if child.born is None else (day - child.born).days // 365
        if plan.outcome in (Outcome.SIGNPOST, Outcome.NFA) and rng.random() < 0.4:
            plan.need = PrimaryNeed.N9
        elif not plan.need or plan.need == PrimaryNeed.N9:
            plan.need = rng.choice(self.theme.needs)
        plan.themes = list(self.theme.themes)
        if rng.random() < 0.12:
            plan.themes.append(
                rng.choice((Theme.SUBSTANCE_MISUSE, Theme.MENTAL_HEALTH, Theme.DOMESTIC_ABUSE))
            )
        plan.team = rng.choice(TEAMS[plan.outcome])
        plan.lead = None
        if plan.outcome == Outcome.EARLY_HELP:
            kinds: tuple[str, ...]
            if age is None or age < 5:
                kinds = (AgencyKind.HEALTH_VISITING, AgencyKind.EARLY_YEARS)
            elif age >= 12 and self.theme.key in ("knife", "missing"):
                kinds = (AgencyKind.YOUTH_JUSTICE, AgencyKind.EDUCATION)
            elif self.theme.key == "domestic_abuse" and rng.random() < 0.3:
                kinds = (AgencyKind.DOMESTIC_ABUSE,)
            else:
                kinds = (
                    AgencyKind.EDUCATION,
                    AgencyKind.EDUCATION,
                    AgencyKind.HEALTH_SCHOOL_NURSING,
                )
            plan.lead = self.planner.agency(rng.choice(kinds))
        info = self.info(plan.at)
        plan.rationale = self.fill(
            rng.choice(RATIONALE[plan.outcome]), child=child.name, label=self.theme.label, info=info
        )
        plan.feedback = FEEDBACK[plan.outcome].format(child=child.name, team=plan.team)

    def decide(self, plan: DecisionPlan) -> None:
        self.decision_plans.append(plan)

        def decide() -> None:
            self.decisions[plan.position] = enquiry_services.decide(
                actor=plan.actor,
                enquiry=self.live_enquiry,
                child=Person(pk=self.child_ids[plan.position]),
                outcome=plan.outcome,
                primary_need=plan.need,
                rationale=plan.rationale,
                next_team=plan.team,
                themes=plan.themes,
                lead_professional_agency=plan.lead,
                referrer_feedback=plan.feedback,
                pending_reason=plan.pending_reason,
            )

        self.step(plan.at, decide)

    def amend(self, plan: DecisionPlan, at: dt.datetime) -> None:
        rng = self.planner.rng
        kind = plan.amend_kind
        changes: dict[str, Any] = {}
        themes: list[str] | None = None
        reason = dict(AMENDMENTS)[kind]
        if kind == "primary_need":
            changes["primary_need"] = rng.choice(
                [n for n in (PrimaryNeed.N1, PrimaryNeed.N4, PrimaryNeed.N5) if n != plan.need]
            )
        elif kind == "next_team":
            changes["next_team"] = rng.choice(
                [t for t in TEAMS[plan.outcome] + ("Assessment Team 4",) if t != plan.team]
            )
        elif kind == "outcome":
            changes.update(
                outcome=Outcome.SECTION_17,
                next_team=rng.choice(TEAMS[Outcome.SECTION_17]),
                lead_professional_agency=None,
            )
        else:
            extra = next(
                t
                for t in (Theme.MENTAL_HEALTH, Theme.SUBSTANCE_MISUSE, Theme.NEGLECT)
                if t not in plan.themes
            )
            themes = [*plan.themes, extra]
        actor = rng.choice(self.planner.cast.managers)

        def amend() -> None:
            enquiry_services.amend_decision(
                actor=actor,
                decision=self.decisions[plan.position],
                reason=reason,
                themes=themes,
                **changes,
            )

        self.step(at, amend)


S = ReferralSource
# Who refers from each source (roles, organisation, email domain); the rest are made up
# on the spot (police, schools, GPs, other authorities, community groups).
REFERRERS: dict[str, tuple[tuple[str, ...], str, str]] = {
    S.EDUCATION_SERVICES: (
        ("Education welfare officer",),
        "Northbridge Education Welfare Service",
        "northbridge.example",
    ),
    S.HEALTH_VISITOR: (("Health visitor",), "Northbridge Health Visiting", "nhs.example"),
    S.SCHOOL_NURSE: (("School nurse",), "Northbridge School Nursing", "nhs.example"),
    S.A_AND_E: (
        ("Paediatric registrar", "Safeguarding nurse, Emergency Department"),
        "Northbridge University Hospital",
        "nhs.example",
    ),
    S.OTHER_HEALTH: (
        ("Community midwife", "Mental health nurse", "Dentist"),
        "Northbridge Health",
        "nhs.example",
    ),
    S.HOUSING: (("Housing officer",), "Northbridge Housing Options", "northbridge.example"),
    S.LA_SOCIAL_CARE: (
        ("Adult social worker",),
        "Northbridge Adult Social Care",
        "northbridge.example",
    ),
    S.LA_OTHER_INTERNAL: (
        ("Youth justice case worker",),
        "Northbridge Youth Justice Service",
        "northbridge.example",
    ),
    S.LA_EXTERNAL: (("Social worker", "Team manager"), "", "council.example"),
    S.EARLY_HELP: (("Family support worker",), "Northbridge Family Hubs", "northbridge.example"),
    S.OTHER_LEGAL: (("Family court adviser",), "Family court advisory service", "court.example"),
    S.OTHER: (("Youth worker", "Faith leader", "Football coach"), "", "community.example"),
    S.FAMILY: (("Maternal grandmother", "Maternal aunt", "Father (lives apart)"), "", ""),
    S.ACQUAINTANCE: (("Neighbour", "Family friend"), "", ""),
    S.SELF: (("Parent (asking for help)",), "", ""),
    S.OTHER_INDIVIDUAL: (("Member of the public",), "", ""),
}

RAG_ORDER = (Rag.URGENT, Rag.RED, Rag.AMBER, Rag.GREEN)
RAG_REASONS: dict[str, tuple[str, ...]] = {
    Rag.URGENT: (
        "Immediate risk of significant harm from {label}: strategy discussion now, with "
        "checks in parallel.",
    ),
    Rag.RED: (
        "Serious concern about {label}; information is needed today.",
        "Risk of significant harm from {label} cannot be ruled out: red.",
    ),
    Rag.AMBER: (
        "Concern about {label} needs checks within 24 hours; no sign of immediate danger.",
        "{label}: the children are safe tonight, but the picture is unclear.",
    ),
    Rag.GREEN: (
        "Lower-level concern about {label}; checks within 48 hours to inform early help.",
        "No immediate risk; checks to decide the right support.",
    ),
}
# Asked on every enquiry (where the children's ages make them relevant).
CORE_AGENCIES: tuple[str, ...] = (
    AgencyKind.POLICE,
    AgencyKind.HEALTH_GP,
    AgencyKind.HEALTH_VISITING,
    AgencyKind.HEALTH_SCHOOL_NURSING,
    AgencyKind.HEALTH_MATERNITY,
    AgencyKind.EDUCATION,
    AgencyKind.EARLY_YEARS,
)
# Also asked on an amber or green enquiry about the theme (red and urgent ask everyone).
RELEVANT_AGENCIES: dict[str, tuple[str, ...]] = {
    "domestic_abuse": (
        AgencyKind.DOMESTIC_ABUSE,
        AgencyKind.PROBATION,
        AgencyKind.ADULT_MENTAL_HEALTH,
        AgencyKind.HOUSING,
    ),
    "injury": (AgencyKind.HEALTH_ACUTE, AgencyKind.HEALTH_COMMUNITY),
    "neglect": (AgencyKind.HOUSING, AgencyKind.HEALTH_COMMUNITY, AgencyKind.HEALTH_ACUTE),
    "missing": (AgencyKind.YOUTH_JUSTICE, AgencyKind.CAMHS, AgencyKind.HOUSING),
    "online": (AgencyKind.CAMHS,),
    "mental_health": (
        AgencyKind.ADULT_MENTAL_HEALTH,
        AgencyKind.HEALTH_ACUTE,
        AgencyKind.CAMHS,
    ),
    "substance": (
        AgencyKind.ADULT_MENTAL_HEALTH,
        AgencyKind.PROBATION,
        AgencyKind.HOUSING,
        AgencyKind.HEALTH_ACUTE,
    ),
    "private_fostering": (AgencyKind.HOUSING,),
    "fgm": (AgencyKind.HEALTH_ACUTE, AgencyKind.HEALTH_COMMUNITY),
    "radicalisation": (AgencyKind.YOUTH_JUSTICE, AgencyKind.CAMHS),
    "forced_marriage": (AgencyKind.CAMHS, AgencyKind.HOUSING),
    "sexual_abuse": (AgencyKind.HEALTH_ACUTE, AgencyKind.CAMHS, AgencyKind.PROBATION),
    "knife": (AgencyKind.YOUTH_JUSTICE, AgencyKind.CAMHS, AgencyKind.HEALTH_ACUTE),
    "family_stress": (AgencyKind.HOUSING, AgencyKind.HEALTH_COMMUNITY),
}
PROPORTIONATE = (
    "Proportionate checks: nothing suggests this agency knows the family.",
    "Not relevant to this concern.",
    "No indication of involvement; not needed for this rating.",
)
AGENCY_ASK = (
    "Please share what you hold on the named children and adults: previous concerns, current "
    "involvement and risk indicators."
)


OPEN_STATES = (
    "consent",
    "rating_proposed",
    "checks",
    "overdue",
    "answered",
    "urgent",
    "rating",
    "consent_override",
    "checks",
    "overdue",
    "answered",
    "part_decided",
    "checks",
    "consent_refused",
    "rating_proposed",
    "checks",
    "overdue",
    "answered",
    "checks",
    "urgent",
    "rating",
    "checks",
    "overdue",
    "consent",
    "checks",
    "answered",
    "rating_proposed",
    "checks",
    "overdue",
    "checks",
)
# Themes a household adult (or, failing one, a new person) is alleged to cause harm in.
ALLEGED_THEMES = ("domestic_abuse", "sexual_abuse", "injury", "substance")
OUTCOME_WEIGHTS: dict[str, dict[str, float]] = {
    Rag.URGENT: {Outcome.SECTION_47: 85, Outcome.SECTION_17: 15},
    Rag.RED: {
        Outcome.SECTION_47: 22,
        Outcome.SECTION_17: 45,
        Outcome.EARLY_HELP: 18,
        Outcome.SIGNPOST: 2,
        Outcome.NFA: 5,
    },
    Rag.AMBER: {
        Outcome.SECTION_47: 4,
        Outcome.SECTION_17: 30,
        Outcome.EARLY_HELP: 40,
        Outcome.SIGNPOST: 14,
        Outcome.NFA: 10,
    },
    Rag.GREEN: {
        Outcome.SECTION_47: 1,
        Outcome.SECTION_17: 10,
        Outcome.EARLY_HELP: 42,
        Outcome.SIGNPOST: 27,
        Outcome.NFA: 20,
    },
}
REFERRALS = (Outcome.SECTION_47, Outcome.SECTION_17)


# A concern template may start "[4-15] ": it fits a child of that age (years) only.
_AGES = re.compile(r"^\[(\d+)-(\d+)\] ")


def _fits_age(template: str, age: int) -> bool:
    found = _AGES.match(template)
    return found is None or int(found[1]) <= age <= int(found[2])


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


def _and(words: Sequence[str]) -> str:
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


class Planner:
    """Draws the hub's history and open work as timed steps, then runs them in time order."""

    def __init__(self, *, seed_value: int, now: dt.datetime) -> None:
        self.rng = random.Random(seed_value * 7919 + 17)  # noqa: S311  (invented data)
        self.faker = Faker("en_GB")
        self.faker.seed_instance(seed_value + 1)
        self.now = now
        self.today = now.astimezone(clock.LONDON).date()
        self.anchor = dt.datetime.combine(self.today, dt.time.min, tzinfo=clock.LONDON)
        hub = Hub.load()
        self.calendar = hub.calendar()
        self.durations = {rag: hub.duration_for(rag) for rag in Rag.values}
        self.cast = Cast.load()
        self.practitioner_kinds = {
            a.kind for a in self.cast.agencies if self.cast.practitioners.get(a.pk)
        }
        self._agency_by_kind = {a.kind: a for a in self.cast.agencies}
        self.schools = [
            f"{self.faker.last_name()} {kind}"
            for kind in ("Primary School", "Primary School", "Academy", "Primary School")
            for _ in range(4)
        ]
        self.surgeries = [f"{self.faker.last_name()} Medical Practice" for _ in range(8)]
        self.neighbours = list(
            LocalAuthority.objects.filter(code__in=NEIGHBOUR_LA_CODES, is_active=True).order_by(
                "code"
            )
        )
        self.homes = load_homes(self.today, self.schools, self.surgeries)
        self._cum = list(
            itertools.accumulate(self.rng.choice((0.3, 1, 1, 1, 2, 3)) for _ in self.homes)
        )
        self.steps: list[Step] = []
        self._seq = itertools.count()
        # Children's referral decisions (strategy discussion or section 17), as planned.
        self.referrals: dict[int, list[dt.datetime]] = defaultdict(list)
        self.homes_of: dict[int, Home] = {c.pk: h for h in self.homes for c in h.children}
        self.cases: list[Case] = []
        self.stats: Counter[str] = Counter()

    # -- helpers --------------------------------------------------------------------------

    def add(self, moment: dt.datetime, run: Callable[[], Any]) -> None:
        if moment > self.now:
            raise ValueError(f"A demo step was planned in the future ({moment:%Y-%m-%d %H:%M})")
        heapq.heappush(self.steps, Step(moment, next(self._seq), run))

    def agency(self, kind: str) -> Agency | None:
        return self._agency_by_kind.get(kind)

    def other(self, users: Sequence[User], not_this: User) -> User:
        others = [u for u in users if u.pk != not_this.pk]
        return self.rng.choice(others or list(users))

    def office(self, moment: dt.datetime) -> dt.datetime:
        """The moment, or the next opening of the hub's office (08:30 to 18:00 on working days)."""
        local = moment.astimezone(clock.LONDON)
        day = local.date()
        opens, closes = dt.time(8, 30), dt.time(18, 0)
        if self.calendar.is_working_day(day) and opens <= local.time() < closes:
            return moment
        if local.time() >= opens:
            day += DAY
        while not self.calendar.is_working_day(day):
            day += DAY
        start = dt.datetime.combine(day, opens, tzinfo=clock.LONDON)
        return start + MINUTE * self.rng.randint(0, 80)

    def minutes(self, low: int, high: int) -> dt.timedelta:
        return MINUTE * self.rng.randint(low, high)

    def deadline(self, rated: dt.datetime, rag: str) -> dt.datetime:
        return clock.deadline(rated, self.durations[rag], self.calendar)

    # -- who the contact is about -----------------------------------------------------------

    def kids_at(self, home: Home, day: dt.date) -> list[Person]:
        return [
            c
            for c in home.children
            if c.date_of_birth is not None
            and c.date_of_birth <= day - 14 * DAY
            and (_age(c, day) or 0) < 18
        ]

    def fits(self, theme: ThemeSpec, child: Person, day: dt.date, source: str = "") -> bool:
        age = _age(child, day)
        low, high = theme.ages
        youngest, oldest = SOURCE_AGES.get(source, (0, 17))
        return (
            age is not None
            and max(low, youngest) <= age <= min(high, oldest)
            and (not theme.sex or child.sex == theme.sex)
        )

    def pick_home(
        self, at: dt.datetime, theme: ThemeSpec, min_children: int = 1, source: str = ""
    ) -> tuple[Home, Person, list[Person]] | None:
        day = at.astimezone(clock.LONDON).date()
        for _ in range(80):
            home = self.rng.choices(self.homes, cum_weights=self._cum)[0]
            if home.joined > at - DAY or home.busy_until >= at or not home.adults:
                continue
            kids = self.kids_at(home, day)
            subjects = [k for k in kids if self.fits(theme, k, day, source)]
            if subjects and len(kids) >= min_children:
                return home, self.rng.choice(subjects), kids
        return None

    def rereferral_candidate(self, at: dt.datetime) -> tuple[Home, Person] | None:
        day = at.astimezone(clock.LONDON).date()
        found = []
        for pk, moments in self.referrals.items():
            if not any(at - dt.timedelta(days=350) < m < at - 7 * DAY for m in moments):
                continue
            home = self.homes_of.get(pk)
            if home is None or home.busy_until >= at:
                continue
            child = next(c for c in home.children if c.pk == pk)
            if child in self.kids_at(home, day):
                found.append((home, child))
        return self.rng.choice(found) if found else None

    def source_for(self, theme: str, child: Person, at: dt.datetime) -> str:
        """A likely referral source for a theme and a child of this age."""
        age = _age(child, at.astimezone(clock.LONDON).date()) or 0
        weights = {
            s: SOURCE_WEIGHTS[s] * t.get(theme, 0)
            for s, t in THEMES_BY_SOURCE.items()
            if t.get(theme, 0)
            and SOURCE_AGES.get(s, (0, 17))[0] <= age <= SOURCE_AGES.get(s, (0, 17))[1]
        }
        return _weighted(self.rng, weights) if weights else ReferralSource.POLICE

    # -- what was typed ----------------------------------------------------------------------

    def typed(self, person: Person, home: Home, day: dt.date, voice: str, role: str) -> Named:
        rng = self.rng
        given, family = person.given_name, person.family_name
        if given in NICKNAMES and rng.random() < 0.3:
            given = NICKNAMES[given]
        if len(family) > 5 and rng.random() < 0.03:
            i = rng.randrange(1, len(family) - 2)
            family = family[:i] + family[i + 1] + family[i] + family[i + 2 :]
        child = role == PersonRole.CHILD
        born = person.date_of_birth
        odds = rng.random()
        if child:
            swapped = matching.swapped(born)
            if odds < 0.82:
                typed_born = born
            elif odds < 0.88 and swapped is not None and swapped <= day:
                typed_born = swapped
            else:
                typed_born = None
        else:
            typed_born = born if odds < 0.55 else None
        nhs_odds = (0.85 if voice == "health" else 0.2) if child else 0.08
        nhs = person.nhs_number if person.nhs_number and rng.random() < nhs_odds else ""
        upn = person.upn if person.upn and voice == "school" and rng.random() < 0.7 else ""
        with_address = rng.random() < 0.92
        age = _age(person, day) or 0
        entry = contact_services.PersonEntry(
            role=role,
            given_name=given,
            family_name=family,
            date_of_birth=typed_born,
            sex=person.sex,
            ethnicity=person.ethnicity if rng.random() < 0.75 else "NOBT",
            nhs_number=nhs or "",
            upn=upn or "",
            address_line_1=home.line_1 if with_address else "",
            town=home.town if with_address else "",
            postcode=home.postcode if with_address else "",
            school=home.school if child and age >= 4 and rng.random() < 0.8 else "",
            gp=home.surgery if rng.random() < 0.5 else "",
            link_to=person.pk,
        )
        return self._matched(entry, person, given)

    def _matched(self, entry: contact_services.PersonEntry, person: Person, name: str) -> Named:
        found = matching.score(
            matching.Query(
                given_name=entry.given_name,
                family_name=entry.family_name,
                date_of_birth=entry.date_of_birth,
                nhs_number=entry.nhs_number,
                upn=entry.upn,
                postcode=entry.postcode,
            ),
            person,
        )
        entry = dataclasses.replace(entry, match_score=found.score, match_reasons=found.reasons)
        born = None if entry.expected_date_of_birth else person.date_of_birth
        return Named(entry=entry, person=person, name=name, born=born, sex=person.sex)

    def unborn(self, home: Home, day: dt.date, taken: list[Person]) -> Named | None:
        """An unborn child: one the index knows (born, or due, later) or a new record."""
        mother = home.adults[0]
        later = [
            c
            for c in home.children
            if c not in taken and day + 20 * DAY < _born(c) < day + 280 * DAY
        ]
        if later:
            child = later[0]
            due = _born(child) + DAY * self.rng.randint(-7, 7)
            entry = contact_services.PersonEntry(
                role=PersonRole.CHILD,
                given_name="Unborn",
                family_name=mother.family_name,
                expected_date_of_birth=due,
                sex=Sex.UNKNOWN,
                ethnicity=mother.ethnicity,
                postcode=home.postcode,
                address_line_1=home.line_1,
                town=home.town,
                link_to=child.pk,
            )
            return self._matched(entry, child, "the unborn baby")
        earliest = max(day + 30 * DAY, self.today + 14 * DAY)
        latest = day + 280 * DAY
        if earliest >= latest:
            return None
        due = earliest + DAY * self.rng.randrange((latest - earliest).days)
        entry = contact_services.PersonEntry(
            role=PersonRole.CHILD,
            given_name="Unborn",
            family_name=mother.family_name,
            expected_date_of_birth=due,
            sex=Sex.UNKNOWN,
            ethnicity=mother.ethnicity,
        )
        return Named(entry=entry, person=None, name="the unborn baby")

    def new_adult(self, day: dt.date, kind: str) -> Named:
        f, rng = self.faker, self.rng
        sex = Sex.MALE if kind == "alleged" or rng.random() < 0.3 else Sex.FEMALE
        given = f.first_name_male() if sex == Sex.MALE else f.first_name_female()
        family = f.last_name()
        born = day - DAY * rng.randint(21 * 365, 48 * 365) if rng.random() < 0.6 else None
        with_address = kind == "carer" or rng.random() < 0.3
        district = rng.choice(("SE1", "SE5", "SE15", "SE16", "SE17", "SE22", "SE24"))
        entry = contact_services.PersonEntry(
            role=PersonRole.ADULT,
            given_name=given,
            family_name=family,
            date_of_birth=born,
            sex=sex,
            address_line_1=f.street_address().replace("\n", ", ") if with_address else "",
            town="London" if with_address else "",
            postcode=f"{district} {rng.randrange(1, 10)}{rng.choice('ABDEHJLNPRSTUWXYZ')}"
            f"{rng.choice('ABDEHJLNPRSTUWXYZ')}"
            if with_address
            else "",
        )
        return Named(entry=entry, person=None, name=given, born=born, sex=sex)

    def referrer(self, source: str, home: Home, mother: str) -> dict[str, Any]:
        f, rng = self.faker, self.rng
        first, last = f.first_name(), f.last_name()
        name, domain = f"{first} {last}", ""
        role, organisation = "", ""
        if source == S.ANONYMOUS:
            return {"referrer_anonymous": True, "referrer_role": "Member of the public"}
        if source == S.UNKNOWN:
            return {"referrer_role": "Not recorded", "referrer_phone": f.phone_number()}
        if source == S.POLICE:
            name = f"{rng.choice(('PC', 'PC', 'DC', 'PS'))} {first} {last}"
            role = rng.choice(("Response officer", "Public Protection Unit", "MASH researcher"))
            organisation, domain = "Northbridge Police", "police.example"
        elif source == S.SCHOOLS:
            role = rng.choice(
                ("Designated safeguarding lead", "Deputy DSL", "Head teacher", "Class teacher")
            )
            organisation, domain = home.school, "school.example"
        elif source in (S.GP, S.OTHER_PRIMARY_HEALTH):
            if source == S.GP:
                name, role = f"Dr {first} {last}", "GP"
            else:
                role = rng.choice(("Practice nurse", "Community pharmacist"))
            organisation, domain = home.surgery, "nhs.example"
        else:
            roles, organisation, domain = REFERRERS[source]
            role = rng.choice(roles)
            if source == S.LA_EXTERNAL:
                organisation = f"{f.city()} Children's Services"
            elif source == S.OTHER:
                organisation = f"{f.last_name()} Community Centre"
            if source == S.SELF:
                name = mother
        email = f"{first}.{last}@{domain}".lower().replace("'", "") if domain else ""
        return {
            "referrer_name": name,
            "referrer_role": role,
            "referrer_organisation": organisation,
            "referrer_phone": f.phone_number(),
            "referrer_email": email,
        }

    def build(
        self,
        at: dt.datetime,
        source: str,
        theme: ThemeSpec,
        home: Home,
        subject: Person,
        kids: list[Person],
        *,
        rereferral: bool = False,
        consent: bool | None = None,
        siblings: bool | None = None,
        severe: bool = False,
    ) -> Case:
        rng, day = self.rng, at.astimezone(clock.LONDON).date()
        voice = VOICE.get(source, "any")
        named = [subject]
        if siblings if siblings is not None else rng.random() < theme.siblings:
            named += [k for k in kids if k is not subject]
        children = [self.typed(p, home, day, voice, PersonRole.CHILD) for p in named]
        mother_p = home.adults[0]
        if mother_p.sex == Sex.FEMALE and rng.random() < theme.pregnancy:
            unborn = self.unborn(home, day, named)
            if unborn is not None:
                children.append(unborn)
        adults = [self.typed(a, home, day, voice, PersonRole.ADULT) for a in home.adults[:2]]

        concerns = theme.concerns.get(voice) or theme.concerns.get("any") or ()
        if source == ReferralSource.LA_EXTERNAL or not concerns:
            concerns = theme.concerns.get("any") or next(iter(theme.concerns.values()))
        subject_age = _age(subject, day) or 0
        everything = [c for group in theme.concerns.values() for c in group]
        for candidates in (concerns, theme.concerns.get("any", ()), everything):
            fitting = tuple(c for c in candidates if _fits_age(c, subject_age))
            if fitting:
                concerns = fitting
                break
        if severe:
            concerns = tuple(c for c in concerns if not any(m in c for m in MILD)) or concerns
        template = _AGES.sub("", rng.choice(concerns))
        partner: Named | None = adults[1] if len(adults) > 1 else None
        partner_name = partner.name if partner else "the children's father"
        partner_full = f"{partner.name} {partner.entry.family_name}" if partner else partner_name
        relationships: list[contact_services.RelationshipEntry] = []
        if partner is None and theme.key in ALLEGED_THEMES and "{partner" in template:
            partner = self.new_adult(day, "alleged")
            partner_name = partner.name
            partner_full = f"{partner.name} {partner.entry.family_name}"
            adults.append(partner)
        carer = ""
        if theme.new_adult == "carer":
            carer_p = self.new_adult(day, "carer")
            carer = f"{carer_p.name} {carer_p.entry.family_name}"
            adults.append(carer_p)
        for a, adult in enumerate(adults):
            for c in range(len(children)):
                if a == 0:
                    relation = Relationship.PARENT
                elif adult.person is None:
                    relation = Relationship.CARER if carer else Relationship.ALLEGED_HARM
                elif adult.entry.family_name == home.family_name:
                    relation = Relationship.PARENT
                else:
                    relation = rng.choice(
                        (Relationship.PARTNER_OF_PARENT, Relationship.STEP_PARENT)
                    )
                relationships.append(contact_services.RelationshipEntry(a, c, relation))

        born_kids = [c for c in children if c.born is not None]
        first = children[0]
        if first.born is None:
            raise ValueError("The first child on a demo contact is always born")
        male = first.sex == Sex.MALE
        mother = adults[0].name
        ctx = {
            "child": first.name,
            "age": _age_text(first.born, day),
            "he": "he" if male else "she",
            "He": "He" if male else "She",
            "his": "his" if male else "her",
            "him": "him" if male else "her",
            "rel_child": "son" if male else "daughter",
            "kids": _and([f"{c.name} ({_age_text(c.born, day)})" for c in born_kids if c.born]),
            "kid_names": _and([c.name for c in born_kids]),
            "were": "were" if len(born_kids) > 1 else "was",
            "are": "are" if len(born_kids) > 1 else "is",
            "live": "live" if len(born_kids) > 1 else "lives",
            "mother": mother,
            "mother_full": f"{mother} {adults[0].entry.family_name}",
            "partner": partner_name,
            "partner_full": partner_full,
            "carer": carer,
            "weekday": (at - DAY * rng.randint(0, 1)).astimezone(clock.LONDON).strftime("%A"),
            "time": rng.choice(("9pm", "10.30pm", "11pm", "1am", "2.15am", "6pm")),
            "dash": rng.choice(("standard", "medium", "medium", "high")),
            "da_quote": rng.choice(DA_QUOTES),
            "injury_quote": rng.choice(INJURY_QUOTES),
            "pct": str(rng.randint(58, 89)),
            "arrears": f"{rng.randint(8, 60) * 50:,}",
            "far_town": rng.choice(PLACES),
            "near_town": rng.choice(NEAR_PLACES),
            "miles": str(rng.randint(40, 180)),
            "cash": str(rng.randint(4, 30) * 20),
            "nth": rng.choice(("third", "fourth", "fifth")),
            "mobility": "not yet crawling"
            if (day - first.born).days < 240
            else "just starting to walk",
        }
        if consent is None:
            consent = rng.random() < theme.consent
        if theme.key == "family_stress" and source in (ReferralSource.SELF, ReferralSource.FAMILY):
            told = "The family asked for this help themselves."
        elif consent and voice == "police":
            told = (
                "The family were told at the incident that children's services would be notified."
            )
        elif consent:
            told = rng.choice(
                (
                    "{mother} knows about this referral and agreed to it.",
                    "Mother told that the hub will be in touch; she is happy for agencies to talk.",
                    "{mother} was told we are worried and that we are contacting the hub.",
                )
            ).format_map(ctx)
        else:
            told = rng.choice(
                (
                    "The family have not been told: telling them could put the child at risk.",
                    "Not told: police advised against it while they investigate.",
                    "Nothing said to the family yet.",
                )
            )
        channel_key = "other_la" if source == ReferralSource.LA_EXTERNAL else voice
        concern = template.format_map(ctx)
        if source == ReferralSource.LA_EXTERNAL:
            concern = (
                f"Transfer of concern: the family moved to Northbridge from our area "
                f"{rng.choice(('last month', 'in the summer', 'three weeks ago'))}. {concern}"
            )
        channel = _weighted(rng, CHANNELS.get(channel_key, CHANNELS["any"]))
        details = contact_services.Details(
            received_at=at,
            channel=channel,
            referral_source=source,
            concern=concern,
            family_told=told,
            # A transfer in names the authority that sent it: a neighbouring one.
            from_local_authority=(
                rng.choice(self.neighbours)
                if (source == ReferralSource.LA_EXTERNAL or channel == Channel.OTHER_LA)
                and self.neighbours
                else None
            ),
            **self.referrer(source, home, ctx["mother_full"]),
        )
        case = Case(
            self,
            theme=theme,
            source=source,
            received=at,
            home=home,
            children=children,
            adults=adults,
            relationships=relationships,
            details=details,
            ctx=ctx,
            rereferral=rereferral,
        )
        case.consent_given = consent
        case.mild = any(m in template for m in MILD)
        self.cases.append(case)
        return case

    # -- agency answers ---------------------------------------------------------------------

    def items(
        self, case: Case, kind: str, templates: Sequence[ItemTemplate], count: int
    ) -> list[enquiry_services.ItemEntry]:
        rng = self.rng
        has_partner = len(case.adults) > 1
        fits = [
            t
            for t in templates
            if (not t.themes or case.theme.key in t.themes)
            and (has_partner or "{partner" not in t.summary + t.detail)
        ]
        day = case.received.astimezone(clock.LONDON).date()
        entries = []
        for template in rng.sample(fits, k=min(count, len(fits))):
            back = sorted((rng.randint(20, 700) for _ in range(3)), reverse=True)
            values = {
                "n": str(rng.randint(2, 5)),
                "pct": str(rng.randint(58, 89)),
                "d0": f"{day + DAY:%-d %B %Y}",
                "d1": f"{day - DAY * back[0]:%-d %B %Y}",
                "d2": f"{day - DAY * back[1]:%-d %B %Y}",
                "d3": f"{day - DAY * back[2]:%-d %B %Y}",
                "year": str(day.year - rng.randint(1, 6)),
                "month_year": f"{day - DAY * rng.randint(30, 400):%B %Y}",
                "arrears": f"{rng.randint(8, 60) * 50:,}",
            }
            sensitivity = rng.choices(
                (Sensitivity.SHAREABLE, Sensitivity.PROFESSIONALS, Sensitivity.MASH_ONLY),
                template.sensitivity,
            )[0]
            reference = REFERENCES.get(kind, "REF-{n6}").format(
                n5=rng.randint(10000, 99999),
                n6=rng.randint(100000, 999999),
                n7=rng.randint(1000000, 9999999),
                yy=f"{day:%y}",
            )
            entries.append(
                enquiry_services.ItemEntry(
                    summary=case.fill(template.summary, **values),
                    detail=case.fill(template.detail, **values),
                    risk_indicators=list(template.risks),
                    source_reference=reference,
                    sensitivity=sensitivity,
                )
            )
        return entries

    def plan_answers(
        self,
        case: Case,
        rated: dt.datetime,
        requested: list[Agency],
        *,
        round_the_clock: bool = False,
    ) -> dt.datetime:
        """Who answers when, and with what; returns the deadline. Answers fall in the day
        unless `round_the_clock` (today's open work, whose timing must not hang on the hour
        the demo is seeded at)."""
        rng = self.rng
        due = self.deadline(rated, case.rag)
        case.due = due
        span = due - rated
        for agency in requested:
            kind = agency.kind
            holds = HOLDS.get(kind, 0.3) + HOLDS_FOR_THEME.get(case.theme.key, {}).get(kind, 0)
            count = rng.choices((1, 2, 3), (60, 30, 10))[0] if rng.random() < holds else 0
            items = self.items(case, kind, ITEMS.get(kind, ()), count) if count else []
            late = rng.random() < LATE.get(kind, 0.08)
            # Several tries at an answer in the day (police work round the clock); always
            # drawn, so the plan never depends on the hour it is planned at.
            tries = [rng.uniform(0.06, 0.95 if items else 0.7) for _ in range(4)]
            gap = rng.uniform(0.05, 0.8)
            at = due + span * gap + self.minutes(0, 120)
            if not late:
                moments = [rated + span * u for u in tries]
                at = next(
                    (
                        m
                        for m in moments
                        if round_the_clock
                        or kind == AgencyKind.POLICE
                        or 7 <= m.astimezone(clock.LONDON).hour < 20
                    ),
                    moments[-1],
                )
            plan = AnswerPlan(
                agency=agency,
                actor=rng.choice(self.cast.practitioners[agency.pk]),
                at=at,
                items=items,
            )
            if items and rng.random() < 0.06:
                plan.addition_after = self.minutes(30, 600)
                more = ADDITIONS.get(kind) or ADDITIONS[""]
                plan.addition = self.items(case, kind, more, 1) or self.items(
                    case, kind, ADDITIONS[""], 1
                )
            if rng.random() < 0.02:
                plan.excluded_at = rated + self.minutes(20, 120)
                plan.at = None
            case.answers.append(plan)
        return due

    # -- decisions --------------------------------------------------------------------------

    def outcome(self, rag: str) -> str:
        return _weighted(self.rng, OUTCOME_WEIGHTS[rag])

    def decide_all(
        self,
        case: Case,
        at: dt.datetime,
        *,
        outcome: str,
        only_first: bool = False,
        referral_child: Person | None = None,
    ) -> None:
        rng = self.rng
        manager = rng.choice(self.cast.managers)
        pending = case.pending_at(at)
        if not case.rag:
            reason = (
                "Consent was refused and the grounds to override it are not met, so no agency "
                "could be asked; the family's needs are clear enough from the contact."
            )
        elif not pending:
            reason = ""
        elif case.rag == Rag.URGENT:
            reason = PENDING_REASONS[0]
        elif case.due is not None and at > case.due:
            reason = PENDING_REASONS[2]
        else:
            reason = PENDING_REASONS[1]
        for position, child in enumerate(case.children[:1] if only_first else case.children):
            chosen = outcome
            if position and rng.random() < 0.25 and case.rag:
                chosen = self.outcome(case.rag)
            if referral_child is not None and child.person is referral_child:
                chosen = outcome
            plan = DecisionPlan(
                position=position,
                at=at + MINUTE * (position * rng.randint(2, 6)),
                actor=manager,
                outcome=chosen,
                pending_reason=reason,
            )
            case.write_decision(plan)
            case.decide(plan)
            self.stats["decisions"] += 1
            if chosen in REFERRALS and child.person is not None:
                self.note_referral(case, child.person.pk, plan.at)

    def note_referral(self, case: Case, pk: int, at: dt.datetime) -> None:
        earlier = self.referrals[pk]
        if any(at - RE_REFERRAL_WINDOW < m < case.received for m in earlier):
            self.stats["re-referrals"] += 1
        earlier.append(at)

    # -- history ----------------------------------------------------------------------------

    def plan_history(self, count: int) -> None:
        rng = self.rng
        start = self.anchor - HISTORY_DAYS * DAY
        days = HISTORY_DAYS - 16
        arrivals = []
        sources = list(SOURCE_WEIGHTS)
        weights = [SOURCE_WEIGHTS[s] for s in sources]
        for _ in range(count):
            source = rng.choices(sources, weights)[0]
            day = (start + DAY * rng.randrange(days)).date()
            if source == ReferralSource.POLICE:
                minute = int(rng.triangular(0, 24 * 60, 21 * 60))
            else:
                while day.weekday() >= 5 and rng.random() < 0.85:
                    day += DAY
                minute = rng.randint(8 * 60 + 15, 17 * 60 + 45)
            moment = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), clock.LONDON)
            arrivals.append((moment, source))
        arrivals.sort(key=lambda a: a[0])
        for i, (moment, source) in enumerate(arrivals):
            force = not self.stats["re-referrals"] and i >= count // 2
            self.history_case(moment, source, force_rereferral=force)

    def history_case(self, at: dt.datetime, source: str, *, force_rereferral: bool) -> None:
        rng = self.rng
        day = at.astimezone(clock.LONDON).date()
        picked: tuple[Home, Person, list[Person]] | None = None
        referral_child: Person | None = None
        theme = THEME_BY_KEY["neglect"]
        if force_rereferral or rng.random() < 0.08:
            candidate = self.rereferral_candidate(at)
            if candidate is not None:
                home, child = candidate
                if not self.fits(THEME_BY_KEY["domestic_abuse"], child, day, source):
                    source = rng.choice(NEUTRAL_SOURCES)  # one that refers children of any age
                options = {
                    k: w
                    for k, w in THEMES_BY_SOURCE[source].items()
                    if self.fits(THEME_BY_KEY[k], child, day, source)
                } or {"domestic_abuse": 1.0}
                theme = THEME_BY_KEY[_weighted(rng, options)]
                picked = (home, child, self.kids_at(home, day))
                referral_child = child
        for _ in range(8):
            if picked is not None:
                break
            theme = THEME_BY_KEY[_weighted(rng, THEMES_BY_SOURCE[source])]
            picked = self.pick_home(at, theme, source=source)
        if picked is None:
            source, theme = ReferralSource.POLICE, THEME_BY_KEY["domestic_abuse"]
            picked = self.pick_home(at, theme, source=source)
        if picked is None:
            self.stats["skipped"] += 1
            return
        home, subject, kids = picked
        force_override = (
            not self.stats["overrides"]
            and self.stats["enquiries"] >= 2
            and theme.key != "family_stress"
        )
        case = self.build(
            at,
            source,
            theme,
            home,
            subject,
            kids,
            rereferral=referral_child is not None,
            consent=False if force_override else None,
        )
        self.live(case, referral_child=referral_child, force_progress=force_override)
        home.busy_until = case.last + DAY
        if any(p.outcome in REFERRALS for p in case.decision_plans):
            # A social worker now has the family: new worries go to them, not the front door,
            # until the case closes.
            home.busy_until += DAY * rng.randint(60, 200)
        if case.last > self.anchor:
            raise ValueError("A closed demo enquiry ran past the start of today")

    def live(
        self, case: Case, *, referral_child: Person | None = None, force_progress: bool = False
    ) -> None:
        """A contact's whole life, from arrival to decision (and perhaps an amendment)."""
        rng, cast = self.rng, self.cast
        coordinator = rng.choice(cast.coordinators)
        submit_at = self.office(case.received + self.minutes(4, 45))
        draft_at = submit_at - self.minutes(8, 40) if rng.random() < 0.12 else None
        if draft_at is not None and draft_at <= case.received:
            draft_at = None
        case.submit(submit_at, coordinator, draft_at)
        screen_at = self.office(submit_at + self.minutes(10, 150))
        screener = coordinator if rng.random() < 0.7 else rng.choice(cast.managers)
        chance = case.theme.progress * (0.5 if case.mild else 1.0)
        if referral_child is not None or force_progress:
            chance = 1.0
        self.stats["contacts"] += 1
        if rng.random() >= chance:
            outcome = _weighted(
                rng,
                {
                    Screening.NO_FURTHER_ACTION: 40,
                    Screening.ADVICE: 35,
                    Screening.SIGNPOSTED: 60 if case.theme.key == "family_stress" else 25,
                },
            )
            case.screen(screen_at, screener, outcome)
            return
        case.screen(screen_at, screener, Screening.PROGRESS)
        self.stats["enquiries"] += 1

        # Consent, or an override.
        manager = rng.choice(cast.managers)
        if case.consent_given:
            ready = self.office(screen_at + self.minutes(20, 300))
            case.consent(ready, coordinator, ConsentStatus.GIVEN)
        else:
            status = ConsentStatus.NOT_SOUGHT if rng.random() < 0.7 else ConsentStatus.REFUSED
            at = screen_at + self.minutes(10, 60)
            case.consent(at, coordinator, status)
            self.stats["overrides"] += 1
            if rng.random() < 0.35:
                ready = at + self.minutes(5, 30)
                case.propose_override(ready, manager)
            else:
                proposed = at + self.minutes(5, 30)
                case.propose_override(proposed, coordinator)
                ready = self.office(proposed + self.minutes(10, 90))
                authorise = not (
                    status == ConsentStatus.REFUSED
                    and referral_child is None
                    and case.theme.key in ("family_stress", "neglect", "mental_health")
                    and rng.random() < 0.5
                )
                case.decide_override(ready, manager, authorise=authorise)
                if not authorise:
                    self.stats["overrides"] -= 1
                    decide_at = self.office(ready + self.minutes(60, 240))
                    self.decide_all(
                        case, decide_at, outcome=rng.choice((Outcome.SIGNPOST, Outcome.NFA))
                    )
                    return

        # Rating, agency checks and the decision.
        weights = (0, 0, 40, 60) if case.mild else case.theme.rag
        rag = _weighted(rng, dict(zip(RAG_ORDER, weights, strict=True)))
        if case.rereferral and rag != Rag.URGENT and rng.random() < 0.2:
            rag = RAG_ORDER[RAG_ORDER.index(rag) - 1]
        if rng.random() < 0.55:
            guess = rag if rng.random() < 0.8 else rng.choice(RAG_ORDER[1:])
            ready += self.minutes(5, 40)
            case.propose_rating(ready, coordinator, guess)
        fast = rag in (Rag.URGENT, Rag.RED)
        rated = ready + self.minutes(10, 45) if fast else self.office(ready + self.minutes(15, 180))
        requested = case.rate(rated, manager, rag)
        due = self.plan_answers(case, rated, requested)
        if rag != Rag.URGENT and rng.random() < 0.04:
            new_rag = rng.choice([r for r in RAG_ORDER[1:] if r != rag])
            rerated = rated + (due - rated) * rng.uniform(0.2, 0.45)
            case.rerate(rerated, manager, new_rag)
            new_due = self.deadline(rerated, new_rag)
            for plan in case.answers:
                if plan.at is not None and plan.at > rerated:
                    plan.at = max(
                        rerated + (plan.at - rerated) * ((new_due - rerated) / (due - rated)),
                        rerated + 5 * MINUTE,
                    )
            due = case.due = new_due
            self.stats["re-ratings"] += 1
        answered = [p.at for p in case.answers if p.at is not None]
        last = max(answered, default=rated + 30 * MINUTE)
        if rag == Rag.URGENT:
            decide_at = rated + self.minutes(40, 150)
        elif last > due + 8 * HOUR and rng.random() < 0.3:
            decide_at = self.office(due + self.minutes(60, 240))
        elif rng.random() < 0.03:
            decide_at = self.office(rated + (due - rated) * 0.75)
        else:
            decide_at = self.office(last + self.minutes(20, 240))
        for plan in case.answers:
            if plan.at is not None and plan.at >= decide_at:
                plan.at = None
            added = plan.addition_at
            if added is not None and added >= decide_at:
                plan.addition_after = None
            if plan.excluded_at is not None and plan.excluded_at >= decide_at:
                plan.excluded_at = None
        case.emit_answers(decide_at)
        if referral_child is not None:
            outcome = rng.choice((Outcome.SECTION_17, Outcome.SECTION_17, Outcome.SECTION_47))
        else:
            outcome = self.outcome(rag)
        self.decide_all(case, decide_at, outcome=outcome, referral_child=referral_child)
        for decision in case.decision_plans:
            if rng.random() < 0.025:
                self.plan_amendment(case, decision)

    def plan_amendment(self, case: Case, plan: DecisionPlan) -> bool:
        kinds = [k for k, _ in AMENDMENTS]
        if plan.outcome in REFERRALS or plan.outcome == Outcome.NFA:
            kinds.remove("outcome")
        if len(set(plan.themes)) >= 3:
            kinds.remove("themes")
        at = self.office(plan.at + HOUR * self.rng.randint(2, 72))
        if at >= self.anchor - HOUR:
            return False
        plan.amend_at, plan.amend_kind = at, self.rng.choice(kinds)
        case.amend(plan, at)
        self.stats["amendments"] += 1
        if plan.amend_kind == "outcome":
            child = case.children[plan.position].person
            if child is not None:
                self.note_referral(case, child.pk, plan.at)
        return True

    # -- open work --------------------------------------------------------------------------

    def plan_open(self, count: int) -> None:
        for i in range(count):
            self.open_case(OPEN_STATES[i % len(OPEN_STATES)], rereferral=i % 10 == 2)
        for _ in range(max(1, count // 10) if count else 0):
            self.awaiting_screening()

    def open_pick(
        self, at: dt.datetime, keys: Sequence[str], *, min_children: int = 1
    ) -> tuple[ThemeSpec, Home, Person, list[Person]] | None:
        for _ in range(10):
            theme = THEME_BY_KEY[self.rng.choice(keys)]
            picked = self.pick_home(at, theme, min_children)
            if picked is not None:
                return (theme, *picked)
        return None

    def awaiting_screening(self) -> None:
        rng = self.rng
        received = self.now - self.minutes(20, 300)
        found = self.open_pick(received, [t.key for t in THEME_SPECS])
        if found is None:
            return
        theme, home, subject, kids = found
        source = self.source_for(theme.key, subject, received)
        case = self.build(received, source, theme, home, subject, kids)
        case.submit(
            min(received + self.minutes(5, 30), self.now - MINUTE),
            rng.choice(self.cast.coordinators),
        )
        home.busy_until = self.now + 30 * DAY
        self.stats["awaiting screening"] += 1

    def open_case(self, state: str, *, rereferral: bool) -> None:
        rng, now, cast = self.rng, self.now, self.cast
        rag = {
            "checks": rng.choice((Rag.RED, Rag.AMBER, Rag.AMBER, Rag.GREEN, Rag.GREEN)),
            "overdue": rng.choice((Rag.RED, Rag.RED, Rag.AMBER)),
            "answered": rng.choice((Rag.RED, Rag.AMBER, Rag.AMBER, Rag.GREEN)),
            "urgent": Rag.URGENT,
            "part_decided": rng.choice((Rag.AMBER, Rag.GREEN)),
        }.get(state, "")
        rated = now
        if rag:
            span = self.deadline(now, rag) - now
            rated = (
                now
                - {
                    "checks": span * rng.uniform(0.2, 0.75),
                    "overdue": span * rng.uniform(1.15, 1.9),
                    "answered": span * rng.uniform(0.5, 0.95),
                    "urgent": self.minutes(20, 100),
                    "part_decided": span * rng.uniform(0.6, 0.95),
                }[state]
            )
            ready = rated - self.minutes(15, 90)
        elif state.startswith("consent"):
            ready = now - self.minutes(30, 300)
        else:
            ready = now - self.minutes(60, 420)
        screened = ready - self.minutes(20, 120)
        submitted = screened - self.minutes(10, 60)
        received = submitted - self.minutes(5, 40)

        keys = [t.key for t in THEME_SPECS if t.key != "family_stress"]
        if state == "urgent":
            keys = ["sexual_abuse", "injury", "domestic_abuse", "forced_marriage"]
        severe = state in ("urgent", "overdue") or rag == Rag.RED
        found = None
        referral_child = None
        if rereferral and state not in ("urgent", "part_decided"):
            candidate = self.rereferral_candidate(received)
            if candidate is not None:
                home, child = candidate
                day = received.astimezone(clock.LONDON).date()
                fitting = [k for k in keys if self.fits(THEME_BY_KEY[k], child, day)]
                if fitting:
                    theme = THEME_BY_KEY[rng.choice(fitting)]
                    found = (theme, home, child, self.kids_at(home, day))
                    referral_child = child
        if found is None:
            if state == "part_decided":
                keys = ["domestic_abuse", "neglect", "mental_health", "substance"]
            found = self.open_pick(received, keys, min_children=2 if state == "part_decided" else 1)
        if found is None:
            self.stats["skipped"] += 1
            return
        theme, home, subject, kids = found
        consent = not (state in ("consent_override", "consent_refused") or theme.consent < 0.3)
        case = self.build(
            received,
            self.source_for(theme.key, subject, received),
            theme,
            home,
            subject,
            kids,
            rereferral=referral_child is not None,
            consent=consent,
            siblings=True if state == "part_decided" else None,
            severe=severe,
        )
        home.busy_until = now + 30 * DAY
        self.stats["open"] += 1
        coordinator = rng.choice(cast.coordinators)
        manager = rng.choice(cast.managers)
        case.submit(submitted, coordinator)
        case.screen(screened, coordinator, Screening.PROGRESS)
        if state == "consent":
            return
        if state == "consent_override":
            case.consent(ready - 10 * MINUTE, coordinator, ConsentStatus.NOT_SOUGHT)
            case.propose_override(ready, coordinator)
            return
        if state == "consent_refused":
            case.consent(ready, coordinator, ConsentStatus.REFUSED)
            return
        if consent:
            case.consent(ready, coordinator, ConsentStatus.GIVEN)
        else:
            case.consent(ready - 10 * MINUTE, coordinator, ConsentStatus.NOT_SOUGHT)
            case.propose_override(ready, manager)
        if state == "rating":
            return
        guess = rag or _weighted(rng, dict(zip(RAG_ORDER, theme.rag, strict=True)))
        if state == "rating_proposed":
            case.propose_rating(min(ready + self.minutes(5, 30), now - MINUTE), coordinator, guess)
            return
        if rng.random() < 0.5:
            case.propose_rating(ready + (rated - ready) / 2, coordinator, guess)
        requested = case.rate(rated, manager, rag)
        due = self.plan_answers(case, rated, requested, round_the_clock=True)
        cutoff = now - MINUTE
        if state in ("answered", "part_decided"):
            latest = now - self.minutes(10, 40) if state == "answered" else now - 70 * MINUTE
            for plan in case.answers:
                if plan.excluded_at is None:
                    plan.at = rated + (latest - rated) * rng.uniform(0.1, 1.0)
                else:
                    plan.excluded_at = min(plan.excluded_at, latest)
                plan.addition_after = None
        elif state == "overdue":
            waiting = [p for p in case.answers if p.excluded_at is None]
            for plan in rng.sample(waiting, k=min(len(waiting), rng.randint(1, 3))):
                plan.at = None
            for plan in waiting:
                if plan.at is not None and plan.at > due and rng.random() < 0.7:
                    plan.at = rated + (due - rated) * rng.uniform(0.2, 0.95)
        if state in ("checks", "urgent") and not case.pending_at(cutoff):
            waiting = [p for p in case.answers if p.excluded_at is None]
            rng.choice(waiting).at = None
        case.emit_answers(cutoff)
        if state == "part_decided":
            self.decide_all(
                case, now - self.minutes(15, 60), outcome=self.outcome(rag), only_first=True
            )
        if referral_child is not None:
            self.stats["open re-referrals"] += 1

    # -- making sure every kind of record is there --------------------------------------------

    def cover(self) -> None:
        """Every outcome, sensitivity and an amendment appear, however small the demo."""
        rng = self.rng
        plans = [(c, p) for c in self.cases for p in c.decision_plans]
        seen = Counter(p.outcome for _, p in plans)
        for outcome in Outcome.values:
            if seen[outcome] or not plans:
                continue
            spare = [
                (c, p)
                for c, p in plans
                if p.outcome not in REFERRALS and seen[p.outcome] > 1 and c.rag
            ]
            if spare:
                case, plan = rng.choice(spare)
                seen[plan.outcome] -= 1
                plan.outcome = outcome
                case.write_decision(plan)
                seen[outcome] += 1
        if plans and not any(p.amend_at for _, p in plans):
            for case, plan in plans:
                if plan.at < self.anchor - 4 * DAY and self.plan_amendment(case, plan):
                    break
        items = [
            (entries, i)
            for c in self.cases
            for a in c.answers
            if a.at is not None
            for entries in (a.items,)
            for i in range(len(entries))
        ]
        present = Counter(entries[i].sensitivity for entries, i in items)
        for sensitivity in Sensitivity.values:
            if present[sensitivity] or not items:
                continue
            entries, i = rng.choice([x for x in items if present[x[0][x[1]].sensitivity] > 1])
            present[entries[i].sensitivity] -= 1
            entries[i] = dataclasses.replace(entries[i], sensitivity=sensitivity)
            present[sensitivity] += 1

    # -- running it -------------------------------------------------------------------------

    def run(self, log: Callable[[str], None] = print) -> None:
        total = len(self.steps)
        done = 0
        while self.steps:
            step = heapq.heappop(self.steps)
            with clock.at(step.moment):
                step.run()
            done += 1
            if done % 4000 == 0:
                log(f"{done:,} of {total:,} steps recorded (up to {step.moment:%B %Y})")


def seed_history(
    *,
    contacts: int,
    open_enquiries: int,
    seed_value: int,
    now: dt.datetime | None = None,
    log: Callable[[str], None] = print,
) -> Counter[str]:
    """Records two years of contacts and the open work of today, through the services."""
    planner = Planner(seed_value=seed_value, now=now or clock.now())
    planner.plan_history(contacts)
    planner.cover()
    planner.plan_open(open_enquiries)
    steps = len(planner.steps)
    log(f"recording two years of the hub's work: {steps:,} steps, each through the services…")
    planner.run(log)
    stats = planner.stats
    log(
        f"{stats['contacts']:,} contacts over two years ({stats['enquiries']:,} MASH enquiries, "
        f"{stats['decisions']:,} decisions, {stats['re-referrals']:,} re-referrals), "
        f"{stats['open']} open enquiries"
    )
    if stats["skipped"]:
        log(f"({stats['skipped']} could not be placed: too few free families in the index)")
    return stats
