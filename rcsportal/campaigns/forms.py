"""Admin forms."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from .models import Agent


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value back, not even after a validation error."""

    def format_value(self, value):
        return ""


def parse_credential_lines(text: str) -> dict[str, str]:
    """``KEY=VALUE`` per line -> dict. ``KEY=`` (empty value) means "remove KEY"."""
    result: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key or not key.replace("_", "").isalnum():
            raise ValidationError(
                f"Line {number}: expected KEY=VALUE (the key is a provider parameter name)."
            )
        result[key] = value.strip()
    return result


class AgentForm(forms.ModelForm):
    credentials_update = forms.CharField(
        label="Set credentials",
        required=False,
        widget=WriteOnlyTextarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text=(
            "One KEY=VALUE per line, using the provider's own parameter names (SMS Partner apiKey; "
            "SerwerSMS username, password, rcs_id; BSG api_key; Aerialink username, password). "
            "Stored values are never shown. Leave empty to keep them; KEY= removes a key."
        ),
    )

    class Meta:
        model = Agent
        fields = [
            "name",
            "provider",
            "sender_id",
            "base_url",
            "fallback_sms_sender",
            "sms_fallback_agent",
            "webhook_allowed_ips",
            "rate_per_second",
            "is_active",
        ]

    def clean_credentials_update(self):
        return parse_credential_lines(self.cleaned_data.get("credentials_update") or "")

    def save(self, commit=True):
        agent = super().save(commit=False)
        updates = self.cleaned_data.get("credentials_update") or {}
        credentials = dict(agent.credentials or {})
        for key, value in updates.items():
            if value:
                credentials[key] = value
            else:
                credentials.pop(key, None)
        agent.credentials = credentials
        if commit:
            agent.save()
        return agent
