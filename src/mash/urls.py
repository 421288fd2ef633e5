from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("mash.core.urls")),
    path("", include("mash.accounts.urls")),
    path("contacts/", include("mash.contacts.urls")),
    path("people/", include("mash.people.urls")),
    path("police/", include("mash.contacts.police_urls")),
    path("advice/", include("mash.contacts.advice_urls")),
    path("api/", include("mash.api.urls")),
    path("", include("mash.api.pages")),
    path("reports/", include("mash.reporting.urls")),
    path("", include("mash.enquiries.urls")),
    path("django-admin/", admin.site.urls),
]

handler400 = "mash.core.views.bad_request"
handler403 = "mash.core.views.permission_denied"
handler404 = "mash.core.views.page_not_found"
handler500 = "mash.core.views.server_error"
