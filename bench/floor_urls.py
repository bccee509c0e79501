"""The Django floor's URLconf (bench/floor.py): its bare list views at the same paths as
ours, then all of ours, so that every `{% url %}` in the templates reverses as it does on
our pages."""

from bench import floor
from portal import urls as portal_urls

urlpatterns = floor.urlpatterns() + portal_urls.urlpatterns

handler400 = portal_urls.handler400
handler403 = portal_urls.handler403
handler404 = portal_urls.handler404
handler500 = portal_urls.handler500
