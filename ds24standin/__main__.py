"""Command line: `python -m ds24standin serve` runs the stand-in API; `send` posts IPNs.

python -m ds24standin serve [--port 8100] [--allow-local-ipn-urls]
python -m ds24standin send URL --passphrase P [--event on_payment] [--count 1] [--interval 1]
"""

import argparse
import sys
import time

import requests

from ds24standin.ipn import EVENTS, send_ipn
from ds24standin.server import DEMO_KEYS, StandIn


def serve(args) -> int:
    standin = StandIn(allow_local_ipn_urls=args.allow_local_ipn_urls).start(port=args.port)
    print(f"Digistore24 stand-in API at {standin.api_url}", flush=True)
    for key, permission in DEMO_KEYS.items():
        print(f"  {permission:9} key: {key}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        standin.stop()
    return 0


def send(args) -> int:
    failures = 0
    for n in range(args.count):
        if n:
            time.sleep(args.interval)
        try:
            response = send_ipn(args.url, args.event, args.passphrase)
        except requests.RequestException as exc:
            print(f"{args.event}: could not deliver: {exc}", file=sys.stderr)
            failures += 1
            continue
        print(f"{args.event}: HTTP {response.status_code} {response.text[:80]!r}")
        failures += not response.text.startswith("OK")
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ds24standin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the stand-in API")
    serve_parser.add_argument("--port", type=int, default=8100)
    serve_parser.add_argument(
        "--allow-local-ipn-urls",
        action="store_true",
        help="let ipnSetup register http:// and local URLs (Digistore24 refuses them)",
    )
    send_parser = commands.add_parser("send", help="post signed IPNs to a URL")
    send_parser.add_argument("url")
    send_parser.add_argument("--passphrase", required=True)
    send_parser.add_argument("--event", choices=EVENTS, default="on_payment")
    send_parser.add_argument("--count", type=int, default=1)
    send_parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    return serve(args) if args.command == "serve" else send(args)


if __name__ == "__main__":
    sys.exit(main())
