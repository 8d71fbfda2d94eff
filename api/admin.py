from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from ds24site.admin_tools import ObjectActionsMixin, SafeChangeListMixin

# The session key under which a new token waits for the one page that shows it.
ISSUED_SESSION_KEY = "api_issued_token"


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name", "writable"]


@admin.register(ApiToken)
class ApiTokenAdmin(SafeChangeListMixin, ObjectActionsMixin, admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ["name", "user", "prefix", "writable", "created", "last_used", "revoked"]
    list_filter = ["writable", "user"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    readonly_fields = ["prefix", "created", "last_used", "revoked"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj:  # an issued token keeps its owner: its secret was handed out for that user
            fields.append("user")
        if not request.user.is_superuser:
            fields.append("writable")
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A token carries its user's permissions: only superusers issue them for others.
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            if not request.user.is_superuser and obj.user_id != request.user.pk:
                raise PermissionDenied
            request._issued_token = obj.issue()
        super().save_model(request, obj, form, change)

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk, **super().get_changeform_initial_data(request)}

    def response_add(self, request, obj, post_url_continue=None):
        """Post/redirect/get: the new token waits in the server-side session (not in the
        messages framework, whose cookie would carry it) for the page that shows it once, so
        reloading that page cannot create another token."""
        request.session[ISSUED_SESSION_KEY] = {"pk": obj.pk, "token": request._issued_token}
        return redirect(reverse("admin:api_apitoken_issued", args=[obj.pk]))

    def get_urls(self):
        return [*self.object_urls(("issued", "issued", self.issued_view)), *super().get_urls()]

    def issued_view(self, request, object_id):
        # Only the session that created the token holds it: that is the check that matters.
        api_token = self.get_object(request, object_id)
        if api_token is None:
            raise Http404("No such API token")
        issued = request.session.get(ISSUED_SESSION_KEY)
        if not issued or issued["pk"] != api_token.pk:
            self.message_user(
                request,
                "A token is shown only once, right after it is created. If it was not copied, "
                "revoke it and create another.",
                messages.WARNING,
            )
            return redirect(reverse("admin:api_apitoken_change", args=[api_token.pk]))
        del request.session[ISSUED_SESSION_KEY]
        context = {
            **self.admin_site.each_context(request),
            "title": "API token created",
            "token": issued["token"],
            "api_token": api_token,
            "opts": self.opts,
        }
        # admin_view marks it no-store: the browser keeps no copy either.
        return TemplateResponse(request, "admin/api/apitoken/issued.html", context)

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        count = queryset.filter(revoked__isnull=True).update(revoked=timezone.now())
        self.message_user(request, f"Revoked {count} token(s); they stop working at once.",
                          messages.WARNING)  # fmt: skip
