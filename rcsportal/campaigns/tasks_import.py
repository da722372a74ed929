"""Celery tasks of the contact import (see importers.py), star-imported by tasks.py.

Each task takes a ContactImport id. Progress (``rows_processed``) is written after every
chunk of the staging pass, each update committed on its own, so the status endpoint shows
it while the import runs; the contacts themselves are written in one final transaction.
Both tasks are safe to run twice (a redelivered task re-imports the same file, which
changes nothing), and skip imports that are no longer in the state they expect.
"""

from __future__ import annotations

import logging
import os

from celery import shared_task
from django.conf import settings
from django.utils import timezone

__all__ = ["contact_import_dry_run", "contact_import_run"]

logger = logging.getLogger(__name__)


def _report_name(imp, dry_run: bool) -> str:
    stamp = timezone.now()
    kind = "dry-run" if dry_run else "errors"
    return f"imports/errors/{stamp:%Y/%m}/import-{imp.pk}-{kind}.csv"


def contact_import_process(import_id: int, *, dry_run: bool) -> None:
    """Dry-run or run one ContactImport and record the outcome on it."""
    from . import importers
    from .models import ContactImport, ImportStatus

    imp = ContactImport.objects.get(pk=import_id)
    expected = {ImportStatus.MAPPED} if dry_run else {ImportStatus.QUEUED, ImportStatus.RUNNING}
    if imp.status not in expected:
        logger.info("import %s is %s: nothing to do", imp.pk, imp.status)
        return
    now = timezone.now()
    fields = {"rows_processed": 0, "error_message": ""}
    if not dry_run:
        fields.update(status=ImportStatus.RUNNING, started_at=now)
    ContactImport.objects.filter(pk=imp.pk).update(**fields)

    def progress(rows: int, fraction: float | None) -> None:
        ContactImport.objects.filter(pk=imp.pk).update(rows_processed=rows)

    report_name = _report_name(imp, dry_run)
    report_path = os.path.join(settings.MEDIA_ROOT, report_name)
    storage = imp.file.storage
    try:
        result = importers.import_file(
            lambda: storage.open(imp.file.name, "rb"),
            encoding=imp.encoding,
            delimiter=imp.delimiter,
            has_header=imp.has_header,
            mapping=imp.mapping,
            options=importers.ImportOptions.from_dict(imp.options),
            dry_run=dry_run,
            progress=progress,
            report_path=report_path,
        )
    except importers.ImportFileError as exc:
        ContactImport.objects.filter(pk=imp.pk).update(
            status=ImportStatus.FAILED,
            error_message=exc.message,
            finished_at=timezone.now(),
        )
        return
    except Exception:
        logger.exception("import %s crashed", imp.pk)
        ContactImport.objects.filter(pk=imp.pk).update(
            status=ImportStatus.FAILED,
            error_message="The import stopped on an internal error; nothing was written. "
            "The administrators have the details in the worker log.",
            finished_at=timezone.now(),
        )
        raise
    fields = {
        "counts": result.as_dict(),
        "rows_total": result.rows,
        "rows_processed": result.rows,
        "error_report": report_name if result.report_path else "",
    }
    if dry_run:
        fields["status"] = ImportStatus.DRY_RUN
    else:
        fields.update(status=ImportStatus.COMPLETED, finished_at=timezone.now())
    ContactImport.objects.filter(pk=imp.pk).update(**fields)


@shared_task(acks_late=True)
def contact_import_dry_run(import_id: int) -> None:
    contact_import_process(import_id, dry_run=True)


@shared_task(acks_late=True)
def contact_import_run(import_id: int) -> None:
    contact_import_process(import_id, dry_run=False)
