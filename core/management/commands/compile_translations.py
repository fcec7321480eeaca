from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Compile every .po file of the project into .mo. Unlike compilemessages it needs no "
        "GNU gettext, so a fresh machine with only Python can run it."
    )

    def handle(self, *args, **options):
        base = Path(settings.BASE_DIR)
        skip = {".venv", "node_modules", "staticfiles", "var"}
        count = 0
        for po_path in sorted(base.rglob("locale/*/LC_MESSAGES/*.po")):
            if skip & set(po_path.relative_to(base).parts):
                continue
            polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))
            count += 1
            self.stdout.write(f"  compiled {po_path.relative_to(base)}")
        self.stdout.write(self.style.SUCCESS(f"{count} translation catalogues compiled."))
