"""Start-up loads only what serving needs: the rest loads after it, or where it is used."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("database", ["new", "at head"])
def test_a_start_leaves_out_what_serving_does_not_need(tmp_path: Path, database: str) -> None:
    """What the first start (a new database) and every later one load before they
    serve: no Alembic, and neither the price tables nor the JSON Schema validator (they
    load after start-up); with keys in memory, no keyring."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        from connector.config import Settings
        from connector.db import make_engine, migrate
        from connector.main import create_app
        from connector.services import container

        settings = Settings(key_store="memory", ollama_base_url="http://127.0.0.1:9")
        if sys.argv[1] == "at head":
            engine = make_engine(settings.resolved_database_url)
            migrate(engine)
            engine.dispose()
            for name in [m for m in sys.modules if m.split(".")[0] == "alembic"]:
                del sys.modules[name]
        # What loads after start-up, in its thread, is not what this test is about.
        container._warm_up = lambda *args: None
        app = create_app(settings)

        async def main():
            async with app.router.lifespan_context(app):
                wanted = ("alembic", "genai_prices", "jsonschema", "keyring")
                print(",".join(m for m in wanted if m in sys.modules))

        asyncio.run(main())
        """
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "CONNECTOR_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script, database],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
    assert (tmp_path / "connector.db").is_file()


def test_the_collector_is_on_once_the_heap_is_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m connector` and `python -m desktop` start with the cycle collector off;
    the warm-up after start-up turns it on, even when loading the prices failed."""
    from connector.services import container

    def fail(_model: str) -> None:
        raise RuntimeError("no prices")

    monkeypatch.setattr(container.pricing, "warm_up", fail)
    was_on = gc.isenabled()
    try:
        gc.disable()
        with pytest.raises(RuntimeError):
            container._warm_up("gpt-4o-mini", False)
        assert not gc.isenabled()  # an app embedded elsewhere: its heap is not ours
        with pytest.raises(RuntimeError):
            container._warm_up("gpt-4o-mini", True)
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        if was_on:
            gc.enable()
        else:
            gc.disable()
