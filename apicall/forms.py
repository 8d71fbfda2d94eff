"""The API-call console's forms: raw mode (what the integrators type) and function mode (a form
generated from a catalogue function's parameters). Both only collect input; `apicall_run` and
its rules decide what is sent, so a refusal (`CallRefused`) lands on the field it names."""

import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.core.validators import RegexValidator

from apicall import rules
from apicall.models import ApiCall
from connections import catalogue
from connections.catalogue import Type
from connections.models import Connection
from ds24site import numbers

# Digistore24's date and time forms (shared/digistore24.md §5.2, "special data types"): a
# calendar date or time, `now`/`today`, or relative to now: `-7d`, `24h`, `-30m`, `6M`, `2Y`.
RELATIVE = re.compile(r"[+-]?[0-9]{1,6}[smhdMY]")
DATE_WORDS = ("now", "today")
# Numbers as Digistore24's PHP reads them: ASCII digits (ds24site.numbers).
WHOLE_NUMBER = RegexValidator(rf"^{numbers.INTEGER.pattern}\Z", "Enter a whole number.")
DECIMAL_NUMBER = RegexValidator(rf"^{numbers.DECIMAL.pattern}\Z", "Enter a number such as 49.00.")
ISO_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_HELP = {
    Type.DATE: "YYYY-MM-DD, today, or relative to now: -7d",
    Type.DATETIME: "YYYY-MM-DD HH:MM:SS, now, or relative to now: -24h, -30m, -7d",
}
TYPE_HELP = {
    Type.BOOLEAN: "Y or N",
    Type.LIST: "comma-separated",
    Type.INTEGER: "a whole number",
    Type.DECIMAL: "a decimal number, e.g. 49.00",
}
BOOLEAN_CHOICES = [("", "—"), ("Y", "Y (yes)"), ("N", "N (no)")]
FREE_FORM_HELP = "name=value lines (or a JSON object), sent as {name}[name]=value"


def is_ds24_date(value: str) -> bool:
    """Whether Digistore24 reads `value` as a date or time: a real calendar date (with an
    optional time and zone, ISO-8601), now/today, or a relative offset."""
    if value in DATE_WORDS or RELATIVE.fullmatch(value):
        return True
    if not ISO_START.match(value):  # fromisoformat alone would take 20260228 too
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def validate_ds24_date(value: str) -> None:
    if not is_ds24_date(value):
        raise forms.ValidationError(
            "Not a date Digistore24 reads: use YYYY-MM-DD (with HH:MM:SS for a time), now, "
            "today, or relative to now such as -7d, -24h, -30m."
        )


class ConnectionField(forms.ModelChoiceField):
    """Connections by public id, each labelled with its account and what its key may do."""

    ACCESS = {
        Connection.Access.READ_ONLY: "read-only key",
        Connection.Access.FULL: "full-access key",
        Connection.Access.UNKNOWN: "access not known yet",
    }

    def __init__(self, **kwargs):
        super().__init__(
            queryset=Connection.objects.order_by("name"),
            to_field_name="public_id",
            empty_label="Choose a connection",
            **kwargs,
        )

    def label_from_instance(self, obj):
        account = obj.ds24_user_name or (
            "verification failed" if obj.status == Connection.Status.FAILED else "not verified"
        )
        return f"{obj.name} — {account} — {self.ACCESS.get(obj.access, obj.access)}"


class CallForm(forms.Form):
    """What both modes share: the connection, and the confirmation a write needs."""

    connection = ConnectionField()
    confirm_write = forms.BooleanField(
        required=False,
        label="Run it: this changes data in Digistore24",
        help_text="Needed for a write (and for a function the catalogue does not know).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One connection: nothing to choose.
        connections = list(self.fields["connection"].queryset[:2])
        if len(connections) == 1 and "connection" not in self.initial:
            self.initial["connection"] = connections[0]

    def refused(self, exc: rules.CallRefused) -> None:
        """Show a refusal by the rules on the field it names (else above the form)."""
        self.add_error(exc.field if exc.field in self.fields else None, exc.message)

    def call_kwargs(self) -> dict:
        """apicall_run's arguments from the cleaned data."""
        raise NotImplementedError


class RawCallForm(CallForm):
    method = forms.ChoiceField(choices=[(method, method) for method in rules.METHODS])
    url = forms.CharField(
        label="URL",
        required=False,  # the rules say what is missing, the same way for the REST API
        help_text="Relative to the API base: getPurchase or getPurchase?purchase_id=…",
        widget=forms.TextInput(attrs={"size": 80, "spellcheck": "false", "autocomplete": "off"}),
    )
    headers = forms.CharField(
        required=False,
        help_text="One Name: value a line. The API key is added by the server.",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80, "spellcheck": "false"}),
    )
    query = forms.CharField(
        label="Query string",
        required=False,
        help_text="name=value&… (or one name=value a line); added to the URL's own.",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80, "spellcheck": "false"}),
    )
    body = forms.CharField(
        required=False,
        help_text='name=value lines, or a JSON object such as {"buyer": {"email": "…"}}.',
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80, "spellcheck": "false"}),
    )
    field_order = ["connection", "method", "url", "headers", "query", "body", "confirm_write"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].initial = "POST"  # Digistore24 is an RPC API: POST for everything

    def call_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in ("connection", "method", "url", "headers", "query", "body", "confirm_write")
        }


