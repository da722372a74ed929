"""The contact import flow in the admin: upload -> mapping -> dry run -> confirm -> result.

Every step is a page styled like the admin (templates/campaigns/imports/). Long work (dry
run and import) runs in Celery tasks; the pages poll ``import_status`` for the progress bar.
"""

from __future__ import annotations

import os
import re

import phonenumbers
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from . import importers
from .models import ContactGroup, ContactImport, ImportStatus
from .tasks_import import contact_import_dry_run, contact_import_run

START_PERMS = ("campaigns.add_contactimport", "campaigns.add_contact")
VIEW_PERMS = ("campaigns.view_contactimport",)


def _can_start(view):
    return staff_member_required(permission_required(START_PERMS, raise_exception=True)(view))


def _can_view(view):
    return staff_member_required(permission_required(VIEW_PERMS, raise_exception=True)(view))


def _context(request, imp: ContactImport | None = None, **extra) -> dict:
    context = admin.site.each_context(request)
    context.update(
        imp=imp,
        opts=ContactImport._meta,
        contact_opts=ContactImport._meta.apps.get_model("campaigns", "Contact")._meta,
        **extra,
    )
    return context


# --------------------------------------------------------------------------------------------
# Upload
# --------------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Exported from Excel, LibreOffice or a CRM: UTF-8, UTF-16, Windows "
        "(French, Polish, Cyrillic) encodings; comma, semicolon or tab.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.CONTACT_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"This file is {filesizeformat(upload.size)}; the limit is "
                f"{filesizeformat(limit)}. Split it into smaller files and import them one "
                "after the other."
            )
        if upload.size == 0:
            raise ValidationError("The file is empty.")
        return upload


@_can_start
def import_upload(request):
    limit = settings.CONTACT_IMPORT_MAX_BYTES
    if request.method == "POST":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit + 64 * 1024:
            # Refuse before reading the body: no point in storing 5 GB to say no.
            form = UploadForm()
            form.add_error(
                None,
                f"This file is {filesizeformat(length)}; the limit is {filesizeformat(limit)}. "
                "Split it into smaller files and import them one after the other.",
            )
            return render(
                request,
                "campaigns/imports/upload.html",
                _context(request, form=form, limit=limit, title="Import contacts"),
                status=413,
            )
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            imp = ContactImport(
                original_name=os.path.basename(upload.name)[:255],
                size_bytes=upload.size,
                created_by=request.user,
            )
            imp.file.save(os.path.basename(upload.name), upload, save=False)
            imp.save()
            try:
                sniffed = importers.sniff(lambda: imp.file.storage.open(imp.file.name, "rb"))
            except importers.ImportFileError as exc:
                imp.status = ImportStatus.FAILED
                imp.error_message = exc.message
                imp.finished_at = timezone.now()
                imp.save()
                form.add_error("file", exc.message)
            else:
                _store_sniffed(imp, sniffed)
                return redirect("campaigns:import-mapping", pk=imp.pk)
    else:
        form = UploadForm()
    return render(
        request,
        "campaigns/imports/upload.html",
        _context(request, form=form, limit=limit, title="Import contacts"),
    )


def _apply_header_choice(sniffed: importers.Sniffed, has_header: bool) -> None:
    """The user says whether the first line is a header: redo the guess if we disagreed."""
    if has_header == sniffed.has_header:
        return
    if has_header:
        rows = sniffed.sample_rows
        if rows:
            sniffed.header = [c.strip() for c in rows[0]]
            sniffed.sample_rows = rows[1:]
    else:
        sniffed.sample_rows = [sniffed.header, *sniffed.sample_rows][:5]
        sniffed.header = [f"Column {i + 1}" for i in range(len(sniffed.header))]
    sniffed.has_header = has_header
    sniffed.mapping = importers.guess_mapping(sniffed.header)
    if not has_header:
        for index in range(len(sniffed.header)):
            if any(
                len(r) > index and importers._PHONEISH.match(r[index].strip())
                for r in sniffed.sample_rows
            ):
                sniffed.mapping[str(index)] = "phone"
                break


def _store_sniffed(imp: ContactImport, sniffed: importers.Sniffed) -> None:
    imp.encoding = sniffed.encoding
    imp.delimiter = sniffed.delimiter
    imp.has_header = sniffed.has_header
    imp.mapping = sniffed.mapping
    imp.options = {
        **(imp.options or {}),
        "header": sniffed.header,
        "sample": [row[: len(sniffed.header) + 2] for row in sniffed.sample_rows],
    }
    imp.status = ImportStatus.UPLOADED
    imp.save()


# --------------------------------------------------------------------------------------------
# Mapping and options
# --------------------------------------------------------------------------------------------

