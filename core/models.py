"""Users, organizations (tenants), memberships and the base of every tenant model."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.tenancy import TenantManager

TIME_ZONE_DEFAULT = "Asia/Seoul"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email address. Belongs to organizations via memberships."""

    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="ko",
        help_text=_("Language of emails and pages."),
    )
    is_staff = models.BooleanField(
        _("platform staff"), default=False, help_text=_("Platform operators. Program managers do not need this.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email


class Organization(models.Model):
    """A tenant: an organization that runs programs. Every tenant row points at one."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True, help_text=_("Used in API paths."))
    time_zone = models.CharField(_("time zone"), max_length=64, default=TIME_ZONE_DEFAULT)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="ko")
    country = models.CharField(
        _("country"), max_length=2, default="KR", help_text=_("ISO country code whose public holidays apply.")
    )
    require_sso = models.BooleanField(
        _("require sign-in with Google, Kakao or Naver"),
        default=False,
        help_text=_(
            "Members cannot log in with a password; they use a Google, Kakao or Naver account "
            "with their verified email address. Platform superusers keep a password log-in for emergencies."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The organization's time zone (Asia/Seoul when the stored name is unknown)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("Asia/Seoul")

    def clean(self) -> None:
        import holidays

        if self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": _("Unknown time zone: %(tz)s") % {"tz": self.time_zone}})
        self.country = (self.country or "").upper()
        if self.country not in holidays.list_supported_countries():
            raise ValidationError({"country": _("No public holiday calendar for country %(c)s.") % {"c": self.country}})


class TenantModel(models.Model):
    """Base of every tenant-owned model.

    Adds a non-null, indexed ``organization`` and timestamps, the scoped manager, and
    a check that foreign keys to other tenant models stay inside one organization.
    When ``organization`` is not set, it is taken from the first tenant parent.
    Unique constraints of subclasses must include ``organization`` (a system check
    says so).
    """

    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.CASCADE, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TenantManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.organization_id is None:
            for _field, parent in self._tenant_parents():
                self.organization_id = parent.organization_id
                break
        if self.organization_id is None:
            raise ValueError(f"{type(self).__name__} needs an organization")
        errors = self.cross_organization_errors()
        if errors:
            raise ValueError(f"{type(self).__name__} refers to another organization's rows: {sorted(errors)}")
        super().save(*args, **kwargs)

    def _tenant_parents(self):
        for field in self._meta.concrete_fields:
            if (
                field.is_relation
                and field.name != "organization"
                and issubclass(field.related_model, TenantModel)
                and getattr(self, field.attname) is not None
            ):
                yield field, getattr(self, field.name)

    def cross_organization_errors(self) -> dict[str, str]:
        errors = {}
        for field, parent in self._tenant_parents():
            if self.organization_id is not None and parent.organization_id != self.organization_id:
                errors[field.name] = _("Select a valid choice. That choice is not one of the available choices.")
        return errors

    def clean_fields(self, exclude=None):
        super().clean_fields(exclude=exclude)
        errors = {k: v for k, v in self.cross_organization_errors().items() if not exclude or k not in exclude}
        if errors:
            raise ValidationError(errors)


class Membership(TenantModel):
    """A user's role in one organization. A person may belong to several."""

    class Role(models.IntegerChoices):
        # Gaps leave room for roles in between; compare with >=.
        MENTOR = 10, _("Mentor")
        VIEWER = 20, _("Viewer")
        PROGRAM_MANAGER = 30, _("Program manager")
        OWNER = 40, _("Owner")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.PositiveSmallIntegerField(_("role"), choices=Role.choices, default=Role.VIEWER)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user_per_org"),
        ]
        ordering = ["organization_id", "role"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization_id} ({self.get_role_display()})"


class ArchivableTenantModel(TenantModel):
    """A tenant model whose rows carry history: archived, never hard-deleted.

    The admin replaces "delete" with "archive" / "restore" and the API's DELETE
    archives (see :func:`core.services.record_archive`).
    """

    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class AuditEvent(TenantModel):
    """Who created, changed, archived, restored or deleted which tenant row, and when.

    Written by :mod:`core.audit` on every save and delete of a tenant model, in the
    same transaction (a rolled-back change leaves no event). ``changes`` maps each
    changed field to ``[old, new]``; secrets are recorded as changed, never by value.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        ARCHIVE = "archive", _("Archived")
        RESTORE = "restore", _("Restored")
        DELETE = "delete", _("Deleted")

    # Not audited itself.
    audit_trail = False

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty for the system (tasks, imports without a person)."),
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    content_type = models.ForeignKey(
        "contenttypes.ContentType", verbose_name=_("kind of record"), on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.CharField(_("record id"), max_length=64)
    object_repr = models.CharField(_("record"), max_length=200)
    changes = models.JSONField(_("changes"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "content_type", "object_id"], name="auditevent_org_object"),
            models.Index(fields=["organization", "-created_at"], name="auditevent_org_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.object_repr}"

    # The names Django's admin history template reads (admin/object_history.html).
    @property
    def action_time(self):
        return self.created_at

    @property
    def user(self):
        return self.actor

    def get_change_message(self) -> str:
        if self.action != self.Action.UPDATE or not self.changes:
            return self.get_action_display()
        return _("Changed %(fields)s.") % {"fields": ", ".join(sorted(self.changes))}
