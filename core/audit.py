"""The audit trail: who created, changed, archived, restored or deleted which tenant row.

Signal receivers, connected for every tenant model (``connect()`` runs in
``CoreConfig.ready``, so models that other apps add later are covered too):

* ``post_init`` keeps a snapshot of the loaded values, so that a save knows what
  changed without reading the row again (no extra SELECT per save);
* ``post_save`` writes one :class:`core.models.AuditEvent` in the same transaction:
  ``create`` with the new values, ``update`` with ``[old, new]`` per changed field
  (nothing when nothing changed), ``archive`` / ``restore`` when ``archived_at``
  flips;
* ``post_delete`` writes ``delete`` with the last values. ``QuerySet.delete()`` and
  cascades send it for every row too (Django cannot fast-delete a model that has
  receivers), so they are recorded like ``obj.delete()``.

The acting user is the one of the request or API key (see :func:`core.rls.current_user_id`);
tasks and commands act as the system (no user).

``bulk_create()``, ``bulk_update()`` and ``QuerySet.update()`` send no signals: a
service that uses them writes the trail itself with :func:`audit_record_bulk`, the
same events as a save. For ``QuerySet.update()`` the rows are loaded (and locked)
first, so that the events carry the old values. These service writes do so: the
participant import; an assessment's observations and evidence references and a
survey response's statement ratings (replaced by delete + ``bulk_create``: ``delete``
events, then ``create``); the indicators of the default framework; the key-result
readings of a goal check-in; session attendance; superseded mentor invitations
(their ``expires_at``).

Deleting an organization (``organization.delete()`` or
``Organization.objects.filter(...).delete()``) deletes its trail with it
(``AuditEvent.organization`` cascades) and records nothing for the rows it takes.

Not recorded:

* ``QuerySet.update()`` / ``insert_new()`` writes of bookkeeping and delivery state
  that no caller records: the milestone's ``overdue_announced_at`` claim, an API
  key's ``last_used_at``, webhook delivery claims and cancellations, notification
  delivery status, attempts and deferrals (``notifications`` and ``integrations``
  services), and the back-dating of demo data;
* models with ``audit_trail = False`` (the trail itself) and fields named in a
  model's ``audit_ignore_fields`` (``created_at`` and ``updated_at`` always);
* rows written with raw SQL.

Secret fields (``*secret*``, ``*token*``, ``*password*``, ``*_hash``) are recorded as
changed, without their values.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.signals import post_delete, post_init, post_save

from core import rls
from core.db import insert_columns

ALWAYS_IGNORED = frozenset({"created_at", "updated_at"})
SECRET_MARKERS = ("secret", "token", "password")
REDACTED = "(hidden)"
_SNAPSHOT = "_audit_snapshot"


def audited_models() -> list[type[models.Model]]:
    from core.models import TenantModel

    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantModel) and getattr(model, "audit_trail", True) and not model._meta.proxy
    ]


def _is_secret(attname: str) -> bool:
    name = attname.lower()
    return any(marker in name for marker in SECRET_MARKERS) or name.endswith("_hash")


def _fields(model) -> list[tuple[str, bool]]:
    """(attname, is_mutable) of the fields that the trail records, cached per model."""
    cached = model.__dict__.get("_audit_fields")
    if cached is None:
        ignored = ALWAYS_IGNORED | set(getattr(model, "audit_ignore_fields", ()))
        cached = [
            (field.attname, isinstance(field, models.JSONField))
            for field in model._meta.concrete_fields
            if field.attname not in ignored and not field.primary_key
        ]
        model._audit_fields = cached
    return cached


def _secret_attnames(model) -> frozenset[str]:
    """The recorded fields whose values the trail hides, cached per model."""
    cached = model.__dict__.get("_audit_secret_attnames")
    if cached is None:
        cached = frozenset(attname for attname, _mutable in _fields(model) if _is_secret(attname))
        model._audit_secret_attnames = cached
    return cached


_IMMUTABLE = (str, int, float, bool, type(None))


def _copy(value):
    """A deep copy of a JSON field's value: ``copy.deepcopy`` without its memo for plain JSON.

    Lists, dicts and tuples are copied level by level; text, numbers, booleans and None
    are kept; anything else goes to ``copy.deepcopy`` as before. Every load of an audited
    row takes a snapshot, so this runs for each JSON value read.
    """
    if isinstance(value, _IMMUTABLE):
        return value
    if type(value) is list:
        return [_copy(item) for item in value]
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    return copy.deepcopy(value)


def _snapshot(instance) -> dict[str, Any]:
    values = instance.__dict__
    return {
        attname: _copy(values[attname]) if mutable else values[attname]
        for attname, mutable in _fields(type(instance))
        if attname in values
    }


def _jsonable(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _label_from_ids(instance) -> str:
    """``milestone progress #7 (milestone #3, enrollment #2)``: a label that reads nothing from the database."""
    parents = [
        f"{field.verbose_name} #{instance.__dict__[field.attname]}"
        for field in type(instance)._meta.concrete_fields
        if field.many_to_one and field.name != "organization" and instance.__dict__.get(field.attname) is not None
    ]
    label = f"{type(instance)._meta.verbose_name} #{instance.pk}"
    return f"{label} ({', '.join(parents)})" if parents else label


