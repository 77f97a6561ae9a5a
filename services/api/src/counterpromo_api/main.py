"""``counterpromo-api``: serve the API with uvicorn (port 3000)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import uvicorn
from counterpromo_core.heap import freeze_startup_heap
from fastapi import FastAPI

from counterpromo_api.logs import configure_logging, log_config
from counterpromo_api.settings import ApiSettings


def app_factory() -> FastAPI:
    """What each uvicorn worker process calls to build its app."""
    from counterpromo_api.app import create_app  # noqa: PLC0415 - after logging is set up

    configure_logging(ApiSettings().log_level)
    app = create_app()
    freeze_startup_heap()
    return app


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="counterpromo-api",
        description="Serve the Counter Promo HTTP API. Configuration comes from the "
        "environment (COUNTERPROMO_ENV, DATABASE_URL, ...) and SSM/Secrets Manager; "
        "FORWARDED_ALLOW_IPS names the proxies whose X-Forwarded-* headers are trusted.",
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to bind (default 0.0.0.0)")  # noqa: S104
    parser.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1; one per vCPU)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    settings = ApiSettings()
    configure_logging(settings.log_level)
    uvicorn.run(
        "counterpromo_api.main:app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # The app applies X-Forwarded-* itself, from FORWARDED_ALLOW_IPS only.
        proxy_headers=False,
        access_log=False,
        server_header=False,
        log_config=log_config(),
        timeout_graceful_shutdown=25,
    )


if __name__ == "__main__":
    main()
