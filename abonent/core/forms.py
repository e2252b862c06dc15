from __future__ import annotations

from django import forms

from abonent.core.errors import DomainError


def form_add_domain_error(
    form: forms.Form, exc: DomainError, *, field_map: dict[str, str] | None = None
) -> None:
    """Show a service's error next to the fields it names (renamed by `field_map` where the
    form calls them otherwise), or above the form."""
    placed = False
    for name, messages in exc.fields.items():
        field = (field_map or {}).get(name, name)
        if field in form.fields:
            for message in messages:
                form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)
