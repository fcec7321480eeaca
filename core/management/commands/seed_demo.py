import importlib

from django.conf import settings
from django.core.management.base import BaseCommand

from core import demo, rls

# Apps contribute demo data through <app>/demo.py: seed(ctx, log). Order matters.
DEMO_APPS = ["programs", "mentors", "matching", "assessments", "notifications", "integrations", "officehours"]


class Command(BaseCommand):
    help = "Create (or complete) the demo data. Safe to run again: nothing is duplicated."

    def handle(self, *args, **options):
        def log(message: str) -> None:
            self.stdout.write(f"  · {message}")

        self.stdout.write("Seeding demo data…")
        # Demo data spans organizations: the explicit, logged way through row-level security.
        with rls.all_organizations_context(reason="seed_demo creates demo organizations"):
            ctx = demo.seed(log)
            for app in DEMO_APPS:
                if app not in settings.INSTALLED_APPS:
                    continue
                try:
                    module = importlib.import_module(f"{app}.demo")
                except ModuleNotFoundError as error:
                    if error.name != f"{app}.demo":
                        raise
                    continue
                self.stdout.write(f"[{app}]")
                module.seed(ctx, log)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Logins (password: {demo.DEMO_PASSWORD}):"))
        for email, what in demo.logins(ctx):
            self.stdout.write(f"  {email:32} {what}")
