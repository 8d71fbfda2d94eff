"""The local .env that `make run` / `make demo` write: SITE_URL follows the port they are given
(the test IPN and the demo post to SITE_URL), unless it was set to something else on purpose."""

import pytest

from ds24site import envfile


@pytest.fixture
def env_path(tmp_path, monkeypatch):
    path = tmp_path / ".env"
    monkeypatch.setattr(envfile, "ENV_PATH", path)
    return path


def site_url(path) -> str:
    [line] = [line for line in path.read_text().splitlines() if line.startswith("SITE_URL=")]
    return line.removeprefix("SITE_URL=")


def test_first_run_writes_secrets_and_the_port(env_path):
    envfile.main(["--port", "8000"])
    text = env_path.read_text()
    assert site_url(env_path) == "http://127.0.0.1:8000"
    assert "SECRET_KEY=" in text and "FIELD_ENCRYPTION_KEY=" in text


def test_a_later_run_on_another_port_moves_the_local_site_url(env_path):
    envfile.main(["--port", "8000"])
    secret = [line for line in env_path.read_text().splitlines() if "SECRET_KEY" in line]
    envfile.main(["--port", "9000"])
    assert site_url(env_path) == "http://127.0.0.1:9000"
    assert secret[0] in env_path.read_text()  # nothing else changes
    envfile.main(["--port", "8000"])
    assert site_url(env_path) == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    "explicit",
    ["https://ds24.example.com", "http://192.168.1.5:8000", "https://abc.trycloudflare.com"],
)
def test_a_site_url_set_on_purpose_is_left_alone(env_path, explicit):
    env_path.write_text(f"SITE_URL={explicit}\nSECRET_KEY=x\nFIELD_ENCRYPTION_KEY=y\n")
    envfile.main(["--port", "9000"])
    assert site_url(env_path) == explicit


def test_localhost_keeps_its_name(env_path):
    env_path.write_text("SITE_URL=http://localhost:8000/\n")
    envfile.main(["--port", "9001"])
    assert site_url(env_path) == "http://localhost:9001"
