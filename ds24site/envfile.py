"""Write a local `.env` for `make run`: generated secrets, never overwriting what is there.

    python -m ds24site.envfile [--port 8000]

Adds SECRET_KEY and FIELD_ENCRYPTION_KEY when the file lacks them, and local-serving defaults
when the file is new. Kept out of the settings module because settings need these values to
load at all.
"""

import argparse
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

ENV_PATH = Path(__file__).resolve().parent.parent / ".env"


def existing_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            names.add(line.split("=", 1)[0].removeprefix("export ").strip())
    return names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    text = ENV_PATH.read_text() if ENV_PATH.exists() else ""
    names = existing_names(text)
    additions = []
    if not text:
        additions += [
            "# Written by `make run` for local use; see .env.example for every variable.",
            f"SITE_URL=http://127.0.0.1:{args.port}",
            "ALLOWED_HOSTS=127.0.0.1,localhost",
        ]
    if "SECRET_KEY" not in names:
        additions.append(f"SECRET_KEY={secrets.token_urlsafe(50)}")
    if "FIELD_ENCRYPTION_KEY" not in names:
        additions.append(f"FIELD_ENCRYPTION_KEY={Fernet.generate_key().decode()}")
    if not additions:
        return
    if text and not text.endswith("\n"):
        text += "\n"
    ENV_PATH.write_text(text + "\n".join(additions) + "\n")
    ENV_PATH.chmod(0o600)
    print(f"Wrote {', '.join(a.split('=')[0] for a in additions if '=' in a)} to {ENV_PATH}")


if __name__ == "__main__":
    main()
