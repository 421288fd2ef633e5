"""The audit log is append-only, and record() notes who, from where and what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse

from mash.core import audit
from mash.core.models import AppendOnlyError, AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(make) -> AuditEvent:
    return audit.record(action="test.something", actor=make.hub_manager(), detail={"n": 1})


# --- Append-only in the application ------------------------------------------------------------


def test_saving_an_existing_event_is_refused(event):
    event.action = "test.tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.something"


def test_deleting_an_event_is_refused(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_queryset_update_is_refused(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="test.tampered")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(detail={})
    assert AuditEvent.objects.get(pk=event.pk).action == "test.something"


def test_queryset_delete_is_refused(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_bulk_update_is_refused(event):
    event.action = "test.tampered"
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["action"])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.something"


def test_a_new_event_can_still_be_saved():
    new = AuditEvent(action="test.new")
    new.save()
    assert AuditEvent.objects.filter(pk=new.pk, action="test.new").exists()


# --- Append-only in the database --------------------------------------------------------------


def _raw(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_database_refuses_a_raw_update(event):
    with pytest.raises(DatabaseError) as raised, transaction.atomic():
        _raw("UPDATE core_auditevent SET action = %s WHERE id = %s", ["test.tampered", event.pk])
    assert "append-only" in str(raised.value)
    assert AuditEvent.objects.get(pk=event.pk).action == "test.something"


def test_database_refuses_a_raw_update_of_every_row(event):
    with pytest.raises(DatabaseError), transaction.atomic():
        _raw("UPDATE core_auditevent SET detail = %s", ["{}"])
    assert AuditEvent.objects.get(pk=event.pk).detail == {"n": 1}


def test_database_refuses_a_raw_delete_on_postgresql(event):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's flush needs DELETE; the application refuses deletes there")
    with pytest.raises(DatabaseError) as raised, transaction.atomic():
        _raw("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
    assert "append-only" in str(raised.value)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_append_only_trigger_is_installed():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'core_auditevent'::regclass "
                "AND NOT tgisinternal"
            )
            assert [row[0] for row in cursor.fetchall()] == ["core_auditevent_no_update_or_delete"]
        else:
            assert connection.vendor == "sqlite"
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'core_auditevent'"
            )
            assert [row[0] for row in cursor.fetchall()] == ["core_auditevent_no_update"]


# --- record() through a real request -----------------------------------------------------------


def _sign_in(client: Client, email: str, **extra: Any):
    return client.post(
        reverse("accounts:sign_in"), {"username": email, "password": PASSWORD}, **extra
    )


def test_sign_in_records_actor_agency_address_and_browser(make):
    user = make.coordinator()
    response = _sign_in(
        Client(),
        user.email,
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="Mozilla/5.0 (Hub PC)",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.sign_in")
    assert event.actor == user
    assert event.actor_agency == user.agency
    assert event.actor_label == user.email
    assert event.object_type == "accounts.user"
    assert event.object_id == str(user.pk)
    assert event.ip_address == "203.0.113.7"
    assert event.user_agent == "Mozilla/5.0 (Hub PC)"


def test_a_long_user_agent_is_cut_to_512_characters(make):
    user = make.coordinator()
    _sign_in(Client(), user.email, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="A" * 5000)
    event = AuditEvent.objects.get(action="auth.sign_in")
    assert event.user_agent == "A" * 512


def test_forwarded_for_is_ignored_without_a_trusted_proxy(make, settings):
    settings.MASH_TRUSTED_PROXY_COUNT = 0
    user = make.coordinator()
    _sign_in(
        Client(),
        user.email,
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )
    assert AuditEvent.objects.get(action="auth.sign_in").ip_address == "203.0.113.7"


def test_forwarded_for_is_used_behind_one_trusted_proxy(make, settings):
    settings.MASH_TRUSTED_PROXY_COUNT = 1
    user = make.coordinator()
    # The client may put anything on the left; only the proxy's own entry (the last) counts.
    _sign_in(
        Client(),
        user.email,
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.66, 198.51.100.99",
    )
    assert AuditEvent.objects.get(action="auth.sign_in").ip_address == "198.51.100.99"


def test_failed_sign_in_records_the_address_tried_and_where_from(make):
    user = make.coordinator()
    response = Client().post(
        reverse("accounts:sign_in"),
        {"username": user.email.upper(), "password": "wrong-password-entirely"},
        REMOTE_ADDR="2001:db8::1",
        HTTP_USER_AGENT="curl/8",
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.actor is None
    assert event.actor_agency is None
    assert event.actor_label == user.email
    assert event.ip_address == "2001:db8::1"
    assert event.user_agent == "curl/8"


# --- record() called directly ------------------------------------------------------------------


def test_record_outside_a_request_has_no_address_or_browser(make):
    user = make.hub_manager()
    event = audit.record(action="test.direct", actor=user, obj=user.agency)
    assert event.actor == user
    assert event.actor_agency_id == user.agency_id
    assert event.actor_label == user.email
    assert event.object_type == "accounts.agency"
    assert event.object_id == str(user.agency_id)
    assert event.ip_address is None
    assert event.user_agent == ""


def test_record_uses_the_request_context_while_it_is_set(make, settings):
    settings.MASH_TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get(
        "/", REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT="B" * 600, HTTP_X_FORWARDED_FOR="1.2.3.4"
    )
    token = audit.set_request_context(request)
    try:
        event = audit.record(action="test.direct", actor=make.analyst())
    finally:
        audit.reset_request_context(token)
    assert event.ip_address == "192.0.2.10"
    assert event.user_agent == "B" * 512
    after = audit.record(action="test.after", actor=None, actor_label="system")
    assert after.ip_address is None
    assert after.user_agent == ""


def test_client_ip_rejects_a_malformed_address(settings):
    settings.MASH_TRUSTED_PROXY_COUNT = 1
    factory = RequestFactory()
    assert audit.client_ip(factory.get("/", REMOTE_ADDR="not-an-address")) is None
    garbage = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="<script>")
    assert audit.client_ip(garbage) is None
    # Fewer entries than trusted proxies: fall back to the connecting address.
    settings.MASH_TRUSTED_PROXY_COUNT = 2
    short = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert audit.client_ip(short) == "10.0.0.2"


def test_record_without_a_signed_in_actor_keeps_only_the_label():
    from django.contrib.auth.models import AnonymousUser

    visitor: Any = AnonymousUser()  # what request.user is before anyone signs in
    event = audit.record(action="test.anon", actor=visitor, actor_label="tried@x.example")
    assert event.actor is None
    assert event.actor_agency is None
    assert event.actor_label == "tried@x.example"


def test_record_clips_long_details_and_makes_them_storable(make):
    long = "x" * 10_000
    event = audit.record(
        action="test.clip",
        actor=make.hub_manager(),
        object_id="9" * 200,
        detail={
            "text": long,
            "k" * 100: "short",
            "nested": {"inner": long},
            "items": list(range(200)),
            "when": dt.date(2025, 3, 30),
            "flag": True,
            "none": None,
        },
    )
    event.refresh_from_db()
    assert len(event.object_id) == 64
    assert event.detail["text"] == "x" * audit.MAX_DETAIL_STRING
    assert "k" * 64 in event.detail
    assert event.detail["nested"]["inner"] == "x" * audit.MAX_DETAIL_STRING
    assert event.detail["items"] == list(range(50))
    assert event.detail["when"] == "2025-03-30"
    assert event.detail["flag"] is True
    assert event.detail["none"] is None


def test_record_cuts_a_long_actor_label():
    event = audit.record(action="test.label", actor=None, actor_label="a" * 1000)
    event.refresh_from_db()
    assert event.actor_label == "a" * 254
