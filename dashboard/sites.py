"""The admin site: Django's, with the dashboard on its index page and Django's own
"Authentication and Authorization" below the product's sections."""

from django.contrib import admin

from dashboard import charts
from dashboard.figures import dashboard_figures
from dashboard.health import dashboard_health
from ds24site.admin_tools import SafeChangeListMixin
from webhooks import ipn

DJANGO_APPS = ("auth",)


def money(value) -> str:
    return f"{value:,.2f}"


def figure_charts(figures) -> list[charts.Chart]:
    days = [day.strftime("%m-%d") for day, _totals in figures.events_per_day]
    result = [
        charts.columns_chart(
            title=f"Revenue per day, {currency or 'no currency'} (live)",
            desc=f"Payments minus refunds and chargebacks in {currency} for each of the last "
            f"{len(days)} days.",
            columns=[(day.strftime("%m-%d"), [(0, amount)]) for day, amount in per_day],
            value_text=money,
        )
        for currency, per_day in sorted(figures.revenue_per_day.items())
    ]
    seen = {event for _day, totals in figures.events_per_day for event in totals}
    # Registry order, then names the registry does not know.
    names = [name for name in ipn.EVENT_TYPES if name in seen] + sorted(seen - set(ipn.EVENT_TYPES))
    result.append(
        charts.columns_chart(
            title="Events per day by type",
            desc=f"Events received on each of the last {len(days)} days, stacked by type.",
            columns=[
                (day, sorted((names.index(event), n) for event, n in totals.items() if n))
                for day, (_d, totals) in zip(days, figures.events_per_day, strict=True)
            ],
            series_names=[
                ipn.EVENT_TYPES[name].label if name in ipn.EVENT_TYPES else name for name in names
            ],
        )
    )
    if figures.top_products:
        result.append(
            charts.rows_chart(
                title=f"Top products by revenue, last {len(days)} days (live)",
                desc="Revenue per product and currency, largest first.",
                rows=[
                    (
                        product["name"] or product["product_id"],
                        [(0, product["revenue"])],
                        f"{money(product['revenue'])} {product['currency']}",
                    )
                    for product in figures.top_products
                ],
                value_text=money,
            )
        )
    return result


def delivery_chart(outcomes) -> charts.Chart | None:
    if not outcomes:
        return None
    return charts.rows_chart(
        title="Delivery success per destination, last 7 days",
        desc="Deliveries to each destination created in the last 7 days, by outcome.",
        rows=[
            (
                row["name"],
                [(0, row["succeeded"]), (1, row["failed"]), (2, row["pending"])],
                f"{row['succeeded']} / {row['succeeded'] + row['failed']} succeeded",
            )
            for row in outcomes
        ],
        series_names=["succeeded", "failed", "pending"],
    )


class DashboardAdminSite(admin.AdminSite):
    index_title = "Digistore24 dashboard"
    index_template = "admin/index.html"

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every list on this site, Django's and other apps' (users, tasks, axes) included,
        takes only its filters' parameters: an admin registered without SafeChangeListMixin
        gets it here, whatever the order in which apps register."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SafeChangeListMixin):
            admin_class = type(admin_class.__name__, (SafeChangeListMixin, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        return sorted(apps, key=lambda app: app["app_label"] in DJANGO_APPS)

    def index(self, request, extra_context=None):
        user = request.user
        context = {}
        # Figures and charts are read from the events: only for who may view them.
        if user.has_perm("webhooks.view_event"):
            figures = dashboard_figures()
            context["figures"] = figures
            context["charts"] = figure_charts(figures)
        health, outcomes = dashboard_health(user)
        context["health"] = health
        context["delivery_chart"] = delivery_chart(outcomes)
        shown = [*context.get("charts", []), context["delivery_chart"]]
        for number, chart in enumerate(filter(None, shown), 1):
            chart.id = f"ds24-chart-{number}"
        return super().index(request, {**context, **(extra_context or {})})
