import pytest
from django.urls import reverse

from mash.accounts.models import Role

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign_in"))


@pytest.mark.parametrize("role", Role.values)
def test_every_role_has_a_home_page_with_its_own_panel(role, make, signed_in):
    user = make.ROLE_FACTORIES[role]()
    response = signed_in(user).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-role-panel="{role}"' in html
    others = set(Role.values) - {role}
    assert not any(f'data-role-panel="{other}"' in html for other in others)


def test_page_shell_has_skip_link_hub_name_and_accessibility_link(make, signed_in):
    html = signed_in(make.hub_manager()).get("/").content.decode()
    assert 'href="#main-content"' in html
    assert "govuk-generic-header" in html
    assert reverse("core:accessibility") in html
    assert "govuk-header__logotype" not in html  # no crown or GOV.UK logo


def test_content_security_policy_forbids_inline_script(make, signed_in):
    response = signed_in(make.hub_manager()).get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in response.content.decode()
