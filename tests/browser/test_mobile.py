"""The dashboard on a phone (390 px wide): figures and charts fit the screen; nothing makes
the page scroll sideways."""

import pytest

from tests.browser.conftest import expect

PHONE = {"width": 390, "height": 844}


@pytest.mark.usefixtures("sales")
def test_the_dashboard_at_390_px(logged_in, shot):
    page = logged_in
    page.set_viewport_size(PHONE)
    page.goto("/admin/")
    figures = page.locator("#dashboard-figures")
    expect(figures).to_be_visible()
    expect(page.get_by_role("img", name="Revenue per day, EUR (live)")).to_be_visible()
    shot("dashboard")
    for element in (figures, *page.locator("figure.ds24-chart").all()):
        box = element.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls {overflow} px sideways"
