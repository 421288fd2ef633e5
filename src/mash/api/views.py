"""The API's endpoints: /api/v1/police-notifications/ for a police force's system.

Thin, as the design asks: the service `mash.contacts.police.receive_notification`
does the receiving (rules, replay check, audit), `mash.api.selectors` narrows
what a token may read to its own force's notifications.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions, generics
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from mash.api import selectors
from mash.api.errors import Conflict, ConflictSerializer, ErrorSerializer, flatten
from mash.api.models import ApiToken
from mash.api.permissions import FromActivePoliceForce
from mash.api.serializers import (
    NotificationInput,
    NotificationOutput,
    NotificationSummary,
    as_detail,
    as_summary,
    entry_from,
)
from mash.contacts import police
from mash.contacts.models import (
    NotificationAdult,
    NotificationChild,
    PoliceNotification,
    ReceivedVia,
)
from mash.core import audit


class JsonAnswers(DefaultContentNegotiation):
    """Always answers JSON, whatever the Accept header asks: a 406 helps no one here."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class NotificationPages(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


def _error(description: str, *examples: OpenApiExample) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description, examples=list(examples))


UNAUTHENTICATED = _error(
    "No API key, or one that is unknown or revoked. The `WWW-Authenticate` header says `Bearer`.",
    OpenApiExample(
        "Revoked key",
        value={
            "detail": "This API key was revoked on 3 March 2026 at 14:05. Ask the hub's "
            "administrator for a new one.",
            "code": "not_authenticated",
            "errors": {},
        },
        status_codes=["401"],
        response_only=True,
    ),
)
NOT_POLICE = _error(
    "The key belongs to an agency that is not an active police force.",
    OpenApiExample(
        "Not a police force",
        value={
            "detail": "This API key belongs to Riverside Primary, which is not a police force: "
            "only a police force's system can send or read police notifications.",
            "code": "permission_denied",
            "errors": {},
        },
        status_codes=["403"],
        response_only=True,
    ),
)
NOT_FOUND = _error("No notification with this id from your force.")

SENT: dict[str, Any] = {
    "occurrence_reference": "NR-2026-004512",
    "incident_at": "2026-03-14T21:30:00Z",
    "incident_type": "domestic_abuse",
    "dash_risk": "medium",
    "location": "12 Acacia Avenue, Riverside RS1 2AB",
    "children": [
        {
            "given_name": "Amelia",
            "family_name": "Jones",
            "date_of_birth": "2017-05-02",
            "seen": True,
            "spoken_to": False,
        }
    ],
    "adults": [
        {"role": "victim", "given_name": "Sarah", "family_name": "Jones"},
        {"role": "suspect", "given_name": "Mark", "family_name": "Jones"},
    ],
    "narrative": "Neighbours called police after hearing shouting. Amelia was in her bedroom.",
    "officer_name": "PC Dan Okafor",
    "officer_collar_number": "4471",
    "officer_team": "Riverside Response Team B",
}
ANSWER: dict[str, Any] = {
    "id": 42,
    "reference": "PN-000042",
    "url": "https://mash.example.gov.uk/api/v1/police-notifications/42/",
    "received_at": "2026-03-14T21:42:10.512000Z",
    "received_via": "api",
    "status": "awaiting_triage",
    "outcome": None,
    "triaged_at": None,
    **{k: v for k, v in SENT.items() if k not in ("children", "adults")},
    "children": SENT["children"],
    "adults": [{**a, "date_of_birth": None} for a in SENT["adults"]],
}


class ApiView(generics.GenericAPIView):
    """What every endpoint shares: a token, JSON in and out, no OPTIONS metadata."""

    permission_classes = [IsAuthenticated, FromActivePoliceForce]
    content_negotiation_class = JsonAnswers
    metadata_class = None

    @property
    def token(self) -> ApiToken:
        token = self.request.auth
        assert isinstance(token, ApiToken)  # noqa: S101 (the permissions demand one)
        return token

    def url_of(self, notification: PoliceNotification) -> str:
        return self.request.build_absolute_uri(
            reverse("api:police_notification", args=[notification.pk])
        )


