"""What every CSV export of untrusted text shares: formula-safe cells, and files that
spreadsheets open as meant (UTF-8 with a BOM, `,` or `;` between cells); and the admin's export
of a log table's filtered list, streamed and read by keyset."""

import csv
import re
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.text import slugify

# Excel reads a file without a BOM in the locale's legacy code page (ü becomes Ã¼).
BOM = "\ufeff"
# `,` for most software; `;` for Excel in locales whose decimal separator is the comma (German),
# which then also expects amounts with a decimal comma.
SEPARATORS = {"comma": ",", "semicolon": ";"}
# A plain number (a negative amount) is no formula, though it starts with "-".
NUMBER = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?")
# Where a spreadsheet may start a cell, whichever separator the file itself uses: at the text's
# start, and after `,` or `;` (Excel splits at one of them by locale, not by the file), a tab
# (TSV; Excel's and LibreOffice's import dialogs offer it), `|` (a common "other"), a line
# break (a reader that ignores quotes starts a row there) or a `"` (one that misreads quotes);
# each perhaps followed by white space or NULs, which readers may trim. A formula starts with
# one of = + - @ (OWASP, "CSV Injection").
FORMULA_AT_CELL_START = re.compile(r"""((?:^|[,;\t|\r\n"])[\s\0]*)(?=[=+\-@])""")
# A space is a separator too (the import dialogs offer it), but there a lone "-" ("Kurs - Teil
# 2") is text: only a formula character with more after it starts a formula.
FORMULA_AFTER_SPACE = re.compile(r"(?<= )(?=[=+\-@]\S)")


def spreadsheet_safe(value):
    """Untrusted text (payloads, Digistore24's answers): keep spreadsheets from running any of
    it as a formula, wherever they split it into cells: a `'` (text, to a spreadsheet) before
    every formula character that could start a cell. OWASP's leading-character rule alone is
    not enough, since a reader that splits at another separator than the file's (a German
    Excel opening a `,` file splits at `;`) sees cells start in the middle of the text; and
    quoting every cell, which keeps readers that split at the file's own separator from
    splitting it, does nothing for those."""
    if not isinstance(value, str) or NUMBER.fullmatch(value):
        return value
    value = FORMULA_AT_CELL_START.sub(r"\1'", value)
    return FORMULA_AFTER_SPACE.sub("'", value)


def money(amount: Decimal | None, separator: str = ",") -> str:
    """An amount with two decimals (more only where they are used), in the separator's
    convention."""
    if amount is None:
        return ""
    shown = f"{amount:.2f}" if amount == round(amount, 2) else f"{amount.normalize():f}"
    return shown.replace(".", ",") if separator == ";" else shown


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value):
        return value


def csv_lines(header: list[str], rows: Iterable[list], separator: str = ","):
    """The lines of a CSV file, BOM first, for a StreamingHttpResponse. Every cell is quoted:
    a spreadsheet may split cells at `,` or at `;` whichever the file uses (by locale), and a
    quoted cell is never split, so text such as `x;=1+1` cannot start a cell of its own."""
    writer = csv.writer(_Echo(), delimiter=separator, quoting=csv.QUOTE_ALL)
    yield BOM + writer.writerow(header)
    for row in rows:
        yield writer.writerow([spreadsheet_safe(value) for value in row])


def csv_time(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def newest_first_in_batches(rows, size=2000):
    """All rows of a values_list (starting with id, received), newest first, read in batches
    by keyset: each batch is a short indexed query, so an export of millions of rows holds no
    long transaction, no server-side cursor and no more than one batch in memory."""
    rows = rows.order_by("-received", "-id")
    batch = list(rows[:size])
    while batch:
        yield from batch
        last_id, last_received = batch[-1][:2]
        # received <= last is what the index can seek to; the exclude drops what was sent.
        rest = rows.filter(received__lte=last_received).exclude(
            received=last_received, id__gte=last_id
        )
        batch = list(rest[:size])


class CsvExportMixin:
    """For the ModelAdmin of a log table (rows with id and received): `export/`, the list as
    CSV. The admin names what each row reads (`csv_fields`), the file's header (`csv_header`)
    and how a row (a dict of csv_fields) becomes its cells (`csv_row(row, separator)`)."""

    csv_fields: list[str]
    csv_header: list[str]

    def csv_row(self, row: dict, separator: str) -> list:
        raise NotImplementedError

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        export = path(
            "export/", self.admin_site.admin_view(self.export_view), name=f"{prefix}_export"
        )
        return [export, *super().get_urls()]

    def export_view(self, request):
        """The current filtered list as CSV, newest first, streamed as it is read, so the
        size of the list does not matter. `?sep=semicolon` for Excel in German locales."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        # Not a filter: taken out before the changelist reads the query string.
        request.GET = request.GET.copy()
        sep_name = request.GET.pop("sep", ["comma"])[-1]
        if sep_name not in SEPARATORS:
            return HttpResponseBadRequest(
                f"sep must be one of: {', '.join(SEPARATORS)}", content_type="text/plain"
            )
        separator = SEPARATORS[sep_name]
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters as exc:
            return HttpResponseBadRequest(f"Bad filter: {exc}", content_type="text/plain")
        rows = newest_first_in_batches(changelist.queryset.values_list(*self.csv_fields))
        lines = csv_lines(
            self.csv_header,
            (self.csv_row(dict(zip(self.csv_fields, row, strict=True)), separator) for row in rows),
            separator,
        )
        name = f"{slugify(self.opts.verbose_name_plural)}-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
