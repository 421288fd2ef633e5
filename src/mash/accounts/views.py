from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from markupsafe import Markup

from mash.accounts import selectors, services
from mash.accounts.forms import (
    AgencyForm,
    EmailPasswordResetForm,
    NewPasswordForm,
    PasswordChangeForm,
    SignInForm,
    TokenForm,
    UserForm,
)
from mash.accounts.models import Agency, Role, User
from mash.core import audit

LIST_PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _safe_next(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


class ErrorsInTitleMixin:
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        form = context.get("form")
        context["page_has_errors"] = bool(form is not None and form.errors)
        return context


class SignInView(ErrorsInTitleMixin, auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    next_page = "accounts:signed_out"


def signed_out(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/signed_out.html")


class PasswordResetView(ErrorsInTitleMixin, auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    form_class = EmailPasswordResetForm
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        audit.record(
            action="auth.password_reset_requested",
            actor=None,
            actor_label=form.cleaned_data["email"].lower(),
        )
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        minutes = settings.PASSWORD_RESET_TIMEOUT // 60
        hours, rest = divmod(minutes, 60)
        if hours and not rest:
            context["link_lifetime"] = f"{hours} hour{'' if hours == 1 else 's'}"
        else:
            context["link_lifetime"] = f"{minutes} minute{'' if minutes == 1 else 's'}"
        return context


class PasswordResetConfirmView(ErrorsInTitleMixin, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = NewPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        # A link sent before someone was deactivated must not work afterwards.
        return user if user is not None and user.is_active else None

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        if not context.get("validlink"):
            # Used already, expired, or never valid: the link is gone.
            kwargs["status"] = 410
        return super().render_to_response(context, **kwargs)

    def form_valid(self, form: SetPasswordForm[User]) -> HttpResponse:
        response = super().form_valid(form)
        audit.record(action="auth.password_reset", actor=form.user, obj=form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "accounts/account.html",
        {
            "has_two_factor": services.has_two_factor(user),
            "require_2fa": settings.MASH_REQUIRE_2FA,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, user)
        audit.record(action="auth.password_changed", actor=user, obj=user)
        messages.success(request, "Your password has been changed.")
        return redirect("accounts:account")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "page_has_errors": bool(form.errors)},
    )


def _qr_svg(config_url: str) -> Markup:
    image = qrcode.make(config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    svg = image.to_string(encoding="unicode")
    return Markup(svg)  # noqa: S704  (generated by qrcode from our own URL, no user text)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if services.has_two_factor(user) and not user.is_verified():
        # Replacing an authenticator needs the current one first.
        return redirect("accounts:two_factor_verify")
    device = services.start_totp_setup(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.confirm_totp(user=user, device=device, token=form.cleaned_data["token"])
        if codes is not None:
            device.refresh_from_db()
            otp_login(request, device)
            request.session["mash_recovery_codes"] = codes
            messages.success(request, "Two-factor sign-in is set up.")
            query = urlencode({"next": _safe_next(request, reverse("core:home"))})
            return redirect(f"{reverse('accounts:recovery_codes')}?{query}")
        form.add_error(
            "token",
            "The code is not right. Check the time on your phone is "
            "correct and enter the newest code.",
        )
    secret = _base32(device.bin_key)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": _qr_svg(device.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "next": _safe_next(request, ""),
            "page_has_errors": bool(form.errors),
        },
    )


def _base32(key: bytes) -> str:
    import base64

    return base64.b32encode(key).decode("ascii").rstrip("=")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.is_verified():
        return redirect(_safe_next(request, reverse("core:home")))
    if not services.has_two_factor(user):
        return redirect("accounts:two_factor_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.verify_second_factor(user=user, token=form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            audit.record(
                action="auth.two_factor_passed",
                actor=user,
                obj=user,
                detail={"method": device.__class__.__name__},
            )
            return redirect(_safe_next(request, reverse("core:home")))
        audit.record(action="auth.two_factor_failed", actor=user, obj=user)
        form.add_error(
            "token",
            "The code is not right. Enter the newest code from your "
            "authenticator app, or one of your recovery codes.",
        )
    return render(
        request,
        "accounts/two_factor_verify.html",
        {
            "form": form,
            "next": _safe_next(request, ""),
            "page_has_errors": bool(form.errors),
        },
    )


@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    codes = request.session.pop("mash_recovery_codes", None)
    if not codes:
        return redirect("accounts:account")
    return render(
        request,
        "accounts/recovery_codes.html",
        {
            "codes": codes,
            "next": _safe_next(request, reverse("core:home")),
        },
    )


@login_required
@require_POST
def regenerate_recovery_codes(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not services.has_two_factor(user) or not user.is_verified():
        raise PermissionDenied
    request.session["mash_recovery_codes"] = services.regenerate_recovery_codes(user=user)
    return redirect("accounts:recovery_codes")


# Administrators: agencies and users.


def _require_perm(request: HttpRequest, permission: str) -> User:
    user = _user(request)
    if not user.has_perm(permission):
        raise PermissionDenied
    return user


@login_required
def agency_list(request: HttpRequest) -> HttpResponse:
    user = _require_perm(request, "accounts.manage_agencies")
    return render(
        request,
        "accounts/agency_list.html",
        {"agencies": selectors.agencies_with_user_counts(user=user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def agency_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = _require_perm(request, "accounts.manage_agencies")
    agency = get_object_or_404(Agency, pk=pk) if pk is not None else None
    form = AgencyForm(request.POST or None, instance=agency)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in services.AGENCY_FIELDS}
        if agency is None:
            agency = services.create_agency(actor=actor, **fields)
            messages.success(request, f"{agency.name} added.")
        else:
            services.update_agency(actor=actor, agency=agency, **fields)
            messages.success(request, f"{agency.name} saved.")
        return redirect("accounts:agency_list")
    return render(
        request,
        "accounts/agency_form.html",
        {"form": form, "agency": agency, "page_has_errors": bool(form.errors)},
    )


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    actor = _require_perm(request, "accounts.manage_users")
    # PostgreSQL refuses a NUL character in a query; nobody types one.
    search = request.GET.get("q", "").replace("\x00", "")[:254]
    role = request.GET.get("role", "")
    status = request.GET.get("status", "active")
    agency_id = request.GET.get("agency", "")
    users = selectors.users(
        user=actor,
        search=search,
        role=role if role in Role.values else "",
        agency_id=_small_int(agency_id),
        status=status if status in {"active", "inactive", "all"} else "active",
    )
    page = Paginator(users, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/user_list.html",
        {
            "page": page,
            "q": search,
            "role": role,
            "status": status,
            "agency_id": agency_id,
            "roles": Role.choices,
            "agencies": Agency.objects.order_by("name"),
            "query": query.urlencode(),
        },
    )


def _small_int(value: str) -> int | None:
    """A whole number that fits a database key; anything else (a typo, "²", 10**30) is None."""
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = _require_perm(request, "accounts.manage_users")
    subject = get_object_or_404(User, pk=pk) if pk is not None else None
    form = UserForm(request.POST or None, instance=subject, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if subject is None:
            subject = services.create_user(actor=actor, **data)
            messages.success(
                request,
                f"{subject.full_name} added. They have been emailed a link to set their password.",
            )
        else:
            services.update_user(actor=actor, user=subject, **data)
            messages.success(request, f"{subject.full_name} saved.")
        return redirect("accounts:user_list")
    return render(
        request,
        "accounts/user_form.html",
        {
            "form": form,
            "subject": subject,
            "subject_has_two_factor": services.has_two_factor(subject) if subject else False,
            "locked_until": selectors.locked_out_until(subject) if subject else None,
            "page_has_errors": bool(form.errors),
        },
    )


@login_required
@require_POST
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _require_perm(request, "accounts.manage_users")
    subject = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "true"
    if subject.pk == actor.pk and not active:
        messages.error(request, "You cannot deactivate yourself.")
        return redirect("accounts:user_edit", pk=subject.pk)
    services.set_user_active(actor=actor, user=subject, active=active)
    messages.success(request, f"{subject.full_name} {'reactivated' if active else 'deactivated'}.")
    return redirect("accounts:user_edit", pk=subject.pk)


@login_required
@require_POST
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _require_perm(request, "accounts.manage_users")
    subject = get_object_or_404(User, pk=pk)
    services.unlock_sign_in(actor=actor, user=subject)
    messages.success(request, f"{subject.full_name} can sign in again.")
    return redirect("accounts:user_edit", pk=subject.pk)


@login_required
@require_POST
def user_reset_two_factor(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _require_perm(request, "accounts.manage_users")
    subject = get_object_or_404(User, pk=pk)
    services.reset_two_factor(actor=actor, user=subject)
    messages.success(
        request,
        f"Two-factor sign-in reset for {subject.full_name}. They will set "
        "it up again when they next sign in.",
    )
    return redirect("accounts:user_edit", pk=subject.pk)
