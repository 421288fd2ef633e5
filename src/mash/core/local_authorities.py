"""English local authorities by the Department for Education's 3-digit code.

These are the codes of the Children in Need census and the school census (the
"old LA codes" of Get Information about Schools), with the DfE's own spelling
of each name. Checked against the DfE's published lookup (its screener's
las.csv: live and terminated authorities with their codes and dates).

Abolished authorities stay in the list, inactive, so older records still name
them: Bedfordshire (820) and Cheshire (875) in 2009; Dorset (835), Poole (836)
and Bournemouth (837) in 2019; Northamptonshire (928) in 2021; Cumbria (909)
in 2023. Buckinghamshire (825), North Yorkshire (815) and Somerset (933) kept
their codes when they became unitary authorities, so each is one row.

The core app's data migration 0007 loads this list; a later change to it needs
a new migration that calls `sync` again.

Below the list: the hub's postcode areas (Hub.postcode_areas), which say where the
hub's own authority's children live.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple


class Authority(NamedTuple):
    code: str
    name: str
    active: bool = True


AUTHORITIES: tuple[Authority, ...] = (
    # Inner London
    Authority("201", "City of London"),
    Authority("202", "Camden"),
    Authority("203", "Greenwich"),
    Authority("204", "Hackney"),
    Authority("205", "Hammersmith and Fulham"),
    Authority("206", "Islington"),
    Authority("207", "Kensington and Chelsea"),
    Authority("208", "Lambeth"),
    Authority("209", "Lewisham"),
    Authority("210", "Southwark"),
    Authority("211", "Tower Hamlets"),
    Authority("212", "Wandsworth"),
    Authority("213", "Westminster"),
    # Outer London
    Authority("301", "Barking and Dagenham"),
    Authority("302", "Barnet"),
    Authority("303", "Bexley"),
    Authority("304", "Brent"),
    Authority("305", "Bromley"),
    Authority("306", "Croydon"),
    Authority("307", "Ealing"),
    Authority("308", "Enfield"),
    Authority("309", "Haringey"),
    Authority("310", "Harrow"),
    Authority("311", "Havering"),
    Authority("312", "Hillingdon"),
    Authority("313", "Hounslow"),
    Authority("314", "Kingston upon Thames"),
    Authority("315", "Merton"),
    Authority("316", "Newham"),
    Authority("317", "Redbridge"),
    Authority("318", "Richmond upon Thames"),
    Authority("319", "Sutton"),
    Authority("320", "Waltham Forest"),
    # Metropolitan boroughs
    Authority("330", "Birmingham"),
    Authority("331", "Coventry"),
    Authority("332", "Dudley"),
    Authority("333", "Sandwell"),
    Authority("334", "Solihull"),
    Authority("335", "Walsall"),
    Authority("336", "Wolverhampton"),
    Authority("340", "Knowsley"),
    Authority("341", "Liverpool"),
    Authority("342", "St. Helens"),
    Authority("343", "Sefton"),
    Authority("344", "Wirral"),
    Authority("350", "Bolton"),
    Authority("351", "Bury"),
    Authority("352", "Manchester"),
    Authority("353", "Oldham"),
    Authority("354", "Rochdale"),
    Authority("355", "Salford"),
    Authority("356", "Stockport"),
    Authority("357", "Tameside"),
    Authority("358", "Trafford"),
    Authority("359", "Wigan"),
    Authority("370", "Barnsley"),
    Authority("371", "Doncaster"),
    Authority("372", "Rotherham"),
    Authority("373", "Sheffield"),
    Authority("380", "Bradford"),
    Authority("381", "Calderdale"),
    Authority("382", "Kirklees"),
    Authority("383", "Leeds"),
    Authority("384", "Wakefield"),
    Authority("390", "Gateshead"),
    Authority("391", "Newcastle upon Tyne"),
    Authority("392", "North Tyneside"),
    Authority("393", "South Tyneside"),
    Authority("394", "Sunderland"),
    Authority("420", "Isles of Scilly"),
    # Unitary authorities and counties
    Authority("800", "Bath and North East Somerset"),
    Authority("801", "Bristol, City of"),
    Authority("802", "North Somerset"),
    Authority("803", "South Gloucestershire"),
    Authority("805", "Hartlepool"),
    Authority("806", "Middlesbrough"),
    Authority("807", "Redcar and Cleveland"),
    Authority("808", "Stockton-on-Tees"),
    Authority("810", "Kingston upon Hull, City of"),
    Authority("811", "East Riding of Yorkshire"),
    Authority("812", "North East Lincolnshire"),
    Authority("813", "North Lincolnshire"),
    Authority("815", "North Yorkshire"),
    Authority("816", "York"),
    Authority("820", "Bedfordshire", active=False),
    Authority("821", "Luton"),
    Authority("822", "Bedford"),
    Authority("823", "Central Bedfordshire"),
    Authority("825", "Buckinghamshire"),
    Authority("826", "Milton Keynes"),
    Authority("830", "Derbyshire"),
    Authority("831", "Derby"),
    Authority("835", "Dorset", active=False),
    Authority("836", "Poole", active=False),
    Authority("837", "Bournemouth", active=False),
    Authority("838", "Dorset"),
    Authority("839", "Bournemouth, Christchurch and Poole"),
    Authority("840", "County Durham"),
    Authority("841", "Darlington"),
    Authority("845", "East Sussex"),
    Authority("846", "Brighton and Hove"),
    Authority("850", "Hampshire"),
    Authority("851", "Portsmouth"),
    Authority("852", "Southampton"),
    Authority("855", "Leicestershire"),
    Authority("856", "Leicester"),
    Authority("857", "Rutland"),
    Authority("860", "Staffordshire"),
    Authority("861", "Stoke-on-Trent"),
    Authority("865", "Wiltshire"),
    Authority("866", "Swindon"),
    Authority("867", "Bracknell Forest"),
    Authority("868", "Windsor and Maidenhead"),
    Authority("869", "West Berkshire"),
    Authority("870", "Reading"),
    Authority("871", "Slough"),
    Authority("872", "Wokingham"),
    Authority("873", "Cambridgeshire"),
    Authority("874", "Peterborough"),
    Authority("875", "Cheshire", active=False),
    Authority("876", "Halton"),
    Authority("877", "Warrington"),
    Authority("878", "Devon"),
    Authority("879", "Plymouth"),
    Authority("880", "Torbay"),
    Authority("881", "Essex"),
    Authority("882", "Southend-on-Sea"),
    Authority("883", "Thurrock"),
    Authority("884", "Herefordshire, County of"),
    Authority("885", "Worcestershire"),
    Authority("886", "Kent"),
    Authority("887", "Medway"),
    Authority("888", "Lancashire"),
    Authority("889", "Blackburn with Darwen"),
    Authority("890", "Blackpool"),
    Authority("891", "Nottinghamshire"),
    Authority("892", "Nottingham"),
    Authority("893", "Shropshire"),
    Authority("894", "Telford and Wrekin"),
    Authority("895", "Cheshire East"),
    Authority("896", "Cheshire West and Chester"),
    Authority("908", "Cornwall"),
    Authority("909", "Cumbria", active=False),
    Authority("916", "Gloucestershire"),
    Authority("919", "Hertfordshire"),
    Authority("921", "Isle of Wight"),
    Authority("925", "Lincolnshire"),
    Authority("926", "Norfolk"),
    Authority("928", "Northamptonshire", active=False),
    Authority("929", "Northumberland"),
    Authority("931", "Oxfordshire"),
    Authority("933", "Somerset"),
    Authority("935", "Suffolk"),
    Authority("936", "Surrey"),
    Authority("937", "Warwickshire"),
    Authority("938", "West Sussex"),
    Authority("940", "North Northamptonshire"),
    Authority("941", "West Northamptonshire"),
    Authority("942", "Cumberland"),
    Authority("943", "Westmorland and Furness"),
)


def sync(model: Any) -> None:
    """Makes the LocalAuthority table hold this list (by code); rows not in it are left alone.

    `model` is the LocalAuthority model, real or a migration's historical one.
    """
    existing = {row.code: row for row in model.objects.all()}
    for authority in AUTHORITIES:
        row = existing.get(authority.code)
        if row is None:
            model.objects.create(
                code=authority.code, name=authority.name, is_active=authority.active
            )
        elif (row.name, row.is_active) != (authority.name, authority.active):
            row.name, row.is_active = authority.name, authority.active
            row.save(update_fields=["name", "is_active"])


# --- The hub's postcode areas ----------------------------------------------------------------

_AREA = re.compile(r"[A-Z]{1,2}")
_DISTRICT = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]?")
# A full postcode ("NM1 2AB", spaces optional) or its outward code alone ("NM1").
_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][0-9A-Z]?)([0-9][A-Z]{2})?")
AREAS_MAX_LENGTH = 500


def parse_areas(text: str) -> tuple[list[str], list[str]]:
    """The postcode areas and districts in a space- or comma-separated list (upper case,
    each once, in order), and the entries that are neither."""
    good: list[str] = []
    bad: list[str] = []
    for token in re.split(r"[\s,;]+", (text or "").upper()):
        if not token:
            continue
        if _AREA.fullmatch(token) or _DISTRICT.fullmatch(token):
            if token not in good:
                good.append(token)
        elif token not in bad:
            bad.append(token)
    return good, bad


def outward_code(postcode: str) -> str | None:
    """The outward code of a UK postcode ("NM1" of "nm1 2ab"), or None if it is not one."""
    compact = "".join((postcode or "").upper().split())
    match = _POSTCODE.fullmatch(compact)
    return match.group(1) if match else None


def in_areas(postcode: str, areas: list[str]) -> bool | None:
    """Whether the postcode lies in the areas or districts; None when it cannot be told
    (no areas set, or no readable postcode)."""
    if not areas:
        return None
    outward = outward_code(postcode)
    if outward is None:
        return None
    letters = re.match(r"[A-Z]+", outward).group()  # type: ignore[union-attr]
    for area in areas:
        if area == outward or (_AREA.fullmatch(area) and area == letters):
            return True
        # A London sub-district ("EC1A", "W1A") lies in its district ("EC1", "W1").
        if (
            area[-1].isdigit()
            and len(outward) == len(area) + 1
            and outward.startswith(area)
            and outward[-1].isalpha()
        ):
            return True
    return False
