"""Create the application's database role and give it exactly the rights it needs (PostgreSQL)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from core import rls


class Command(BaseCommand):
    help = (
        "Create (or correct) the application role (DATABASE_APP_ROLE, default cohort_app): LOGIN, "
        "no superuser, no BYPASSRLS, owns nothing; grant it SELECT/INSERT/UPDATE/DELETE on every table "
        "(today's and, through default privileges, tomorrow's) and protect every tenant table with RLS. "
        "Run as the owner of the tables (the role that runs migrate); idempotent. "
        "With --check, only report what is wrong and exit 1 if anything is."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", default=None, help="Role name (default: settings.DATABASE_APP_ROLE).")
        parser.add_argument(
            "--password",
            default=getattr(settings, "DATABASE_APP_PASSWORD", "") or None,
            help="Set this login password (default: DATABASE_APP_PASSWORD; none keeps the current one).",
        )
        parser.add_argument("--check", action="store_true", help="Report problems only; change nothing.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, role=None, password=None, check=False, database=DEFAULT_DB_ALIAS, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            self.stdout.write("Not PostgreSQL: no roles and no row-level security (the application wall only).")
            return
        role = role or rls.app_role_name()
        if check:
            problems = rls.app_role_problems(connection, role)
            problems += [f"table {table} is not protected by RLS" for table in rls.unprotected_tables(connection)]
            for problem in problems:
                self.stderr.write(problem)
            if problems:
                raise CommandError(f"{len(problems)} problem(s)")
            self.stdout.write(self.style.SUCCESS(f"Role {role} is fine and every tenant table is protected."))
            return
        with transaction.atomic(using=database):
            created = rls.ensure_app_role(connection, role, password)
            rls.grant_app_role(connection, role)
            changed = rls.apply_policies(connection)
        self.stdout.write(f"Role {role} {'created' if created else 'updated'}; privileges granted.")
        if changed:
            self.stdout.write(f"RLS enabled on {len(changed)} table(s).")
        problems = rls.app_role_problems(connection, role)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) remain")
        self.stdout.write(self.style.SUCCESS("Done."))
