"""Two hub managers transfer the same enquiry at the same moment: one transfer is recorded,
the other is told who sent it where. Real threads, each on its own connection (see
test_concurrency.py), so the database's locking decides."""

from __future__ import annotations

import pytest

from mash.core.concurrency import Conflict
from mash.core.models import AuditEvent
from mash.enquiries.models import Enquiry, EnquiryTransfer
from mash.enquiries.transfer import set_responsible_la, transfer_enquiry
from tests import factories
from tests.enquiries import journey
from tests.enquiries.test_concurrency import race
from tests.enquiries.test_transfer_support import enquiry_elsewhere, la, set_up_hub, to_camden

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_managers_transfer_at_once_one_wins_the_other_gets_a_conflict():
    set_up_hub()
    hub = journey.small_hub()
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    seen = Enquiry.objects.get(pk=enquiry.pk).version
    other = factories.hub_manager()

    def by(manager, recipient):
        return lambda: transfer_enquiry(
            actor=manager,
            enquiry=enquiry,
            recipient=recipient,
            reason="The family live in Camden.",
            expected_version=seen,
        )

    results = race(by(hub.manager, "Camden MASH"), by(other, "Camden front door"))
    conflicts = [r for r in results if isinstance(r, Conflict)]
    won = [r for r in results if isinstance(r, EnquiryTransfer)]
    assert len(conflicts) == 1, results
    assert len(won) == 1, results
    assert conflicts[0].message in (
        "This enquiry has already been transferred.",
        "Someone else changed this enquiry while you were working on it.",
    )
    assert EnquiryTransfer.objects.count() == 1
    assert AuditEvent.objects.filter(action="enquiries.enquiry_transferred").count() == 1


def test_a_manager_sets_the_authority_while_another_transfers():
    set_up_hub()
    hub = journey.small_hub()
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    seen = Enquiry.objects.get(pk=enquiry.pk).version
    results = race(
        lambda: transfer_enquiry(
            actor=hub.manager,
            enquiry=enquiry,
            recipient="Camden MASH",
            reason="The family live in Camden.",
            expected_version=seen,
        ),
        lambda: set_responsible_la(
            actor=hub.coordinator,
            enquiry=enquiry,
            local_authority=la("201"),
            reason="Actually the City",
            expected_version=seen,
        ),
    )
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    enquiry.refresh_from_db()
    if EnquiryTransfer.objects.exists():
        assert enquiry.responsible_la == la("202")
        assert EnquiryTransfer.objects.get().to_la == la("202")
    else:
        assert enquiry.responsible_la == la("201")
        assert enquiry.is_open
