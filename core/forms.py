"""Form helpers shared by the admin, the portal and the signed-link pages."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def form_errors_from(
    form, error: ValidationError, *, field_map: dict[str, str] | None = None, non_field: str | None = None
) -> None:
    """Put a service's ``ValidationError`` on ``form``: per field where the form has the field
    (``field_map`` renames a service's field to the form's), the rest as form-wide errors, or on
    the ``non_field`` field when the page has one field the whole error is about.

    The one way a service's error becomes a form error (the API's is
    :func:`core.api.serializers.call_service`). Adding an error removes the field from
    ``cleaned_data``, as Django does.
    """
    fallback = non_field if non_field in form.fields else None
    if not hasattr(error, "error_dict"):
        form.add_error(fallback, error.messages)
        return
    for field, messages in error.message_dict.items():
        target = (field_map or {}).get(field, field)
        form.add_error(target if target in form.fields and target != NON_FIELD_ERRORS else fallback, messages)
