"""WSGI entry of the ordinary-DRF peer (``gunicorn bench.peer_wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.peer_settings"
application = get_wsgi_application()
