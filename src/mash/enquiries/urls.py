"""Each area of the enquiry pages keeps its own routes beside its views."""

from mash.enquiries.views import agency, board, documents, manager, screens, transfer

app_name = "enquiries"

urlpatterns = [
    *board.urlpatterns,
    *manager.urlpatterns,
    *agency.urlpatterns,
    *documents.urlpatterns,
    *screens.urlpatterns,
    *transfer.urlpatterns,
]
