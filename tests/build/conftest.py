"""The build tests run the frozen app in the same isolated environment (and on the
same Xvfb display) as the desktop tests."""

from tests.desktop.conftest import desktop_env, xvfb

__all__ = ["desktop_env", "xvfb"]
