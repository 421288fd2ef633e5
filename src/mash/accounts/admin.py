"""The Django admin, for a platform superuser in an emergency: read-only here.

Hub administrators manage agencies and users on the GOV.UK-styled pages under
/settings/, which go through the audited services. Nothing the admin could
change would be audited, so it changes nothing: no adding, editing or
deleting, no authenticator secrets, no lockout records.
"""

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from mash.accounts.models import Agency, User, UserRole


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Agency)
class AgencyAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "co_located", "is_active")
    search_fields = ("name",)


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ("email", "full_name", "agency", "is_active")
    search_fields = ("email", "full_name")
    list_filter = ("is_active", "agency")
    exclude = ("password", "user_permissions", "groups")
    inlines = (UserRoleInline,)


for model in (Group, TOTPDevice, StaticDevice, AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
