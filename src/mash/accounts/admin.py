"""The Django admin: for a platform superuser in an emergency. Hub administrators use
the GOV.UK-styled pages under /settings/. Nothing can be deleted here."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from mash.accounts.models import Agency, User, UserRole


class NoDeleteAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 0


@admin.register(Agency)
class AgencyAdmin(NoDeleteAdmin):
    list_display = ("name", "kind", "co_located", "is_active")
    search_fields = ("name",)


@admin.register(User)
class UserAdmin(NoDeleteAdmin):
    list_display = ("email", "full_name", "agency", "is_active")
    search_fields = ("email", "full_name")
    list_filter = ("is_active", "agency")
    exclude = ("password", "user_permissions", "groups")
    readonly_fields = ("last_login", "date_joined")
    inlines = (UserRoleInline,)
