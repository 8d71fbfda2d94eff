from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone

from api.models import ApiToken
from ds24site.admin_tools import SafeChangeListMixin


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name", "writable"]


@admin.register(ApiToken)
class ApiTokenAdmin(SafeChangeListMixin, admin.ModelAdmin):
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

    def response_add(self, request, obj, post_url_continue=None):
        """Show the new token on a page of its own, once (not through the messages
        framework, whose cookie would carry it)."""
        context = {
            **self.admin_site.each_context(request),
            "title": "API token created",
            "token": request._issued_token,
            "api_token": obj,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/api/apitoken/issued.html", context)

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        count = queryset.filter(revoked__isnull=True).update(revoked=timezone.now())
        self.message_user(request, f"Revoked {count} token(s); they stop working at once.",
                          messages.WARNING)  # fmt: skip
