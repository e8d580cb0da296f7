import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "robotrace.settings")
application = get_wsgi_application()
# Import every view and API module now, while the worker boots, not on its first request:
# that request would wait ~0.5 s (measured in the intake benchmark, where it was 15 % of a
# worker's samples).
_url_patterns = get_resolver().url_patterns
