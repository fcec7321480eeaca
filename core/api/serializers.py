"""Serializer bases that keep relations inside the request's organization."""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.encoding import iri_to_uri
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from core.models import Membership, Organization, TenantModel


def _details(errors) -> list[ErrorDetail]:
    """Each message with its own code (``unique``, ``unique_together``, ``blank``...), else ``invalid``."""
    return [ErrorDetail(message, code=error.code or "invalid") for error in errors for message in error.messages]


def django_to_drf_errors(error: DjangoValidationError) -> ValidationError:
    if hasattr(error, "error_dict"):
        detail = {
            ("non_field_errors" if field == "__all__" else field): _details(errors)
            for field, errors in error.error_dict.items()
        }
        return ValidationError(detail)
    return ValidationError({"non_field_errors": _details(error.error_list)})


def call_service(service, **kwargs):
    """Run a service; its ValidationError becomes a 400 with field errors (the API's one way)."""
    try:
        return service(**kwargs)
    except DjangoValidationError as error:
        raise django_to_drf_errors(error) from error


class RFC3339DateTimeField(serializers.DateTimeField):
    """A datetime as RFC 3339: in the current time zone, or in UTC (``Z``) when that zone's offset has seconds.

    Before standard time zones, ``Asia/Seoul`` is local mean time, ``+08:27:52``:
    ``isoformat()`` writes the seconds, which RFC 3339 (and most clients) refuse.
    Such instants are written in UTC instead; the instant is the same.
    """

    def enforce_timezone(self, value):
        value = super().enforce_timezone(value)
        offset = value.utcoffset() if timezone.is_aware(value) else None
        if offset is not None and offset % datetime.timedelta(minutes=1):
            return value.astimezone(datetime.UTC)
        return value


class _StrictString:
    """A JSON string only: DRF's string fields take ``0`` or ``true`` and save ``"0"``, ``"True"``.

    The schema says ``string``; a number where a string belongs is the client's mistake,
    answered with the field's ``invalid`` error.
    """

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(_StrictString, serializers.CharField):
    pass


class StrictEmailField(_StrictString, serializers.EmailField):
    pass


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")  # a % that starts no %XX escape


class StrictURLField(_StrictString, serializers.URLField):
    """A URL as RFC 3986 has it (the schema's ``format: uri``).

    Django's validator let ``https://x.com/?\x04`` through, which an HTTP client cannot
    send, ``/고객`` or a backtick, which a URI cannot hold (send them percent-encoded,
    ``/%EA%B3%A0%EA%B0%9D``), and a ``%`` that starts no ``%XX``: the field's ``invalid``.
    """

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if _CONTROL_CHARACTERS.search(value) or _BAD_PERCENT.search(value) or iri_to_uri(value) != value:
            self.fail("invalid")
        return value


class StrictSlugField(_StrictString, serializers.SlugField):
    pass


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only (DRF's field also takes ``0``, ``1``, ``"yes"``, ``"off"``...)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ApiModelSerializer(serializers.ModelSerializer):
    """The ModelSerializer of the API.

    Model datetimes are written as RFC 3339 (:class:`RFC3339DateTimeField`); strings and
    booleans are read as JSON strings and booleans only (:class:`StrictCharField`,
    :class:`StrictBooleanField`), as the schema says.
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: RFC3339DateTimeField,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.URLField: StrictURLField,
        models.SlugField: StrictSlugField,
        models.BooleanField: StrictBooleanField,
    }


class TenantModelSerializer(ApiModelSerializer):
    """ModelSerializer for tenant models.

    * every relation to a tenant model accepts only the organization's rows (another
      organization's id is "object does not exist", a 400);
    * the instance is validated with the model's own ``full_clean()`` before it is
      saved, so model rules and unique constraints give field errors, not 500s.
    """

    #: The services that write this model (the admin names the same ones: core.admin_base.WrittenByServices):
    #: ``create_service(organization=, **validated_data)``, ``update_service(organization=, <service_object>=row,
    #: **validated_data)``. A serializer without them saves through the model's own validation.
    create_service = None
    update_service = None
    service_object: str | None = None  # the update service's keyword for the row (default: model name)

    def get_fields(self):
        fields = super().get_fields()
        organization = self.context.get("organization")
        for field in fields.values():
            target = getattr(field, "child_relation", field)
            queryset = getattr(target, "queryset", None)
            if queryset is not None and issubclass(queryset.model, TenantModel):
                target.queryset = (
                    queryset.for_organization(organization) if organization is not None else queryset.none()
                )
        return fields

    def _save_validated(self, instance: TenantModel, m2m: dict) -> TenantModel:
        try:
            instance.full_clean(exclude=list(m2m))
        except DjangoValidationError as error:
            raise django_to_drf_errors(error) from error
        try:
            with transaction.atomic():
                instance.save()
                for name, value in m2m.items():
                    getattr(instance, name).set(value)
        except IntegrityError as error:
            raise ValidationError({"non_field_errors": [str(error).splitlines()[0]]}) from error
        return instance

    def _split_m2m(self, validated_data: dict) -> tuple[dict, dict]:
        m2m_names = {f.name for f in self.Meta.model._meta.many_to_many}
        m2m = {k: validated_data.pop(k) for k in list(validated_data) if k in m2m_names}
        return validated_data, m2m

    def create(self, validated_data):
        service = type(self).create_service
        if service is not None:
            return call_service(service, organization=self.context["organization"], **validated_data)
        data, m2m = self._split_m2m(validated_data)
        instance = self.Meta.model(**data)
        if instance.organization_id is None:
            instance.organization = self.context["organization"]
        return self._save_validated(instance, m2m)

    def update(self, instance, validated_data):
        service = type(self).update_service
        if service is not None:
            row = {self.service_object or instance._meta.model_name: instance}
            return call_service(service, organization=self.context["organization"], **row, **validated_data)
        data, m2m = self._split_m2m(validated_data)
        for key, value in data.items():
            setattr(instance, key, value)
        return self._save_validated(instance, m2m)


class OrganizationSerializer(ApiModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "time_zone", "language", "country"]
        read_only_fields = fields


class MembershipSerializer(ApiModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    role_name = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "name", "role", "role_name", "created_at"]
        read_only_fields = fields
