"""Admin helpers for tables with millions of rows."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

COUNT_CAP = 10_000


def estimated_table_rows(model) -> int | None:
    """PostgreSQL's planner estimate for the whole table (None elsewhere or when unknown)."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    if not row or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


class EstimatedCountPaginator(Paginator):
    """Never runs a full ``COUNT(*)``.

    Unfiltered lists on PostgreSQL use the planner's estimate when it is above the cap;
    everything else is counted up to ``COUNT_CAP + 1`` rows (a LIMIT-ed subquery), so a list
    of a million deliveries reads at most ten thousand index entries to say "10,001".
    """

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not queryset.query.where:
            estimate = estimated_table_rows(queryset.model)
            if estimate is not None and estimate > COUNT_CAP:
                return estimate
        return queryset.order_by()[: COUNT_CAP + 1].count()


class BigTableAdminMixin:
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50


class PaginatedInlineMixin:
    """Shows one page of a large inline (``?<prefix>-page=N``) instead of every row."""

    per_page = 25

    def get_formset(self, request, obj=None, **kwargs):
        formset_class = super().get_formset(request, obj, **kwargs)
        per_page = self.per_page
        page_param = f"{formset_class.get_default_prefix()}-page"

        class PaginatedFormSet(formset_class):
            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                try:
                    page_number = max(1, int(request.GET.get(page_param, 1)))
                except ValueError:
                    page_number = 1
                paginator = EstimatedCountPaginator(self.queryset, per_page)
                self.page = paginator.get_page(page_number)
                self.page_param = page_param
                start = (self.page.number - 1) * per_page
                self.queryset = self.queryset[start : start + per_page]
                self._queryset_cached = None

            def get_queryset(self):
                if self._queryset_cached is None:
                    self._queryset_cached = list(self.queryset)
                return self._queryset_cached

        return PaginatedFormSet
