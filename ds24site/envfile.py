"""Write a local `.env` for `make run`: generated secrets, never overwriting what is there.

    python -m ds24site.envfile [--port 8000]

Adds SECRET_KEY and FIELD_ENCRYPTION_KEY when the file lacks them, and local-serving defaults
when the file is new. A SITE_URL on this machine's loopback (what this writes) follows
`--port`, so `make run PORT=9000` is served and addressed on the same port; any other SITE_URL
was set on purpose and is left alone. Kept out of the settings module because settings need
these values to load at all.
"""

import argparse
import re
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

ENV_PATH = Path(__file__).resolve().parent.parent / ".env"
# A local SITE_URL line as written here (or by hand, to the same effect): scheme, host, port.
LOCAL_SITE_URL = re.compile(
    r"^(?P<head>(?:export )?SITE_URL=http://(?:127\.0\.0\.1|localhost)):(?P<port>\d+)/?$",
    re.MULTILINE,
)


def existing_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            names.add(line.split("=", 1)[0].removeprefix("export ").strip())
    return names


def follow_port(text: str, port: int) -> str:
    """`text` with a loopback SITE_URL moved to `port`: the test IPN and the demo post to
    SITE_URL, which must be the server this run starts."""
    return LOCAL_SITE_URL.sub(lambda m: f"{m['head']}:{port}", text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    text = ENV_PATH.read_text() if ENV_PATH.exists() else ""
    followed = follow_port(text, args.port)
    if followed != text:
        text = followed
        ENV_PATH.write_text(text)
        print(f"SITE_URL in {ENV_PATH} now follows the port: {args.port}")
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
