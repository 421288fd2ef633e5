"""The Jinja2 environment: GOV.UK Frontend macros, our helpers, London time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader
from markupsafe import Markup

from mash.core import navigation
from mash.core.govuk import govuk_error_summary, govuk_field
from mash.people.identifiers import format_nhs_number


def url(name: str, *args: Any, **kwargs: Any) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def london(value: datetime | None, fmt: str = "%-d %B %Y, %H:%M") -> str:
    """A timezone-aware datetime shown in Europe/London."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime(fmt)


def long_date(value: date | None) -> str:
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def link_html(href: str, text: object, classes: str = "govuk-link") -> Markup:
    """An escaped link, for the 'html' of a table cell or summary row."""
    return Markup(format_html('<a class="{}" href="{}">{}</a>', classes, href, text))  # noqa: S704


def _unread_notifications(request: Any) -> int:
    """The header's count of unread notifications (one query per request at most)."""
    from mash.core.views_notifications import unread_count

    return unread_count(request)


def environment(**options: Any) -> Environment:
    loader = options.pop("loader")
    options["loader"] = ChoiceLoader(
        [loader, PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})]
    )
    options.setdefault("autoescape", True)
    options["extensions"] = [*options.get("extensions", []), "jinja2.ext.do"]
    env = Environment(**options)  # noqa: S701 (autoescape is on: set above)
    env.globals.update(
        url=url,
        static=static,
        get_messages=get_messages,
        nav_items=navigation.items_for,
        unread_notifications=_unread_notifications,
        govuk_field=govuk_field,
        format_nhs_number=format_nhs_number,
        govuk_error_summary=govuk_error_summary,
        link_html=link_html,
        service_name=settings.MASH_SERVICE_NAME,
        session_idle_minutes=settings.MASH_SESSION_IDLE_MINUTES,
    )
    env.filters.update(london=london, long_date=long_date)
    return env
