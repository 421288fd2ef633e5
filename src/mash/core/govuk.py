"""Turns Django form fields into the parameters of GOV.UK Frontend macros.

Templates call the official macros (govukInput, govukSelect, ...) with
govuk_field(form.x); this module only maps a bound field's label, hint,
value, choices and errors to the macro's parameters.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.boundfield import BoundField

from mash.core.forms import GovukDateWidget


def _error_message(field: BoundField) -> dict[str, str] | None:
    if field.errors:
        return {"text": " ".join(str(e) for e in field.errors)}
    return None


def _selected(field: BoundField) -> set[str]:
    value = field.value()
    if value is None:
        return set()
    if isinstance(value, list | tuple | set | frozenset):
        return {str(v) for v in value}
    return {str(value)}


def govuk_field(field: BoundField, **extra: Any) -> dict[str, Any]:
    """The macro parameters for one field; keyword arguments override or add to them."""
    widget = field.field.widget
    label_text = str(field.label)
    params: dict[str, Any] = {
        "id": field.auto_id,
        "name": field.html_name,
        "errorMessage": _error_message(field),
    }
    if field.help_text:
        params["hint"] = {"text": str(field.help_text)}

    if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
        selected = _selected(field)
        params.pop("id")
        params["idPrefix"] = field.auto_id
        params["fieldset"] = {
            "legend": {"text": label_text, "classes": "govuk-fieldset__legend--s"}
        }
        params["items"] = [
            {"value": str(value), "text": str(text), "checked": str(value) in selected}
            for value, text in field.field.choices  # type: ignore[attr-defined]
            if str(value) != ""
        ]
    elif isinstance(widget, forms.CheckboxInput):
        params.pop("id")
        params["idPrefix"] = field.auto_id
        params["items"] = [
            {"value": "on", "text": label_text, "checked": bool(field.value()), "id": field.auto_id}
        ]
    elif isinstance(widget, forms.Select):
        selected = _selected(field)
        params["label"] = {"text": label_text}
        params["items"] = [
            {"value": str(value), "text": str(text), "selected": str(value) in selected}
            for value, text in field.field.choices  # type: ignore[attr-defined]
        ]
    elif isinstance(widget, GovukDateWidget):
        day, month, year = widget.parts(field.value())
        params["namePrefix"] = field.html_name
        params["fieldset"] = {
            "legend": {"text": label_text, "classes": "govuk-fieldset__legend--s"}
        }
        error_class = " govuk-input--error" if field.errors else ""
        params["items"] = [
            # The macro gives the boxes <id>-day, -month, -year and the wrapper
            # <id>; the error summary links to the day box.
            {"name": "day", "value": day, "classes": "govuk-input--width-2" + error_class},
            {"name": "month", "value": month, "classes": "govuk-input--width-2" + error_class},
            {"name": "year", "value": year, "classes": "govuk-input--width-4" + error_class},
        ]
    else:
        params["label"] = {"text": label_text}
        value = field.value()
        if isinstance(widget, forms.PasswordInput) and not widget.render_value:
            value = None
        params["value"] = "" if value is None else str(value)
        input_type = getattr(widget, "input_type", None)
        if input_type and input_type not in {"text", "textarea"}:
            params["type"] = input_type
    params.update(extra)
    return params


def govuk_error_summary(*forms_: forms.BaseForm) -> dict[str, Any] | None:
    """The error summary for one or more forms, each error linked to its field."""
    errors: list[dict[str, str]] = []
    for form in forms_:
        # GOV.UK's pattern links a whole-form error to the form's first field.
        first = next(iter(form.visible_fields()), None)
        for message in form.non_field_errors():
            item = {"text": str(message)}
            if first is not None:
                item["href"] = f"#{first.auto_id}"
            errors.append(item)
        for name, field_errors in form.errors.items():
            if name == "__all__":
                continue
            bound = form[name]
            target = bound.auto_id
            if isinstance(bound.field.widget, GovukDateWidget):
                target = f"{target}-day"
            for message in field_errors:
                errors.append({"text": str(message), "href": f"#{target}"})
    if not errors:
        return None
    return {"titleText": "There is a problem", "errorList": errors}
