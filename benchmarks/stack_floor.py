"""The floor of the connector's stack: the libraries it is built on, serving a relay,
for `bench_start.py` to time beside the connector. What it costs to start and to hold
is what any gateway on this stack pays before a line of the connector's own runs.

    python benchmarks/stack_floor.py --upstream http://127.0.0.1:9000 --port 8002 --data DIR

As the connector serves: uvicorn with httptools and uvloop, the cycle collector off
until the start-up heap is frozen. What it loads and uses once each: pydantic-settings
for its settings, FastAPI for its one route, SQLModel with one table in a SQLite file
(made at start, one row inserted per request), prometheus_client for a counter, orjson
and platformdirs. Each POST is relayed to the same path at the upstream through the
connector's own HTTP/1.1 client (`connector/providers/h1.py`, which imports only
httptools), so the upstream call costs what it costs the connector.
"""

from __future__ import annotations

import gc

gc.disable()  # as the connector's `__main__`: on again once the heap is frozen

import argparse  # noqa: E402
import sys  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import orjson  # noqa: E402
import platformdirs  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI, Request, Response  # noqa: E402
from prometheus_client import Counter  # noqa: E402
from pydantic_settings import BaseSettings  # noqa: E402
from sqlmodel import Field, Session, SQLModel, create_engine  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from connector.providers.h1 import Client, Timeouts  # noqa: E402


class FloorSettings(BaseSettings):
    upstream: str
    data: Path
    log_level: str = "warning"


class Row(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    path: str
    status: int
    size: int


RELAYED = Counter("floor_requests", "Requests relayed")
_TIMEOUTS = Timeouts(pool=10.0, connect=10.0, read=60.0)


def build(settings: FloorSettings) -> FastAPI:
    engine = create_engine(f"sqlite:///{settings.data / 'floor.db'}")
    client = Client(keep=64, expiry=30.0, limit=1000, user_agent="stack-floor")
    upstream = settings.upstream.rstrip("/")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        SQLModel.metadata.create_all(engine)
        orjson.dumps({"cache": platformdirs.user_cache_dir("stack-floor")})
        gc.freeze()
        gc.enable()
        yield
        client.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/{path:path}")
    async def relay(path: str, request: Request) -> Response:
        body = await request.body()
        headers = {
            k: v for k, v in request.headers.items() if k in ("content-type", "authorization")
        }
        answer = await client.request("POST", f"{upstream}/{path}", body, headers, _TIMEOUTS, 2)
        data = await answer.read()
        answer.release()
        with Session(engine) as session:
            session.add(Row(path=path, status=answer.status, size=len(data)))
            session.commit()
        RELAYED.inc()
        kind = answer.headers.get("content-type", "application/json")
        return Response(data, status_code=answer.status, media_type=kind)

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="base URL, e.g. http://127.0.0.1:9000")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True, help="directory for its database")
    args = parser.parse_args(argv)
    settings = FloorSettings(upstream=args.upstream, data=args.data)
    uvicorn.run(
        build(settings),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level=settings.log_level,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