@dataclass(frozen=True)
class Fieldset:
    """A group of the function form: the plain parameters, or one object parameter."""

    name: str  # "" for the plain parameters, else the object's name: "buyer"
    param: catalogue.Param | None
    fields: tuple[str, ...]

    @property
    def legend(self) -> str:
        return f"{self.name}[…]" if self.name else "Parameters"

    @property
    def required(self) -> bool:
        return bool(self.param and self.param.required)


def is_indexed(param: catalogue.Param) -> bool:
    """A list of objects (addons, files, tracking of updateDelivery), sent as name[0][field]."""
    return param.description.startswith("indexed list")


class FunctionCallForm(CallForm):
    """A form for one catalogue function: a field per parameter, named as sent (`purchase_id`,
    `buyer[email]`), so the form's data are the request's fields. Object parameters are field
    groups; one without listed members (placeholders) takes name=value lines; `extra` takes any
    parameter the catalogue does not list."""

    extra = forms.CharField(
        label="Other parameters",
        required=False,
        help_text="name=value lines for parameters not listed above (e.g. addons[1][product_id]).",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80, "spellcheck": "false"}),
    )

    def __init__(self, function: catalogue.Function, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.function = function
        self.params: dict[str, catalogue.Param] = {}  # field name -> parameter, in order
        self.fieldsets: list[Fieldset] = []
        plain = []
        for param in function.params:
            if param.type is not Type.OBJECT:
                plain.append(self._add(param.name, param, required=param.required))
                continue
            if not param.fields:  # free-form: placeholders, quantities, ...
                name = self._add(param.name, param, required=param.required)
                self.fieldsets.append(Fieldset(param.name, param, (name,)))
                continue
            prefix = f"{param.name}[0]" if is_indexed(param) else param.name
            # Members are enforced in clean(): required only when the object is sent at all.
            names = tuple(
                self._add(f"{prefix}[{member.name}]", member, required=False, marked=True)
                for member in param.fields
            )
            self.fieldsets.append(Fieldset(param.name, param, names))
        if plain:
            self.fieldsets.insert(0, Fieldset("", None, tuple(plain)))
        # The shared fields after the parameters, the connection first.
        self.order_fields(["connection", *self.params, "extra", "confirm_write"])
        if function.is_read:
            del self.fields["confirm_write"]

    def _add(self, name: str, param: catalogue.Param, *, required: bool, marked=False) -> str:
        field = field_for(param, required=required)
        field.label = name
        # Shown as required; enforced by Django (required) or by clean() (members).
        field.marked_required = required or (marked and param.required)
        self.fields[name] = field
        self.params[name] = param
        return name

    def grouped(self):
        """(fieldset, bound fields) for the template."""
        return [(fieldset, [self[name] for name in fieldset.fields]) for fieldset in self.fieldsets]

    def clean(self):
        cleaned = super().clean()
        for fieldset in self.fieldsets:
            if fieldset.param is None:
                continue  # the plain parameters: their own fields' rules
            if not fieldset.param.fields:  # free-form: read now, so a mistake shows here
                self._read_free_form(fieldset.name)
                continue
            given = [name for name in fieldset.fields if cleaned.get(name)]
            if fieldset.required and not given:
                self.add_error(
                    fieldset.fields[0], f"{fieldset.name} is required: fill in its fields."
                )
            if given or fieldset.required:
                for name in fieldset.fields:
                    if self.params[name].required and not cleaned.get(name):
                        self.add_error(name, f"Required when {fieldset.name} is sent.")
        return cleaned

    def clean_extra(self):
        return self._pairs(self.cleaned_data["extra"])

    def _read_free_form(self, name: str) -> None:
        if name not in self.cleaned_data:
            return
        try:
            pairs = self._pairs(self.cleaned_data[name])
        except forms.ValidationError as exc:
            self.add_error(name, exc)
        else:
            self.cleaned_data[name] = [(member_name(name, key), value) for key, value in pairs]

    def _pairs(self, text: str) -> rules.Pairs:
        """name=value lines (or a JSON object) read as the rules read a request body."""
        try:
            return rules.call_spec(
                method="POST", url=self.function.name, body=text, confirm_write=True
            ).body
        except rules.CallRefused as exc:
            raise forms.ValidationError(exc.message) from None

    def body(self) -> dict[str, str]:
        """The request's fields in the catalogue's order, the empty ones left out; a name given
        again under "Other parameters" is sent with that value."""
        pairs = []
        for name, param in self.params.items():
            value = self.cleaned_data.get(name)
            if param.type is Type.OBJECT:
                pairs.extend(value or ())
            elif value:
                pairs.append((name, value))
        pairs.extend(self.cleaned_data.get("extra") or ())
        return dict(pairs)

    def call_kwargs(self) -> dict:
        return {
            "connection": self.cleaned_data["connection"],
            "method": "POST",
            "url": self.function.name,
            "body": self.body(),
            "confirm_write": self.cleaned_data.get("confirm_write", False),
        }

    @classmethod
    def initial_from(cls, function: catalogue.Function, call: ApiCall) -> dict:
        """The form's initial data for a call that was made: each field from the parameter of
        its name, free-form objects as lines, the rest under "Other parameters"."""
        form = cls(function)
        initial, free, extra = {"connection": call.connection}, {}, []
        for name, value in sent_pairs(call):
            param = form.params.get(name)
            if param is not None and param.type is not Type.OBJECT:
                initial[name] = value
                continue
            owner, _, key = name.partition("[")
            key = key.removesuffix("]")
            owner_param = form.params.get(owner)
            if owner_param and owner_param.type is Type.OBJECT and key and "[" not in key:
                free.setdefault(owner, []).append((key, value))
            else:
                extra.append((name, value))
        initial.update({owner: rules.body_text(pairs) for owner, pairs in free.items()})
        if extra:
            initial["extra"] = rules.body_text(extra)
        return initial


def member_name(name: str, key: str) -> str:
    """A free-form object's member as sent: placeholders + seat -> placeholders[seat]; a JSON
    object's nested member (read as key[member]) -> placeholders[key][member]."""
    head, bracket, rest = key.partition("[")
    return f"{name}[{head}]{bracket}{rest}"


def sent_pairs(call: ApiCall) -> rules.Pairs:
    """The query and body fields a recorded call sent (read back by the rules)."""
    with suppress(rules.CallRefused):
        spec = rules.call_spec(
            method=call.method, url=call.url, body=call.request_body, confirm_write=True
        )
        return (*spec.query, *spec.body)
    return ()


def field_for(param: catalogue.Param, *, required: bool) -> forms.Field:
    """The form field for one parameter's type; every value is sent as text, as typed."""
    help_text = " — ".join(
        part
        for part in (param.description, DATE_HELP.get(param.type) or TYPE_HELP.get(param.type))
        if part
    )
    common = {"required": required, "help_text": help_text}
    text = {"spellcheck": "false", "autocomplete": "off"}
    if param.choices:
        choices = [("", "—"), *((choice, choice) for choice in param.choices)]
        return forms.ChoiceField(choices=choices, **common)
    match param.type:
        case Type.BOOLEAN:
            return forms.ChoiceField(choices=BOOLEAN_CHOICES, **common)
        case Type.INTEGER:
            return forms.CharField(
                validators=[WHOLE_NUMBER],
                widget=forms.TextInput(attrs={**text, "inputmode": "numeric"}),
                **common,
            )
        case Type.DECIMAL:
            return forms.CharField(
                validators=[DECIMAL_NUMBER],
                widget=forms.TextInput(attrs={**text, "inputmode": "decimal"}),
                **common,
            )
        case Type.DATE | Type.DATETIME:
            return forms.CharField(
                validators=[validate_ds24_date], widget=forms.TextInput(attrs=text), **common
            )
        case Type.URL:
            return forms.URLField(assume_scheme="https", **common)
        case Type.EMAIL:
            return forms.EmailField(**common)
        case Type.OBJECT:
            common["help_text"] = " — ".join(
                part for part in (param.description, FREE_FORM_HELP.format(name=param.name)) if part
            )
            return forms.CharField(
                widget=forms.Textarea(attrs={**text, "rows": 3, "cols": 60}), **common
            )
    return forms.CharField(widget=forms.TextInput(attrs={**text, "size": 40}), **common)
