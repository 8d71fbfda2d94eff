from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"
    default = True

    def ready(self):
        # webhooks stores events and does not call the dashboard; the dashboard hooks its daily
        # roll-up into the storing transaction instead. (webhooks only reads the roll-up's
        # table, for each webhook's activity: Webhook.objects.with_activity.)
        from dashboard import receivers  # noqa: F401


class DashboardAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the dashboard's site as `admin.site`: its index shows the
    figures, charts and health above the app list."""

    default = False  # DashboardConfig is the dashboard app's own
    default_site = "dashboard.sites.DashboardAdminSite"
