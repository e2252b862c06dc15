from __future__ import annotations

from django import forms

from abonent.core.errors import DomainError


def form_add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's error next to the fields it names, or above the form."""
    placed = False
    for field, messages in exc.fields.items():
        if field in form.fields:
            for message in messages:
                form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)