def _label(instance) -> str:
    """``str(instance)``, or a label from ids when it needs a related row that is gone.

    ``__str__`` often names a parent (``MilestoneProgress`` → its milestone). When the
    parent was deleted meanwhile (a concurrent DELETE of the milestone and of its
    progress row), loading it raises ``DoesNotExist``; the trail must still be written.
    """
    try:
        return str(instance)
    except ObjectDoesNotExist:
        return _label_from_ids(instance)


def _event(instance, action: str, changes: dict[str, list]):
    """The unsaved AuditEvent for one change (secrets redacted)."""
    from django.contrib.contenttypes.models import ContentType

    from core.models import AuditEvent

    for attname in changes:
        if _is_secret(attname):
            changes[attname] = [REDACTED, REDACTED]
    return AuditEvent(
        organization_id=instance.organization_id,
        actor_id=rls.current_user_id(),
        action=action,
        content_type=ContentType.objects.get_for_model(type(instance), for_concrete_model=False),
        object_id=str(instance.pk),
        object_repr=_label(instance)[:200],
        changes=_jsonable(changes),
    )


def _record(instance, action: str, changes: dict[str, list]) -> None:
    _event(instance, action, changes).save()


def on_post_init(sender, instance, **kwargs) -> None:
    instance.__dict__[_SNAPSHOT] = _snapshot(instance)


def _change_set(instance, *, created: bool, update_fields=None) -> tuple[str, dict[str, list], dict] | None:
    """(action, changes, new snapshot) of a save, or None when an update changed nothing."""
    new = _snapshot(instance)
    old = instance.__dict__.get(_SNAPSHOT, {})
    if created:
        changes = {name: [None, value] for name, value in new.items() if value not in (None, "", [], {})}
        action = "create"
    else:
        names = new.keys()
        if update_fields is not None:  # field names; attnames of foreign keys end in _id
            names = {name for name in names if name in update_fields or name.removesuffix("_id") in update_fields}
        changes = {name: [old[name], new[name]] for name in names if name in old and old[name] != new[name]}
        action = "update"
        if "archived_at" in changes:
            was, now = changes["archived_at"]
            action = "archive" if was is None and now is not None else "restore" if now is None else "update"
        if not changes:
            return None
    return action, changes, new


