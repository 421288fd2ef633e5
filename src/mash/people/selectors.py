"""Reads from the person index, narrowed to what the user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mash.people.models import Person

if TYPE_CHECKING:
    from mash.accounts.models import User


def person_index_size(*, user: User) -> int | None:
    """How many people the index holds, for those allowed to use it."""
    if not user.has_perm("people.view_person_index"):
        return None
    return Person.objects.count()
