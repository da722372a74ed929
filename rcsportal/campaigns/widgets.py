"""The message composer widget.

The real form value is the canonical JSON in a ``<textarea>`` (it works without
JavaScript); ``static/campaigns/composer.js`` builds the visual editor, the live phone
preview and the checks around it from the JSON configuration rendered next to it.
"""

from __future__ import annotations

import json

from django import forms
from django.template import loader
from django.utils.safestring import mark_safe

from . import composer


class ComposerWidget(forms.Textarea):
    #: rendered with the project's template engine (``templates/``), around the textarea
    #: that the form renderer draws (so no FORM_RENDERER setting is needed)
    composer_template_name = "campaigns/widgets/composer.html"

    def __init__(self, attrs=None, *, mode: str = "template", agent_field: str = "check_agent"):
        defaults = {"rows": 18, "cols": 80, "class": "rcs-composer-json vLargeTextField"}
        defaults.update(attrs or {})
        super().__init__(defaults)
        self.mode = mode
        self.agent_field = agent_field
        #: ``[(path, text)]`` from the last server-side validation (set by the form)
        self.problems: list[tuple[str, str]] = []

    class Media:
        css = {"all": ["campaigns/composer.css"]}
        js = ["campaigns/composer.js"]

    def format_value(self, value):
        """Pretty-print valid JSON so the no-JavaScript textarea is readable."""
        if value in (None, "", "null"):
            return ""
        if isinstance(value, str):
            try:
                return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
            except ValueError:
                return value  # what the user typed, unchanged
        return json.dumps(value, indent=2, ensure_ascii=False)

    def render(self, name, value, attrs=None, renderer=None):
        context = self.get_context(name, value, attrs)
        textarea = self._render(self.template_name, context, renderer)
        context["textarea_html"] = textarea
        return mark_safe(loader.render_to_string(self.composer_template_name, context))  # noqa: S308

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        config = composer.composer_config(mode=self.mode, agent_field=self.agent_field)
        config["problems"] = [
            {"path": path, "text": text, "label": composer.describe_path(path)}
            for path, text in self.problems
        ]
        widget_id = context["widget"]["attrs"].get("id") or f"id_{name}"
        context["composer"] = {
            "config": config,
            "config_id": f"{widget_id}_composer_config",
            "widget_id": widget_id,
            "problems": config["problems"],
        }
        return context