ENCODINGS = [
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 with BOM"),
    ("utf-16", "UTF-16 (with BOM)"),
    ("cp1252", "Windows-1252 (Western Europe, French)"),
    ("cp1250", "Windows-1250 (Central Europe, Polish)"),
    ("cp1251", "Windows-1251 (Cyrillic, Ukrainian)"),
]
DELIMITERS = [(",", "Comma ,"), (";", "Semicolon ;"), ("\t", "Tab"), ("|", "Pipe |")]
TARGET_CHOICES = (
    [("", "— do not import —")]
    + [(name, label) for name, label in importers.FIELD_LABELS.items()]
    + [("attribute", "Placeholder field named…")]
)


def _country_choices():
    return sorted(
        ((code, code) for code in phonenumbers.SUPPORTED_REGIONS), key=lambda item: item[0]
    )


class MappingForm(forms.Form):
    encoding = forms.ChoiceField(choices=ENCODINGS)
    delimiter = forms.ChoiceField(choices=DELIMITERS)
    has_header = forms.BooleanField(required=False, label="The first line holds column names")
    groups = forms.ModelMultipleChoiceField(
        queryset=ContactGroup.objects.all(),
        required=False,
        label="Add to existing groups",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    new_group = forms.CharField(
        required=False, max_length=150, label="…and/or to a new group named"
    )
    default_country = forms.ChoiceField(
        choices=_country_choices,
        initial="FR",
        label="Country of national-format numbers",
        help_text="Numbers without +country code (06 12 34 56 78) are read as numbers of this "
        "country, unless a country column says otherwise.",
    )
    update_existing = forms.TypedChoiceField(
        choices=[
            ("1", "Update contacts that already exist (empty cells keep the current value)"),
            ("0", "Only add new contacts; leave existing ones untouched"),
        ],
        coerce=lambda v: v == "1",
        initial="1",
        widget=forms.RadioSelect,
        label="Existing contacts",
    )
    consent_source = forms.CharField(
        required=False,
        max_length=200,
        label="Consent source",
        help_text="Recorded on every imported contact, e.g. “Trade show form, Lyon 2025”.",
    )

    def __init__(self, *args, header: list[str], mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.header = header
        self.columns = []
        for index, label in enumerate(header):
            target = mapping.get(str(index), "")
            attribute = ""
            if target.startswith("attributes."):
                attribute = target.split(".", 1)[1]
                target = "attribute"
            self.fields[f"col_{index}"] = forms.ChoiceField(
                choices=TARGET_CHOICES, required=False, initial=target, label=label
            )
            self.fields[f"attr_{index}"] = forms.CharField(
                required=False,
                initial=attribute or importers.attribute_key(label, index),
                max_length=60,
                label=f"Placeholder name for {label}",
            )
            self.columns.append((index, label, f"col_{index}", f"attr_{index}"))

    def reading_fields(self):
        return [self[name] for name in ("encoding", "delimiter", "has_header")]

    def option_fields(self):
        return [
            self[name]
            for name in (
                "groups",
                "new_group",
                "default_country",
                "update_existing",
                "consent_source",
            )
        ]

    def column_rows(self):
        return [(index, label, self[col], self[attr]) for index, label, col, attr in self.columns]

    def clean(self):
        cleaned = super().clean()
        mapping: dict[str, str] = {}
        used: dict[str, str] = {}
        for index, label, col, attr in self.columns:
            target = cleaned.get(col) or ""
            if target == "attribute":
                name = (cleaned.get(attr) or "").strip()
                if not name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                    self.add_error(
                        attr, "Letters, digits and _ only, not starting with a digit (city)."
                    )
                    continue
                target = f"attributes.{name}"
            if target:
                if target in used:
                    self.add_error(col, f"“{used[target]}” is already imported as this field.")
                used[target] = label
            mapping[str(index)] = target
        if "phone" not in used:
            raise ValidationError("Choose the column that holds the phone number.")
        cleaned["mapping"] = mapping
        return cleaned


def _get_import(request, pk, statuses=None) -> ContactImport:
    imp = get_object_or_404(ContactImport, pk=pk)
    if statuses is not None and imp.status not in statuses:
        raise Http404("This import is not at this step.")
    return imp


@_can_start
def import_mapping(request, pk):
    imp = _get_import(
        request, pk, {ImportStatus.UPLOADED, ImportStatus.MAPPED, ImportStatus.DRY_RUN}
    )
    header = imp.options.get("header") or []
    initial = {
        "encoding": imp.encoding,
        "delimiter": imp.delimiter,
        "has_header": imp.has_header,
        "default_country": imp.options.get("default_country", "FR"),
        "update_existing": "1" if imp.options.get("update_existing", True) else "0",
        "consent_source": imp.options.get("consent_source", ""),
        "groups": ContactGroup.objects.filter(name__in=imp.options.get("groups") or []),
    }
    if request.method == "POST":
        form = MappingForm(request.POST, header=header, mapping=imp.mapping, initial=initial)
        reread = (
            request.POST.get("encoding") != imp.encoding
            or request.POST.get("delimiter") != imp.delimiter
            or bool(request.POST.get("has_header")) != imp.has_header
            or "reread" in request.POST
        )
        if reread and request.POST.get("encoding") in dict(ENCODINGS):
            try:
                sniffed = importers.sniff(
                    lambda: imp.file.storage.open(imp.file.name, "rb"),
                    encoding=request.POST.get("encoding"),
                    delimiter=request.POST.get("delimiter") or None,
                )
            except importers.ImportFileError as exc:
                messages.error(request, exc.message)
            else:
                _apply_header_choice(sniffed, bool(request.POST.get("has_header")))
                _store_sniffed(imp, sniffed)
                messages.info(request, "The file was read again with these settings.")
            return redirect("campaigns:import-mapping", pk=imp.pk)
        if form.is_valid():
            data = form.cleaned_data
            groups = [g.name for g in data["groups"]]
            new_group = data["new_group"].strip()
            if new_group and new_group not in groups:
                groups.append(new_group)
            imp.mapping = data["mapping"]
            imp.options = {
                **imp.options,
                "groups": groups,
                "default_country": data["default_country"],
                "update_existing": data["update_existing"],
                "consent_source": data["consent_source"].strip(),
            }
            imp.status = ImportStatus.MAPPED
            imp.counts = {}
            imp.rows_processed = 0
            imp.error_message = ""
            imp.save()
            contact_import_dry_run.delay_on_commit(imp.pk)
            return redirect("campaigns:import-dry-run", pk=imp.pk)
    else:
        form = MappingForm(header=header, mapping=imp.mapping, initial=initial)
    return render(
        request,
        "campaigns/imports/mapping.html",
        _context(
            request,
            imp,
            form=form,
            sample=imp.options.get("sample") or [],
            title=f"Map the columns of {imp.original_name}",
        ),
    )


# --------------------------------------------------------------------------------------------
# Dry run, confirm, result
# --------------------------------------------------------------------------------------------


def _counts_table(imp: ContactImport) -> list[tuple[str, int, str]]:
    counts = imp.counts or {}
    help_text = {
        "new": "new contacts",
        "updated": "existing contacts that change",
        "unchanged": "existing contacts already up to date (or left untouched)",
        "duplicates": "rows repeating a number seen earlier in the file",
        "invalid": "rows rejected (see the errors)",
        "suppressed": "numbers on the suppression list, not imported",
    }
    return [(key, counts.get(key, 0), help_text[key]) for key in importers.COUNT_KEYS]


@_can_start
def import_dry_run(request, pk):
    imp = _get_import(request, pk)
    if imp.status in (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.COMPLETED):
        return redirect("campaigns:import-detail", pk=imp.pk)
    if imp.status == ImportStatus.UPLOADED:
        return redirect("campaigns:import-mapping", pk=imp.pk)
    return render(
        request,
        "campaigns/imports/dry_run.html",
        _context(
            request,
            imp,
            running=imp.status == ImportStatus.MAPPED,
            counts=_counts_table(imp),
            errors=(imp.counts or {}).get("errors") or [],
            title=f"Dry run of {imp.original_name}",
        ),
    )


@_can_start
@require_POST
def import_confirm(request, pk):
    imp = _get_import(request, pk, {ImportStatus.DRY_RUN})
    updated = ContactImport.objects.filter(pk=imp.pk, status=ImportStatus.DRY_RUN).update(
        status=ImportStatus.QUEUED, rows_processed=0
    )
    if updated:
        contact_import_run.delay_on_commit(imp.pk)
    return redirect("campaigns:import-detail", pk=imp.pk)


@_can_view
def import_detail(request, pk):
    imp = _get_import(request, pk)
    if imp.status in (ImportStatus.UPLOADED,):
        return redirect("campaigns:import-mapping", pk=imp.pk)
    if imp.status in (ImportStatus.MAPPED, ImportStatus.DRY_RUN):
        return redirect("campaigns:import-dry-run", pk=imp.pk)
    return render(
        request,
        "campaigns/imports/detail.html",
        _context(
            request,
            imp,
            running=imp.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
            counts=_counts_table(imp),
            errors=(imp.counts or {}).get("errors") or [],
            title=f"Import of {imp.original_name}",
        ),
    )


@_can_view
@require_GET
def import_status(request, pk):
    imp = _get_import(request, pk)
    done = imp.status in (ImportStatus.DRY_RUN, ImportStatus.COMPLETED, ImportStatus.FAILED)
    return JsonResponse(
        {
            "status": imp.status,
            "status_display": imp.get_status_display(),
            "rows_processed": imp.rows_processed,
            "rows_total": imp.rows_total,
            "percent": imp.progress_percent if imp.rows_total else None,
            "done": done,
            "error_message": imp.error_message,
        },
        headers={"Cache-Control": "no-store"},
    )


@_can_view
def import_errors(request, pk):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    imp = _get_import(request, pk)
    if not imp.error_report:
        raise Http404("This import has no error report.")
    name = os.path.splitext(imp.original_name)[0] or "import"
    return FileResponse(
        imp.error_report.open("rb"),
        as_attachment=True,
        filename=f"{name}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )


def import_start_url() -> str:
    return reverse("campaigns:import-upload")
