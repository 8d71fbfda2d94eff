import pytest


@pytest.mark.django_db
def test_healthy(client):
    response = client.get("/healthz", HTTP_HOST="10.0.0.5")  # LBs probe by IP: no host check
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db(transaction=True)
def test_database_down_is_503_without_details(client, broken_database):
    broken_database()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content == b"unavailable\n"


@pytest.mark.django_db
def test_needs_no_login(client):
    assert client.get("/admin/").status_code == 302  # everything else does
    assert client.get("/healthz").status_code == 200
