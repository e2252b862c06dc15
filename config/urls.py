from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from abonent.api import api

admin.site.site_header = _("Абонент — бэк-офис")
admin.site.site_title = _("Абонент")
admin.site.index_title = _("Управление")

urlpatterns = [
    path("api/v1/", api.urls),
    path(settings.ADMIN_URL, admin.site.urls),
    path("captcha/", include("captcha.urls")),
    path("", include("abonent.identity.urls")),
    path("", include("abonent.accounts.urls")),
    path("", include("abonent.web.urls")),
    path("", include("abonent.documents.urls")),
    path("", include("abonent.meters.urls")),
    path("", include("abonent.appeals.urls")),
    path("", include("abonent.payments.urls")),
    path("", include("abonent.notices.urls")),
    path("", include("abonent.privacy.urls")),
]
if settings.PAYMENTS_SANDBOX_ENABLED:  # the built-in test acquirer: a separate «bank»
    urlpatterns.append(
        path("sandbox-acquirer/", include("abonent.payments.gateways.sandbox.bank.urls"))
    )
