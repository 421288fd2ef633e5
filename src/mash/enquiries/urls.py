"""Each area of the enquiry pages keeps its own routes beside its views."""

from mash.enquiries.views import agency, documents, manager

app_name = "enquiries"

urlpatterns = [*manager.urlpatterns, *agency.urlpatterns, *documents.urlpatterns]
