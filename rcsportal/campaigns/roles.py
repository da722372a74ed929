"""The two staff roles, kept in sync after every migrate (idempotent).

Marketing runs campaigns: contacts, groups, templates and sends (add/change/view), imports,
suppressions; it may look at agents (never at their credentials: the admin never renders
them) and at deliveries and replies. Administrators may do everything, including agent
configuration. Deleting a send that already ran is refused to everyone but Administrators
(see ``SendAdmin.has_delete_permission``).
"""

from django.contrib.auth.models import Group, Permission

MARKETING = "Marketing"
ADMINISTRATORS = "Administrators"

MARKETING_PERMISSIONS = {
    "contact": ("add", "change", "view", "delete"),
    "contactgroup": ("add", "change", "view", "delete"),
    "membership": ("add", "change", "view", "delete"),
    "template": ("add", "change", "view", "delete"),
    "send": ("add", "change", "view", "delete"),
    "delivery": ("view",),
    "deliveryevent": ("view",),
    "inboundmessage": ("view",),
    "suppression": ("add", "view"),
    "contactimport": ("add", "change", "view"),
    "agent": ("view",),
    "quiethoursrule": ("view",),
    "stopkeyword": ("view",),
}


def roles_sync() -> None:
    """Create or update both groups with exactly their permissions."""
    campaign_perms = Permission.objects.filter(content_type__app_label="campaigns")
    by_codename = {p.codename: p for p in campaign_perms}

    marketing, _ = Group.objects.get_or_create(name=MARKETING)
    wanted = [
        by_codename[f"{action}_{model}"]
        for model, actions in MARKETING_PERMISSIONS.items()
        for action in actions
        if f"{action}_{model}" in by_codename
    ]
    marketing.permissions.set(wanted)

    admins, _ = Group.objects.get_or_create(name=ADMINISTRATORS)
    admin_perms = list(campaign_perms) + list(
        Permission.objects.filter(
            content_type__app_label="auth", content_type__model__in=["user", "group"]
        )
    )
    admins.permissions.set(admin_perms)


def sync_roles_after_migrate(sender, **kwargs):
    from .demo import defaults_ensure

    roles_sync()
    defaults_ensure()  # stop keywords and quiet-hour rules every installation starts with


def is_administrator(user) -> bool:
    return bool(user.is_superuser or user.groups.filter(name=ADMINISTRATORS).exists())
