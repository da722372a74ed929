"""Staff pages outside the stock admin (previews, reports, import flow). All need login."""

app_name = "campaigns"

urlpatterns: list = []