class PoliceNotifications(ApiView):
    pagination_class = NotificationPages
    serializer_class = NotificationSummary

    def get_queryset(self) -> Any:
        return selectors.notifications_for(token=self.token).only(
            "id",
            "occurrence_reference",
            "incident_at",
            "incident_type",
            "received_at",
            "outcome",
            "triaged_at",
        )

    @extend_schema(
        operation_id="list_police_notifications",
        summary="List your force's notifications",
        description=(
            "Your force's notifications, newest first, with where triage has got to: 50 a "
            "page (`page_size` up to 100), with `next` and `previous` links to follow. The "
            "children and adults are not listed: read one notification for them."
        ),
        tags=["Police notifications"],
        parameters=[OpenApiParameter("page_size", int, description="1 to 100; 50 by default.")],
        responses={200: NotificationSummary(many=True), 401: UNAUTHENTICATED, 403: NOT_POLICE},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response([as_summary(n, self.url_of(n)) for n in page])

    @extend_schema(
        operation_id="send_police_notification",
        summary="Send a police notification",
        description=(
            "Adds a notification to the hub's triage queue. The force is the one your key "
            "belongs to.\n\n"
            "**Sending again is safe.** The occurrence reference is unique per force: the same "
            "notification sent again (after a timeout, say) answers **200** with the one "
            "first received and creates nothing. The same occurrence reference with "
            "different content answers **409**, with the id of the one received.\n\n"
            "**Every problem at once.** A 400 lists each field's problems in `errors`, keyed "
            "by the field's path (`children.0.date_of_birth`). Fields the API does not know "
            "are refused, not ignored. Times must give their offset from UTC.\n\n"
            "The body is JSON (`Content-Type: application/json`), at most 256 KB."
        ),
        tags=["Police notifications"],
        request=NotificationInput,
        examples=[OpenApiExample("Domestic abuse", value=SENT, request_only=True)],
        responses={
            201: OpenApiResponse(
                NotificationOutput,
                description="Received. `Location` gives its address.",
                examples=[OpenApiExample("Received", value=ANSWER, response_only=True)],
            ),
            200: OpenApiResponse(
                NotificationOutput,
                description="Already received with the same content: nothing was created.",
            ),
            400: _error(
                "Something in the notification is wrong or missing, or the body is not JSON.",
                OpenApiExample(
                    "Two problems",
                    value={
                        "detail": "The request has 2 problems: see errors, by field.",
                        "code": "invalid",
                        "errors": {
                            "dash_risk": ["Enter the DASH risk level for domestic abuse"],
                            "children.0.date_of_birth": ["A child must be under 18"],
                        },
                    },
                    status_codes=["400"],
                    response_only=True,
                ),
            ),
            401: UNAUTHENTICATED,
            403: NOT_POLICE,
            409: OpenApiResponse(
                ConflictSerializer,
                description="This occurrence reference was received before, with other content.",
                examples=[
                    OpenApiExample(
                        "Conflict",
                        value={
                            "detail": "Occurrence reference NR-2026-004512 was already "
                            "received (PN-000042) with different content. To correct it, "
                            "contact the hub; do not send it again under a new reference.",
                            "code": "conflict",
                            "errors": {
                                "occurrence_reference": [
                                    "Already received (PN-000042) with different content"
                                ]
                            },
                            "existing": {
                                "id": 42,
                                "reference": "PN-000042",
                                "url": ANSWER["url"],
                            },
                        },
                        status_codes=["409"],
                        response_only=True,
                    )
                ],
            ),
            413: _error("The body is larger than 256 KB."),
            415: _error("The body is not sent as `application/json`."),
        },
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["Must be a JSON object"]})
        serializer = NotificationInput(data=request.data)
        if not serializer.is_valid():
            raise exceptions.ValidationError(self._every_problem(serializer))
        entry = entry_from(serializer.validated_data)
        try:
            notification, created = police.receive_notification(
                actor=None,
                force=self.token.agency,
                entry=entry,
                via=ReceivedVia.API,
                token=self.token,
            )
        except DjangoValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from error
        except police.ReplayConflict as conflict:
            existing = conflict.existing
            raise Conflict(
                f"{conflict} To correct it, contact the hub; do not send it again under a new "
                "reference.",
                errors={
                    "occurrence_reference": [
                        f"Already received ({existing.reference}) with different content"
                    ]
                },
                extra={
                    "existing": {
                        "id": existing.pk,
                        "reference": existing.reference,
                        "url": self.url_of(existing),
                    }
                },
            ) from conflict
        url = self.url_of(notification)
        if created:  # answered from what was sent: nothing is read back
            data = as_detail(notification, url, entry.children, entry.adults)
            return Response(data, status=201, headers={"Location": url})
        children, adults = selectors.people_of(notification)
        data = as_detail(notification, url, children, adults)
        return Response(data, status=200, headers={"Content-Location": url})

    def _every_problem(self, serializer: NotificationInput) -> dict[str, list[str]]:
        """The shape problems and, for the fields whose shape was right, the rules' problems
        too: one answer lists everything to fix."""
        errors = flatten(serializer.errors)
        failed = {key.split(".")[0] for key in errors}
        values = getattr(serializer, "partial_values", None)
        if values is None:  # the body was not an object
            return errors
        entry = entry_from(values)
        for key, messages in police.check(entry, force=self.token.agency).items():
            root = key.split(".")[0]
            if root in failed or (root == "dash_risk" and "incident_type" in failed):
                continue
            errors.setdefault(key, messages)
        return errors


class PoliceNotificationDetail(ApiView):
    serializer_class = NotificationOutput

    def get_queryset(self) -> Any:
        return selectors.notifications_for(token=self.token).prefetch_related(
            Prefetch("children", NotificationChild.objects.order_by("position")),
            Prefetch("adults", NotificationAdult.objects.order_by("position")),
        )

    @extend_schema(
        operation_id="read_police_notification",
        summary="Read one of your force's notifications",
        description=(
            "What your force sent, the hub's reference, and where triage has got to "
            "(`status`, `outcome`). Nothing else from the hub's records is shared. Another "
            "force's notification is not found (404)."
        ),
        tags=["Police notifications"],
        responses={
            200: OpenApiResponse(
                NotificationOutput,
                examples=[OpenApiExample("Awaiting triage", value=ANSWER, response_only=True)],
            ),
            401: UNAUTHENTICATED,
            403: NOT_POLICE,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        notification = self.get_object()
        audit.record(
            action="contacts.policenotification.viewed",
            actor=None,
            actor_label=f"api:{self.token.name}",
            obj=notification,
            detail={"via": "api", "token": self.token.pk},
        )
        data = as_detail(
            notification,
            self.url_of(notification),
            notification.children.all(),
            notification.adults.all(),
        )
        return Response(data)
