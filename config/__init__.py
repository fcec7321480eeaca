"""The project's configuration: settings, URL conf, Celery app, WSGI/ASGI entry points.

Apps (``core`` among them) never import this package; it names and mounts them.
"""

# Load the Celery app whenever Django starts so that @shared_task binds to it.
from config.celery import app as celery_app

__all__ = ("celery_app",)