def on_post_save(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw:  # fixtures
        return
    change_set = _change_set(instance, created=created, update_fields=update_fields)
    if change_set is None:
        return
    action, changes, new = change_set
    _record(instance, action, changes)
    instance.__dict__[_SNAPSHOT] = new


def audit_record_bulk(*, instances, created: bool, update_fields=None, batch_size: int = 5000) -> int:
    """Write the trail of rows saved with ``bulk_create`` / ``bulk_update`` (which send no signals).

    The same events as the ``post_save`` path, with one INSERT per batch: call it right
    after the bulk write, with ``created`` and ``update_fields`` as that save had them.
    Returns the number of events written.

    Built for thousands of rows (the participant import): no ``AuditEvent`` instance per
    row, the changes serialised to JSON once (the ``post_save`` path's ``_jsonable``
    round trip gives the same document), and one ``INSERT ... SELECT FROM unnest()`` per
    batch whose arrays go as bound binary parameters (see :func:`_insert_events`), not
    quoted into the statement's text as ``bulk_create`` does.
    """
    from django.contrib.contenttypes.models import ContentType

    actor_id = rls.current_user_id()
    content_types: dict[type, int] = {}
    rows = []
    for instance in instances:
        change_set = _change_set(instance, created=created, update_fields=update_fields)
        if change_set is None:
            continue
        action, changes, new = change_set
        model = type(instance)
        for attname in _secret_attnames(model).intersection(changes):
            changes[attname] = [REDACTED, REDACTED]
        content_type_id = content_types.get(model)
        if content_type_id is None:
            content_type_id = ContentType.objects.get_for_model(model, for_concrete_model=False).pk
            content_types[model] = content_type_id
        rows.append(
            (
                instance.organization_id,
                action,
                content_type_id,
                str(instance.pk),
                _label(instance)[:200],
                changes,
            )
        )
        instance.__dict__[_SNAPSHOT] = new
    for start in range(0, len(rows), batch_size):
        _insert_events(rows[start : start + batch_size], actor_id=actor_id)
    return len(rows)


def _insert_events(rows: list[tuple], *, actor_id) -> None:
    """INSERT the events (organization, action, content type, object id, label, changes).

    With :func:`core.db.insert_columns` on PostgreSQL (arrays bound server-side in binary:
    Django's ``bulk_create`` quoting every value of its ``UNNEST`` arrays into the SQL text
    cost more than the rest of writing the trail); ``bulk_create`` elsewhere.
    """
    from django.db import connections, router
    from django.utils import timezone

    from core.models import AuditEvent

    connection = connections[router.db_for_write(AuditEvent)]
    if connection.vendor != "postgresql":  # SQLite (the embedded default): bulk_create
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    organization_id=organization_id,
                    actor_id=actor_id,
                    action=action,
                    content_type_id=content_type_id,
                    object_id=object_id,
                    object_repr=object_repr,
                    changes=changes,
                )
                for organization_id, action, content_type_id, object_id, object_repr, changes in rows
            ]
        )
        return
    now = timezone.now()
    names = ("organization", "action", "content_type", "object_id", "object_repr", "changes")
    fields = [AuditEvent._meta.get_field(name) for name in (*names, "actor", "created_at", "updated_at")]
    columns = [list(column) for column in zip(*rows, strict=True)]
    columns += [[actor_id] * len(rows), [now] * len(rows), [now] * len(rows)]
    insert_columns(AuditEvent, fields, columns, batch_size=len(rows))


def _deletes_organizations(origin) -> bool:
    """Whether a delete started at ``origin`` is that of whole organizations.

    ``origin`` is what ``delete()`` was called on: an organization
    (``organization.delete()``) or a queryset of them
    (``Organization.objects.filter(...).delete()``).
    """
    from core.models import Organization

    if isinstance(origin, models.QuerySet):
        return issubclass(origin.model, Organization)
    return isinstance(origin, Organization)


def on_post_delete(sender, instance, origin=None, **kwargs) -> None:
    if _deletes_organizations(origin):
        # The organization goes, and its trail with it (deleted before these signals
        # are sent); an event written now would point at an organization that is gone.
        return
    old = instance.__dict__.get(_SNAPSHOT) or _snapshot(instance)
    _record(instance, "delete", {name: [value, None] for name, value in old.items() if value not in (None, "")})


def connect() -> None:
    """Connect the receivers for every audited model (idempotent)."""
    for model in audited_models():
        uid = f"core.audit.{model._meta.label}"
        post_init.connect(on_post_init, sender=model, dispatch_uid=uid, weak=False)
        post_save.connect(on_post_save, sender=model, dispatch_uid=uid, weak=False)
        post_delete.connect(on_post_delete, sender=model, dispatch_uid=uid, weak=False)


def events_for(obj):
    """The trail of one row, newest first (its organization's events only)."""
    from django.contrib.contenttypes.models import ContentType

    from core.models import AuditEvent

    return (
        AuditEvent.objects.for_organization(obj.organization_id)
        .filter(content_type=ContentType.objects.get_for_model(type(obj), for_concrete_model=False))
        .filter(object_id=str(obj.pk))
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


def history_context(request, obj, *, can_see: bool, per_page: int = 100) -> dict:
    """Context for the admin's object history page: the audit trail (owners and PMs only)."""
    from django.contrib.admin.views.main import PAGE_VAR
    from django.core.paginator import Paginator

    from core.models import AuditEvent

    events = events_for(obj) if can_see else AuditEvent.objects.none()
    paginator = Paginator(events, per_page)
    page = paginator.get_page(request.GET.get(PAGE_VAR))
    return {
        "action_list": page,
        "page_range": paginator.get_elided_page_range(page.number),
        "page_var": PAGE_VAR,
        "pagination_required": paginator.count > per_page,
    }
