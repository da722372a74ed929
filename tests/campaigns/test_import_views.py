"""The admin import flow: upload -> mapping -> dry run -> confirm -> result (tasks eager)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from rcsportal.campaigns import roles
from rcsportal.campaigns.models import Contact, ContactImport, ImportStatus, Membership

from .factories import make_group, make_user

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "csv"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def marketing_client(client):
    client.force_login(make_user("marketer", roles.MARKETING))
    return client


def upload(client, name="fr_cp1252_semicolon.csv", content=None):
    data = content if content is not None else (CORPUS / name).read_bytes()
    return client.post(reverse("campaigns:import-upload"), {"file": SimpleUploadedFile(name, data)})


def mapping_post(imp, **overrides):
    data = {
        "encoding": imp.encoding,
        "delimiter": imp.delimiter,
        "has_header": "on" if imp.has_header else "",
        "default_country": "FR",
        "update_existing": "1",
        "consent_source": "Salon 2025",
        "new_group": "",
    }
    for key, target in imp.mapping.items():
        if target.startswith("attributes."):
            data[f"col_{key}"] = "attribute"
            data[f"attr_{key}"] = target.split(".", 1)[1]
        else:
            data[f"col_{key}"] = target
    data.update(overrides)
    return data


def test_full_flow_from_upload_to_result(marketing_client, django_capture_on_commit_callbacks):
    existing = make_group("Existing")
    changelist = marketing_client.get(reverse("admin:campaigns_contact_changelist"))
    assert reverse("campaigns:import-upload").encode() in changelist.content

    response = upload(marketing_client)
    imp = ContactImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:import-mapping", args=[imp.pk])
    assert (imp.encoding, imp.delimiter, imp.status) == ("cp1252", ";", ImportStatus.UPLOADED)

    page = marketing_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Téléphone" in html and "Orléans" in html
    assert '<option value="phone" selected>' in html

    with django_capture_on_commit_callbacks(execute=True):
        response = marketing_client.post(
            response["Location"],
            mapping_post(imp, groups=[existing.pk], new_group="Salon Lyon"),
        )
    assert response.status_code == 302
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DRY_RUN
    assert Contact.objects.count() == 0  # the dry run wrote nothing
    page = marketing_client.get(response["Location"]).content.decode()
    assert "Dry run" in page and "Import now" in page
    assert "duplicate of line 2" in page
    assert {k: imp.counts[k] for k in ("new", "duplicates", "invalid")} == {
        "new": 3,
        "duplicates": 1,
        "invalid": 3,
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = marketing_client.post(reverse("campaigns:import-confirm", args=[imp.pk]))
    assert response["Location"] == reverse("campaigns:import-detail", args=[imp.pk])
    imp.refresh_from_db()
    assert imp.status == ImportStatus.COMPLETED
    assert (imp.rows_processed, imp.rows_total) == (7, 7)
    assert Contact.objects.count() == 3
    assert Membership.objects.filter(group__name="Salon Lyon").count() == 3
    assert Membership.objects.filter(group=existing).count() == 3
    assert set(Contact.objects.values_list("consent_source", flat=True)) == {"Salon 2025"}

    result = marketing_client.get(response["Location"]).content.decode()
    assert "Import finished" in result and "errors.csv" in result

    status = marketing_client.get(reverse("campaigns:import-status", args=[imp.pk])).json()
    assert status["done"] is True and status["status"] == "completed"
    assert status["percent"] == 100

    report = marketing_client.get(reverse("campaigns:import-errors", args=[imp.pk]))
    assert report.status_code == 200
    assert report["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["5", "6", "7", "8"]

    # A second confirm does nothing.
    marketing_client.post(reverse("campaigns:import-confirm", args=[imp.pk]))
    assert Contact.objects.count() == 3


def test_progress_page_and_status_while_running(marketing_client):
    imp = ContactImport.objects.create(
        file="imports/x.csv",
        original_name="x.csv",
        status=ImportStatus.RUNNING,
        rows_total=200,
        rows_processed=50,
    )
    page = marketing_client.get(reverse("campaigns:import-detail", args=[imp.pk])).content.decode()
    assert "<progress" in page and 'role="status"' in page and 'aria-live="polite"' in page
    assert "campaigns/import.js" in page
    status = marketing_client.get(reverse("campaigns:import-status", args=[imp.pk])).json()
    assert status == {
        "status": "running",
        "status_display": "Running",
        "rows_processed": 50,
        "rows_total": 200,
        "percent": 25,
        "done": False,
        "error_message": "",
    }


def test_upload_over_the_size_cap_is_refused(marketing_client, settings):
    settings.CONTACT_IMPORT_MAX_BYTES = 100
    response = upload(marketing_client, content=b"phone\n" + b"+33612345678\n" * 20)
    assert response.status_code == 200
    assert "the limit is 100" in response.content.decode()
    assert not ContactImport.objects.exists()


def test_upload_of_a_binary_file_says_why(marketing_client):
    response = upload(marketing_client, name="workbook.xlsx")
    assert response.status_code == 200
    assert "Excel workbook" in response.content.decode()
    assert ContactImport.objects.get().status == ImportStatus.FAILED


def test_broken_file_fails_the_dry_run_with_the_line(
    marketing_client, django_capture_on_commit_callbacks
):
    upload(marketing_client, name="truncated.csv")
    imp = ContactImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        marketing_client.post(reverse("campaigns:import-mapping", args=[imp.pk]), mapping_post(imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.FAILED
    assert imp.error_message.startswith("Line 3:")
    page = marketing_client.get(reverse("campaigns:import-dry-run", args=[imp.pk]))
    assert "Line 3:" in page.content.decode()
    assert Contact.objects.count() == 0


def test_mapping_requires_a_phone_column(marketing_client):
    upload(marketing_client)
    imp = ContactImport.objects.get()
    response = marketing_client.post(
        reverse("campaigns:import-mapping", args=[imp.pk]), mapping_post(imp, col_0="")
    )
    assert response.status_code == 200
    assert "Choose the column that holds the phone number." in response.content.decode()
    imp.refresh_from_db()
    assert imp.status == ImportStatus.UPLOADED


def test_changing_the_delimiter_rereads_the_file(marketing_client):
    upload(marketing_client)
    imp = ContactImport.objects.get()
    marketing_client.post(
        reverse("campaigns:import-mapping", args=[imp.pk]), mapping_post(imp, delimiter=",")
    )
    imp.refresh_from_db()
    assert imp.delimiter == "," and len(imp.options["header"]) == 1
    assert imp.status == ImportStatus.UPLOADED


def test_permissions(client):
    url = reverse("campaigns:import-upload")
    assert client.get(url).status_code == 302  # to the admin login
    client.force_login(make_user("plain-staff"))
    assert client.get(url).status_code == 403
    changelist = client.get(reverse("admin:campaigns_contactimport_changelist"))
    assert changelist.status_code == 403


def test_contact_import_admin_has_no_add_form_and_links_to_the_flow(admin_client):
    imp = ContactImport.objects.create(
        file="imports/x.csv", original_name="x.csv", status=ImportStatus.COMPLETED
    )
    assert admin_client.get(reverse("admin:campaigns_contactimport_add")).status_code == 403
    changelist = admin_client.get(reverse("admin:campaigns_contactimport_changelist"))
    html = changelist.content.decode()
    assert reverse("campaigns:import-detail", args=[imp.pk]) in html
    assert reverse("campaigns:import-upload") in html


def test_command_reports_and_exits_non_zero_on_a_broken_file(tmp_path, capsys):
    report = tmp_path / "r.csv"
    call_command(
        "import_contacts",
        str(CORPUS / "duplicates_invalid.csv"),
        "--group",
        "CLI",
        "--report",
        str(report),
    )
    out = capsys.readouterr().out
    assert "new                  3" in out and "duplicates           3" in out
    assert "line 3 [phone]: duplicate of line 2" in out
    assert Membership.objects.filter(group__name="CLI").count() == 3
    call_command(
        "import_contacts",
        str(CORPUS / "duplicates_invalid.csv"),
        "--dry-run",
        "--report",
        str(tmp_path / "dry.csv"),
    )
    assert "unchanged            3" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_contacts", str(CORPUS / "truncated.csv"), "--report", str(report))
    assert exit_info.value.code == 1
    assert "never closed" in capsys.readouterr().err
