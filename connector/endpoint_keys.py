"""Each endpoint's key: one OS keyring entry per endpoint (`endpoint:NAME` under the
service `ai-connector`), write-only as the OpenAI key is.

The seed's `openai` endpoint keeps the key store's own entry and order of use
(`connector.secrets.KeyStore`: runtime key, OPENAI_API_KEY_FILE, OPENAI_API_KEY), so an
existing installation keeps its key. Other endpoints use, in order: a key set at runtime
(keyring, else memory), then the key their configuration gave (CONNECTOR_ENDPOINTS).
Keys are read once at start and cached: the hot path never waits on the keyring.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from connector.providers.endpoints import SEED_OPENAI
from connector.schemas import ApiKeyStatus, KeyStorage
from connector.secrets import SERVICE, KeyStore, hint, usable_keyring

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)


def entry_name(endpoint: str) -> str:
    return f"endpoint:{endpoint}"


class EndpointKeys:
    def __init__(self, store: KeyStore, legacy: str = SEED_OPENAI) -> None:
        self._store = store
        self._legacy = legacy
        self._lock = threading.Lock()
        self._runtime: dict[str, tuple[str, KeyStorage]] = {}
        self._configured: dict[str, str] = {}
        self._cleared: set[str] = set()
        self._backend: KeyringBackend | None = None

    def _keyring(self) -> KeyringBackend | None:
        if not self._store.keyring_available:
            return None
        if self._backend is None:
            self._backend = usable_keyring()
        return self._backend

    def load(self, names: list[str], configured: dict[str, str]) -> None:
        """Read the saved keys of these endpoints (blocking: call off-loop)."""
        with self._lock:
            self._configured = dict(configured)
        backend = self._keyring()
        if backend is None:
            return
        import keyring.errors  # only where a keyring is in use (see connector.secrets)

        for name in names:
            if name == self._legacy:
                continue
            try:
                saved = backend.get_password(SERVICE, entry_name(name))
            except keyring.errors.KeyringError as exc:
                log.warning("The OS keyring could not be read (%s); keys stay in memory.", exc)
                return
            if saved:
                with self._lock:
                    self._runtime[name] = (saved, "keyring")

    def getter(self, name: str) -> Callable[[], str | None]:
        if name == self._legacy:
            return self._store.get
        return lambda: self.get(name)

    def get(self, name: str) -> str | None:
        if name == self._legacy:
            return self._store.get()
        runtime = self._runtime.get(name)
        if runtime is not None:
            return runtime[0]
        if name in self._cleared:
            return None
        return self._configured.get(name)

    def status(self, name: str) -> ApiKeyStatus:
        if name == self._legacy:
            return self._store.status()
        runtime = self._runtime.get(name)
        if runtime is not None:
            return ApiKeyStatus(set=True, hint=hint(runtime[0]), storage=runtime[1])
        key = None if name in self._cleared else self._configured.get(name)
        if key:
            return ApiKeyStatus(set=True, hint=hint(key), storage="env")
        return ApiKeyStatus(set=False, hint=None, storage="none")

    def set(self, name: str, key: str) -> None:
        """Save an endpoint's key (blocking: call off-loop)."""
        if name == self._legacy:
            self._store.set(key)
            return
        storage: KeyStorage = "memory"
        backend = self._keyring()
        if backend is not None:
            import keyring.errors

            try:
                backend.set_password(SERVICE, entry_name(name), key)
                storage = "keyring"
            except keyring.errors.KeyringError as exc:
                log.warning("The OS keyring refused the key (%s); it stays in memory.", exc)
        with self._lock:
            self._runtime[name] = (key, storage)
            self._cleared.discard(name)

    def clear(self, name: str) -> None:
        """Forget an endpoint's key (blocking: call off-loop)."""
        if name == self._legacy:
            self._store.clear()
            return
        backend = self._keyring()
        if backend is not None:
            import keyring.errors

            try:
                backend.delete_password(SERVICE, entry_name(name))
            except keyring.errors.PasswordDeleteError:
                pass
            except keyring.errors.KeyringError as exc:
                log.warning("The OS keyring could not delete the key (%s).", exc)
        with self._lock:
            self._runtime.pop(name, None)
            self._cleared.add(name)

    def secrets(self) -> list[str]:
        """Every endpoint key known, for scrubbing logs and error bodies."""
        with self._lock:
            known = [key for key, _ in self._runtime.values()]
            known.extend(self._configured.values())
        return [k for k in known if k]
