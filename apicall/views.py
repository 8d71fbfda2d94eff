"""The API-call console's pages, served inside the admin (apicall/admin.py registers them):
the console itself, and a list result as CSV."""

import csv
import uuid
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import slugify

from apicall import results, rules
from apicall.forms import FunctionCallForm, RawCallForm
from apicall.models import ApiCall
from apicall.services import apicall_run
from connections import catalogue
from ds24site.csv_export import spreadsheet_safe

USE_CONSOLE = "apicall.use_console"
VIEW_HISTORY = "apicall.view_apicall"
RAW, FUNCTION = "raw", "function"


def console(request, *, admin_site):
    """GET: the console, showing `?call=<id>` (a call's result, the form filled as it was sent)
    or `?rerun=<id>` (the form filled with a call to send again; nothing is sent). POST: run
    the call through apicall_run, then redirect to `?call=<id>`, so a reload never sends it
    twice. Refusals by the rules are errors on the field they name; nothing was sent then.

    Modes: `?function=<name>` (the default mode: a form generated from the catalogue) or
    `?mode=raw` (method, URL, headers, query, body as the integrators type them)."""
    if not request.user.has_perm(USE_CONSOLE):
        raise PermissionDenied
    shown = visible_call(request, request.GET.get("call"))
    rerun = visible_call(request, request.GET.get("rerun"))
    source = shown or rerun
    mode = request.GET.get("mode") or (RAW if rerun else FUNCTION)
    if mode not in (RAW, FUNCTION):
        mode = FUNCTION
    name = request.GET.get("function", "").strip()
    function = catalogue.get(name) if mode == FUNCTION else None

    form = None
    if mode == RAW:
        initial = source.rerun_initial() if source else {}
        form = RawCallForm(request.POST or None, initial=initial)
    elif function is not None:
        use = source if source and source.function == function.name else None
        initial = FunctionCallForm.initial_from(function, use) if use else {}
        form = FunctionCallForm(function, request.POST or None, initial=initial)

    if request.method == "POST" and form is not None and form.is_valid():
        try:
            call = apicall_run(user=request.user, **form.call_kwargs())
        except rules.CallRefused as exc:
            form.refused(exc)
        else:
            after = {"call": call.public_id}
            after.update({"function": function.name} if function else {"mode": RAW})
            return redirect(f"{console_url()}?{urlencode(after)}")

    context = {
        **admin_site.each_context(request),
        "title": "API console",
        "opts": ApiCall._meta,
        "mode": mode,
        "function": function,
        "unknown_function": name if mode == FUNCTION and name and function is None else "",
        "groups": function_groups(),
        "form": form,
        "form_action": form_action(mode, function),
        "rerun": rerun,
        "result": result_context(request, shown) if shown else None,
    }
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "admin/apicall/console.html", context, status=status)


def call_csv(request, public_id):
    """A recorded answer's list as CSV: every row, the cells guarded against spreadsheet
    formulas (Digistore24's values are untrusted text)."""
    call = visible_call(request, str(public_id))
    table = results.list_table(call.function, call.response_body, rows=None)
    if table is None:
        raise Http404("This answer holds no list to export.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = slugify(f"{call.function}-{table.key}-{call.created:%Y%m%d-%H%M%S}")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = csv.writer(response)
    writer.writerow([spreadsheet_safe(column) for column in table.columns])
    writer.writerows([spreadsheet_safe(value) for value in row] for row in table.rows)
    return response


def visible_call(request, public_id: str | None) -> ApiCall | None:
    """The call with that public id, if this user may see it: staff who may view the history
    see every call, console users their own. 404 otherwise (also for a malformed id)."""
    if not public_id:
        return None
    try:
        wanted = uuid.UUID(public_id)
    except ValueError:
        raise Http404("No such API call.") from None
    call = ApiCall.objects.select_related("connection").filter(public_id=wanted).first()
    user = request.user
    if call is None or not (call.user_id == user.pk or user.has_perm(VIEW_HISTORY)):
        raise Http404("No such API call.")
    return call


def console_url() -> str:
    return reverse("admin:apicall_apiconsole_changelist")


def form_action(mode: str, function) -> str:
    """Where the form posts: the mode alone, without the call being shown."""
    query = {"mode": RAW} if mode == RAW else {"function": function.name} if function else {}
    return f"{console_url()}?{urlencode(query)}"


def function_groups() -> list[tuple[str, list[catalogue.Function]]]:
    """The picker's options: the catalogue's functions by group, in the catalogue's order."""
    groups: dict[str, list] = {group: [] for group in catalogue.GROUPS}
    for function in catalogue.FUNCTIONS.values():
        groups[function.group].append(function)
    return list(groups.items())


def result_context(request, call: ApiCall) -> dict:
    table = results.list_table(call.function, call.response_body)
    return {
        "call": call,
        "body_html": results.body_html(call.response_body),
        "body_text": results.body_text(call.response_body),
        "headers": rules.headers_text([tuple(pair) for pair in call.response_headers]),
        "table": table,
        "csv_url": reverse("admin:apicall_apicall_csv", args=[call.public_id]) if table else "",
        "history_url": (
            reverse("admin:apicall_apicall_change", args=[call.pk])
            if request.user.has_perm(VIEW_HISTORY)
            else ""
        ),
    }
