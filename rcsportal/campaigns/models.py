"""The campaign data model.

Sizing: Contact and Delivery are the big tables (millions of rows). Every lookup the task
layer, webhooks or admin do on them is backed by an index declared here; the admin never
counts them in full (see ``admin_utils.EstimatedCountPaginator``).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

E164_VALIDATOR = RegexValidator(
    r"^\+[1-9]\d{5,14}$", "Enter a phone number in E.164 form (+33612345678)."
)


def provider_choices():
    from rcsportal.messaging.providers import provider_choices as registry_choices

    return registry_choices()


def new_webhook_token() -> str:
    # 24 url-safe bytes -> 32 chars: long enough to be unguessable, short enough for BSG's
    # 100-character callback_url limit.
    return secrets.token_urlsafe(24)


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


# --------------------------------------------------------------------------------------------
# Agents
# --------------------------------------------------------------------------------------------


class Agent(TimestampedModel):
    """A sender identity at one provider, with the credentials to use it.

    ``credentials`` holds the provider's own parameter names (SMS Partner ``apiKey``;
    SerwerSMS ``username``/``password``/``rcs_id``; BSG ``api_key``; Aerialink
    ``username``/``password``). It is write-only in the admin: never rendered back.
    """

    name = models.CharField(max_length=100, unique=True)
    provider = models.CharField(max_length=32, choices=provider_choices)
    sender_id = models.CharField(
        "sender / agent id",
        max_length=100,
        blank=True,
        help_text="The agent or sender name at the provider (BSG sender, Aerialink source).",
    )
    credentials = models.JSONField(default=dict, blank=True, editable=False)
    base_url = models.URLField(
        "base URL override",
        blank=True,
        help_text="Replaces the provider's scheme and host (e.g. the sandbox); the documented path is appended.",
    )
    fallback_sms_sender = models.CharField(max_length=50, blank=True)
    sms_fallback_agent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"provider": "smspartner"},
        help_text="For providers with no failover field: send the fallback SMS through this SMS Partner agent.",
    )
    webhook_token = models.CharField(
        max_length=64, unique=True, default=new_webhook_token, editable=False
    )
    webhook_allowed_ips = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated source IPs allowed to call the webhook. Empty = the provider's documented list, if any.",
    )
    rate_per_second = models.PositiveIntegerField(
        default=50,
        validators=[MinValueValidator(1)],
        help_text="Recipients per second, across all workers.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.get_provider_display()})"

    @property
    def credential_keys(self) -> list[str]:
        return sorted(self.credentials)

    def webhook_url(self, kind: str = "") -> str:
        path = reverse("webhook", kwargs={"provider": self.provider, "token": self.webhook_token})
        if kind:
            path = f"{path}{kind}/"
        return f"{settings.PUBLIC_BASE_URL}{path}"


# --------------------------------------------------------------------------------------------
# Contacts
# --------------------------------------------------------------------------------------------


class ConsentStatus(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    GRANTED = "granted", "Granted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Contact(TimestampedModel):
    phone = models.CharField(max_length=16, unique=True, validators=[E164_VALIDATOR])
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    language = models.CharField(max_length=8, blank=True, help_text="BCP 47, e.g. fr or pl-PL.")
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166 alpha-2, from the number."
    )
    attributes = models.JSONField(
        default=dict, blank=True, help_text="Free fields for {{ placeholders }}."
    )
    consent_status = models.CharField(
        max_length=16, choices=ConsentStatus.choices, default=ConsentStatus.UNKNOWN
    )
    consent_source = models.CharField(max_length=200, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)

    # Not indexed: every index slows the million-row import, and nothing filters contacts by
    # creation time (the list is ordered by id; search is by exact phone or e-mail).
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name} <{self.phone}>" if name else self.phone

    def placeholder_fields(self) -> dict:
        """The values ``{{ name }}`` placeholders are filled with for this contact."""
        fields = dict(self.attributes or {})
        fields.update(
            phone=self.phone,
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            language=self.language,
            country=self.country,
        )
        return fields


class ContactGroup(TimestampedModel):
    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(
        Contact, through="Membership", related_name="groups", blank=True
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    # No separate index on group: the unique (group, contact) index starts with it.
    group = models.ForeignKey(
        ContactGroup, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="memberships")
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "contact"], name="uniq_membership")]

    def __str__(self):
        return f"{self.contact} in {self.group}"


# --------------------------------------------------------------------------------------------
# Templates and sends
# --------------------------------------------------------------------------------------------


class MessageKind(models.TextChoices):
    TEXT = "text", "Text"
    FILE = "file", "File / media"
    CARD = "card", "Rich card"
    CAROUSEL = "carousel", "Carousel"


class Template(TimestampedModel):
    """A reusable message. ``content`` is the canonical JSON (docs/message-format.md),
    including its ``fallback`` section (the SMS/MMS copy), so there is one source of truth."""

    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(
        max_length=16, choices=MessageKind.choices, editable=False, default=MessageKind.TEXT
    )
    content = models.JSONField(default=dict)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.kind = kind_of(self.content)
        super().save(*args, **kwargs)

    @property
    def fallback_text(self) -> str:
        return ((self.content or {}).get("fallback") or {}).get("sms", {}).get("text", "")


def kind_of(content: dict | None) -> str:
    content = content or {}
    rich = content.get("richCard") or {}
    if "carouselCard" in rich:
        return MessageKind.CAROUSEL
    if "standaloneCard" in rich:
        return MessageKind.CARD
    if "contentInfo" in content:
        return MessageKind.FILE
    return MessageKind.TEXT


class TrafficType(models.TextChoices):
    COMMERCIAL = "commercial", "Commercial (quiet hours apply)"
    TRANSACTIONAL = "transactional", "Transactional (exempt from quiet hours)"


class SendStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


SEND_STATUSES_THAT_RAN = {
    SendStatus.RUNNING,
    SendStatus.PAUSED,
    SendStatus.COMPLETED,
    SendStatus.CANCELLED,
    SendStatus.FAILED,
}

SEND_COUNTERS = (
    "recipients",
    "excluded_suppressed",
    "excluded_invalid",
    "excluded_duplicate",
    "pending",
    "submitted",
    "sent",
    "delivered",
    "read",
    "clicked",
    "replied",
    "failed",
    "expired",
    "fallback",
    "unknown",
    "cancelled",
)


class Send(TimestampedModel):
    """A template sent by an agent to an audience; one Delivery per recipient."""

    name = models.CharField(max_length=200)
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="sends")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="sends")
    content_override = models.JSONField(
        null=True, blank=True, help_text="Replaces the template's content for this send."
    )
    degradations = models.JSONField(
        default=list, blank=True, help_text="Degradation keys the user accepted for this provider."
    )
    groups = models.ManyToManyField(ContactGroup, blank=True, related_name="sends")
    contacts = models.ManyToManyField(Contact, blank=True, related_name="direct_sends")
    traffic_type = models.CharField(
        max_length=16, choices=TrafficType.choices, default=TrafficType.COMMERCIAL
    )
    scheduled_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty = as soon as it is started."
    )
    status = models.CharField(
        max_length=16, choices=SendStatus.choices, default=SendStatus.DRAFT, db_index=True
    )
    content_snapshot = models.JSONField(null=True, blank=True, editable=False)
    dispatched_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )

    # Counters: maintained with F() increments on each state transition (never recounted per event).
    recipients = models.PositiveIntegerField(default=0, editable=False)
    excluded_suppressed = models.PositiveIntegerField(default=0, editable=False)
    excluded_invalid = models.PositiveIntegerField(default=0, editable=False)
    excluded_duplicate = models.PositiveIntegerField(default=0, editable=False)
    pending = models.IntegerField(default=0, editable=False)
    submitted = models.IntegerField(default=0, editable=False)
    sent = models.IntegerField(default=0, editable=False)
    delivered = models.IntegerField(default=0, editable=False)
    read = models.IntegerField(default=0, editable=False)
    clicked = models.IntegerField(default=0, editable=False)
    replied = models.IntegerField(default=0, editable=False)
    failed = models.IntegerField(default=0, editable=False)
    expired = models.IntegerField(default=0, editable=False)
    fallback = models.IntegerField(default=0, editable=False)
    unknown = models.IntegerField(default=0, editable=False)
    cancelled = models.IntegerField(default=0, editable=False)
    cost = models.DecimalField(max_digits=14, decimal_places=6, default=0, editable=False)
    currency = models.CharField(max_length=3, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "scheduled_at"])]

    def __str__(self):
        return self.name

    @property
    def has_run(self) -> bool:
        return self.status in SEND_STATUSES_THAT_RAN

    @property
    def content(self) -> dict:
        """What goes out: the snapshot once dispatched, else the override or the template."""
        if self.content_snapshot is not None:
            return self.content_snapshot
        if self.content_override:
            return self.content_override
        return self.template.content


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUBMITTING = "submitting", "Submitting"
    ACCEPTED = "accepted", "Accepted by provider"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    FALLBACK_SENT = "fallback_sent", "Fallback SMS/MMS sent"
    UNKNOWN = "unknown", "Unknown (needs a decision)"
    CANCELLED = "cancelled", "Cancelled"


class Delivery(models.Model):
    """One send × one recipient. ``reference_id`` is ours and goes on the wire where the
    provider carries one (BSG reference_id, SerwerSMS unique_id)."""

    send = models.ForeignKey(Send, on_delete=models.CASCADE, related_name="deliveries")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    phone = models.CharField(max_length=16)
    country = models.CharField(
        max_length=2, blank=True, help_text="Region of the number (quiet hours)."
    )
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    reference_id = models.CharField(max_length=32, unique=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    error_text = models.TextField(blank=True)
    fallback_channel = models.CharField(
        max_length=8, blank=True, help_text="sms or mms when the fallback went out."
    )
    fallback_message_id = models.CharField(
        max_length=100, blank=True, help_text="Provider id of our own fallback SMS."
    )
    cost = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(
        null=True, blank=True, help_text="Held (quiet hours, retry backoff) until then."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    final_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["send", "phone"], name="uniq_delivery_send_phone")
        ]
        indexes = [
            models.Index(fields=["send", "status"]),
            models.Index(fields=["status", "updated_at"]),
            models.Index(
                fields=["provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="delivery_provider_id",
            ),
            models.Index(fields=["phone", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.phone} · {self.send}"


class DeliveryEvent(models.Model):
    """A normalized status event as received (kept raw for audit and debugging)."""

    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    type = models.CharField(max_length=24)
    source = models.CharField(
        max_length=16, default="webhook", help_text="webhook, poll, response or system"
    )
    provider_message_id = models.CharField(max_length=100, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    error_code = models.CharField(max_length=50, blank=True)
    error_text = models.TextField(blank=True)
    applied = models.BooleanField(default=False, help_text="False when precedence made it a no-op.")
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["delivery", "received_at"])]

    def __str__(self):
        return f"{self.type} @ {self.received_at:%Y-%m-%d %H:%M:%S}"


class WebhookCallStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Processing failed"


class WebhookCall(models.Model):
    """Every call to a webhook URL, stored before anything else happens (audit trail)."""

    provider = models.CharField(max_length=32)
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_calls"
    )
    path_kind = models.CharField(max_length=32, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=WebhookCallStatus.choices, default=WebhookCallStatus.RECEIVED
    )
    reason = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self):
        return f"{self.provider} {self.status} @ {self.received_at:%Y-%m-%d %H:%M:%S}"


class InboundKind(models.TextChoices):
    TEXT = "text", "Text reply"
    REPLY = "reply", "Reply chip"
    ACTION = "action", "Action tap"
    LOCATION = "location", "Location"


class InboundMessage(models.Model):
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    phone = models.CharField(max_length=16)
    kind = models.CharField(max_length=16, choices=InboundKind.choices)
    text = models.TextField(blank=True)
    postback_data = models.CharField(max_length=2048, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    is_opt_out = models.BooleanField(default=False)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["phone", "-received_at"])]

    def __str__(self):
        return f"{self.phone}: {self.text or self.postback_data}"[:80]


class SuppressionReason(models.TextChoices):
    STOP_REPLY = "stop_reply", "STOP reply"
    PROVIDER_OPT_OUT = "provider_opt_out", "Provider stop list"
    MANUAL = "manual", "Added by staff"
    IMPORT = "import", "Imported"
    COMPLAINT = "complaint", "Complaint"


class Suppression(models.Model):
    """A number that must never receive anything again, whatever the audience says."""

    phone = models.CharField(max_length=16, unique=True, validators=[E164_VALIDATOR])
    reason = models.CharField(
        max_length=20, choices=SuppressionReason.choices, default=SuppressionReason.MANUAL
    )
    source = models.CharField(
        max_length=200, blank=True, help_text="Where it came from (agent, message, import...)."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.phone


class StopKeyword(models.Model):
    """Replies that mean "unsubscribe" (editable; matched case- and accent-insensitively)."""

    keyword = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["keyword"]

    def __str__(self):
        return self.keyword


class QuietHoursRule(models.Model):
    """When commercial messages may go out to numbers of one country (local time)."""

    country = models.CharField(
        max_length=2, unique=True, help_text="ISO 3166 alpha-2 (FR, PL, UA, US...)."
    )
    timezone = models.CharField(max_length=64, help_text="IANA time zone, e.g. Europe/Paris.")
    start = models.TimeField(help_text="Earliest local time.")
    end = models.TimeField(help_text="Latest local time (exclusive).")
    weekdays = models.CharField(
        max_length=7,
        default="012345",
        help_text="Allowed days, 0 = Monday … 6 = Sunday (e.g. 012345 = Mon–Sat).",
    )
    skip_public_holidays = models.BooleanField(
        default=True, help_text="Public holidays from the holidays package."
    )

    class Meta:
        ordering = ["country"]

    def __str__(self):
        return f"{self.country} {self.start:%H:%M}–{self.end:%H:%M}"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    MAPPED = "mapped", "Columns mapped"
    DRY_RUN = "dry_run", "Dry run done"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class ContactImport(TimestampedModel):
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED, db_index=True
    )
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    has_header = models.BooleanField(default=True)
    mapping = models.JSONField(
        default=dict, blank=True, help_text="Column index -> contact field or attribute."
    )
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text="default_country, update_existing, groups, consent_source.",
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    counts = models.JSONField(
        default=dict,
        blank=True,
        help_text="new, updated, unchanged, duplicates, invalid, suppressed.",
    )
    error_report = models.FileField(upload_to="imports/errors/%Y/%m/", blank=True)
    error_message = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 100 if self.status == ImportStatus.COMPLETED else 0
        return min(100, int(self.rows_processed * 100 / self.rows_total))


class RateBucket(models.Model):
    """Token bucket state per agent when no Redis is configured (embedded default)."""

    agent = models.OneToOneField(
        Agent, on_delete=models.CASCADE, primary_key=True, related_name="rate_bucket"
    )
    tokens = models.FloatField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.agent_id}: {self.tokens:.1f} tokens"
