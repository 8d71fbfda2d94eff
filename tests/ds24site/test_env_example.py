"""Every environment variable the code reads is documented in .env.example, and every variable
documented there is read somewhere (so the file cannot drift either way)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READERS = [
    "ds24site/settings.py",
    "gunicorn.conf.py",
    *map(str, ROOT.glob("*/management/commands/*.py")),
]


def names_in_example() -> set[str]:
    names = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            names.add(line.split("=", 1)[0].strip())
    return names


def names_read(path: Path) -> set[str]:
    """Literal names passed to env(...), env.<cast>(...), os.environ.get/[...], os.getenv."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            target = ast.unparse(func)
            if (
                target == "env"
                or target.startswith("env.")
                or target in ("os.environ.get", "os.getenv", "os.environ.setdefault")
            ):
                names.add(node.args[0].value)
        elif (
            isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "os.environ"
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(node.slice.value)
    return names


def all_names_read() -> set[str]:
    names = set()
    for reader in READERS:
        names |= names_read(ROOT / reader)
    names.discard("DJANGO_SETTINGS_MODULE")  # Django's own, set by manage.py and wsgi.py
    return names


def test_every_variable_read_is_in_env_example():
    missing = all_names_read() - names_in_example()
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_every_variable_in_env_example_is_read():
    stale = names_in_example() - all_names_read()
    assert not stale, f"not read anywhere, remove from .env.example: {sorted(stale)}"


def test_the_scan_finds_what_settings_read():
    # Guards the guard: if the AST scan broke, both tests above would pass vacuously.
    assert {"SECRET_KEY", "DATABASE_URL", "FIELD_ENCRYPTION_KEY", "PORT"} <= all_names_read()
