"""`connector serve`: the headless server."""

from __future__ import annotations

import argparse
import logging
import sys

from connector import __version__, serving
from connector.config import Settings


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stdout,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        force=True,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="connector", description="AI Connector server")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve the API and UI (the default)")
    for target in (parser, serve):
        target.add_argument("--host", help="address to listen on (env HOST, default 127.0.0.1)")
        target.add_argument("--port", type=int, help="port (env PORT, default 8000)")
        target.add_argument("--log-level", help="debug, info, warning, error")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    overrides = {
        key: value
        for key, value in {
            "host": args.host,
            "port": args.port,
            "log_level": args.log_level,
        }.items()
        if value is not None
    }
    settings = Settings(**overrides)
    configure_logging(settings.log_level)
    from connector.main import create_app  # after logging, so start-up lines are formatted

    serving.run(
        create_app(settings, settle_heap=True),
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level.lower(),
        # X-Forwarded-For is trusted only from a proxy on this machine (uvicorn's default
        # forwarded_allow_ips), so remote clients behind it still count as remote.
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
