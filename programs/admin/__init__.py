"""The program manager's admin, one module per area; importing this package registers them all.

``base`` holds what the pages share. Django's admin autodiscovery imports ``programs.admin``.
"""

from programs.admin import activity, enrollments, people, program, runs  # noqa: F401 (registers the admins)
