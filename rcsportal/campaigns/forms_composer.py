"""Admin forms that edit canonical message content with the composer widget."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from . import composer
from .models import Agent, Send, Template
from .widgets import ComposerWidget


class MessageContentField(forms.JSONField):
    """The canonical document: valid JSON, valid structure, RBM-wide limits respected.

    Problems are raised as one error per ``(path, text)`` and also handed to the widget
    (``widget.problems``) so the composer shows each one on its field.
    """

    def __init__(self, *, mode: str = "template", agent_field: str = "check_agent", **kwargs):
        kwargs.setdefault("widget", ComposerWidget(mode=mode, agent_field=agent_field))
        super().__init__(**kwargs)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            self.widget.problems = [("", "Enter valid JSON (see the JSON tab).")]
            raise

    def validate(self, value):
        super().validate(value)
        if value in self.empty_values:
            return
        problems = composer.content_problems(value)
        self.widget.problems = problems
        if problems:
            raise ValidationError(
                [
                    ValidationError(
                        "%(where)s: %(text)s",
                        code="message",
                        params={"where": composer.describe_path(path), "text": text},
                    )
                    for path, text in problems
                ]
            )


class TemplateForm(forms.ModelForm):
    check_agent = forms.ModelChoiceField(
        queryset=Agent.objects.filter(is_active=True),
        required=False,
        label="Agent to check against",
        help_text="Not saved. The composer warns about what this agent's provider cannot carry.",
    )
    content = MessageContentField(
        label="Message",
        help_text="Build the message visually, or paste the canonical JSON in the JSON tab.",
    )

    class Meta:
        model = Template
        fields = ["name", "content", "notes"]


class SendForm(forms.ModelForm):
    content_override = MessageContentField(
        mode="send",
        agent_field="agent",
        required=False,
        label="Content override",
        help_text="Leave empty to send the template's content.",
    )

    class Meta:
        model = Send
        fields = [
            "name",
            "template",
            "agent",
            "traffic_type",
            "scheduled_at",
            "groups",
            "contacts",
            "content_override",
            "degradations",
        ]

    def clean_content_override(self):
        value = self.cleaned_data.get("content_override")
        return value or None
