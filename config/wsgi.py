import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

django_application = get_wsgi_application()

from integrations.express import wrap  # noqa: E402 (needs the apps loaded above)

# GET pages of tenant lists with an API key skip Django's request cycle (integrations/express.py).
application = wrap(django_application)
