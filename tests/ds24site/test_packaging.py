"""`pip install .` installs the project as pyproject.toml describes it: the wheel holds every
package of the checkout, each app with its migrations, and the files inside them."""

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
# Packages in the checkout that are run from it and never installed.
NOT_SHIPPED = {"tests", "bench"}
CACHES = ("__pycache__", "*.pyc")

# pip builds with this venv's setuptools (no network); setuptools needs a bdist_wheel command,
# its own from 70.1 or the wheel package's. Python 3.12+ venvs come without setuptools.
pytestmark = pytest.mark.skipif(
    not (
        importlib.util.find_spec("pip")
        and importlib.util.find_spec("setuptools")
        and entry_points(group="distutils.commands", name="bdist_wheel")
    ),
    reason="building a wheel offline needs pip, setuptools and a bdist_wheel command "
    "(setuptools>=70.1 or the wheel package) in this venv",
)

# The project's own apps: in the checkout, but not in the virtualenv that `make` puts there too.
LOCAL_APPS = [
    app
    for app in apps.get_app_configs()
    if Path(app.path).is_relative_to(ROOT) and not Path(app.path).is_relative_to(ROOT / ".venv")
]


def shipped_packages() -> list[Path]:
    return sorted(
        path.parent
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_SHIPPED and not path.parent.name.startswith(".")
    )


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> set[str]:
    """The names in a wheel built from the working tree."""
    tmp = tmp_path_factory.mktemp("packaging")
    # Built from a copy because setuptools writes build/ and *.egg-info into the source tree.
    source = tmp / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", ".env", "var", "build", "*.egg-info", ".*_cache", *CACHES
        ),
    )
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    built = subprocess.run(
        [*pip_wheel, "--quiet", "--wheel-dir", str(tmp / "wheel"), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = (tmp / "wheel").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_every_file_of_every_package_is_in_the_wheel(wheel_files):
    expected = {
        path.relative_to(ROOT).as_posix()
        for package in shipped_packages()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    missing = sorted(expected - wheel_files)
    assert not missing, (
        "missing from the wheel; list the package in [tool.setuptools.packages.find] in "
        f"pyproject.toml, or its data files in [tool.setuptools.package-data]: {missing}"
    )


@pytest.mark.parametrize("app", LOCAL_APPS, ids=lambda app: app.label)
def test_each_app_is_in_the_wheel_with_its_migrations(wheel_files, app):
    package = Path(app.path)
    expected = {
        path.relative_to(ROOT).as_posix()
        for path in [package / "__init__.py", package / "apps.py", *package.glob("migrations/*.py")]
    }
    missing = sorted(expected - wheel_files)
    assert not missing, f"list {app.name} in pyproject.toml; missing: {missing}"


def test_the_wheel_holds_no_tests_or_benchmarks(wheel_files):
    top_level = {name.split("/")[0] for name in wheel_files}
    assert not top_level & NOT_SHIPPED
