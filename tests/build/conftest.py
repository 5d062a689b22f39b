"""The build tests run the frozen app in the same isolated environment as the
desktop tests."""

from tests.desktop.conftest import desktop_env

__all__ = ["desktop_env"]
