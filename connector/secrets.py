"""The OpenAI key: in the OS keyring when the machine has one, else in memory.
Beside it, a second entry: the key programs send when "Programs need a key" is on
(made here, kept in the keyring so it stays the same across launches).

Order of use: a key set at runtime (keyring or memory), then `OPENAI_API_KEY_FILE`,
then `OPENAI_API_KEY`. The key is read once and cached, so the hot path never waits
on the keyring (a D-Bus round trip on Linux). It is never written to disk by us.
"""

from __future__ import annotations

import logging
import secrets as _random
import threading
from typing import TYPE_CHECKING

from connector.config import Settings
from connector.schemas import ApiKeyStatus, KeyStorage

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

# keyring is imported where a keyring is in use (here and in connector.endpoint_keys):
# with CONNECTOR_KEY_STORE=memory (the container image's) it and its backends never load.

SERVICE = "ai-connector"
USERNAME = "openai_api_key"
PROGRAM_KEY_USERNAME = "program_key"
PROGRAM_KEY_PREFIX = "aic-"

log = logging.getLogger(__name__)


def usable_keyring() -> KeyringBackend | None:
    """The OS keyring backend, or None where there is only a fail/null backend."""
    import keyring

    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration counts as no keyring
        return None
    module = type(backend).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return None
    try:
        if float(backend.priority) <= 0:
            return None
    except Exception:
        return None
    return backend


def hint(key: str) -> str:
    return f"…{key[-4:]}" if len(key) >= 8 else "…"


class KeyStore:
    def __init__(self, settings: Settings) -> None:
        self._lock = threading.Lock()
        self._env_key = (
            settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        )
        self._file_key: str | None = None
        if settings.openai_api_key_file:
            try:
                self._file_key = settings.openai_api_key_file.read_text().strip() or None
            except OSError as exc:
                log.error("Cannot read OPENAI_API_KEY_FILE: %s", exc.strerror)
        self._backend = None if settings.key_store == "memory" else usable_keyring()
        if settings.key_store == "keyring" and self._backend is None:
            raise RuntimeError("CONNECTOR_KEY_STORE=keyring but no OS keyring is available")
        self._runtime_key: str | None = None
        self._runtime_storage: KeyStorage = "none"
        # After an explicit clear, the env/file key stays unused until the next start:
        # "clear" in the UI must mean no key is sent anywhere.
        self._cleared = False
        self._program_key: str | None = None
        self._program_storage: KeyStorage = "none"

    def load(self) -> None:
        """Read a key saved in the keyring by an earlier run (blocking: call off-loop)."""
        if self._backend is None:
            return
        import keyring.errors

        try:
            saved = self._backend.get_password(SERVICE, USERNAME)
            program = self._backend.get_password(SERVICE, PROGRAM_KEY_USERNAME)
        except keyring.errors.KeyringError as exc:
            log.warning("The OS keyring could not be read (%s); keys stay in memory.", exc)
            self._backend = None
            return
        with self._lock:
            if saved:
                self._runtime_key, self._runtime_storage = saved, "keyring"
            if program:
                self._program_key, self._program_storage = program, "keyring"

    @property
    def keyring_available(self) -> bool:
        return self._backend is not None

    def get(self) -> str | None:
        if self._runtime_key or self._cleared:
            return self._runtime_key
        return self._file_key or self._env_key

    def secrets(self) -> list[str]:
        """Every key value known, for scrubbing logs and error bodies."""
        known = (self._runtime_key, self._file_key, self._env_key, self._program_key)
        return [k for k in known if k]

    def status(self) -> ApiKeyStatus:
        if self._runtime_key:
            return ApiKeyStatus(
                set=True, hint=hint(self._runtime_key), storage=self._runtime_storage
            )
        if self._cleared:
            return ApiKeyStatus(set=False, hint=None, storage="none")
        if self._file_key:
            return ApiKeyStatus(set=True, hint=hint(self._file_key), storage="file")
        if self._env_key:
            return ApiKeyStatus(set=True, hint=hint(self._env_key), storage="env")
        return ApiKeyStatus(set=False, hint=None, storage="none")

    def set(self, key: str) -> None:
        """Save a key set at runtime (blocking: call off-loop)."""
        storage: KeyStorage = "memory"
        if self._backend is not None:
            import keyring.errors

            try:
                self._backend.set_password(SERVICE, USERNAME, key)
                storage = "keyring"
            except keyring.errors.KeyringError as exc:
                log.warning("The OS keyring refused the key (%s); it stays in memory.", exc)
        with self._lock:
            self._runtime_key, self._runtime_storage = key, storage
            self._cleared = False

    def clear(self) -> None:
        """Forget every key until one is set again (or the next start)."""
        if self._backend is not None:
            import keyring.errors

            try:
                self._backend.delete_password(SERVICE, USERNAME)
            except keyring.errors.PasswordDeleteError:
                pass
            except keyring.errors.KeyringError as exc:
                log.warning("The OS keyring could not delete the key (%s).", exc)
        with self._lock:
            self._runtime_key, self._runtime_storage = None, "none"
            self._cleared = True

    # The key for programs (the desktop app's model API, when "Programs need a key").

    def program_key(self) -> str | None:
        return self._program_key

    def program_key_status(self) -> ApiKeyStatus:
        key = self._program_key
        return ApiKeyStatus(
            set=key is not None,
            hint=hint(key) if key else None,
            storage=self._program_storage if key else "none",
        )

    def ensure_program_key(self) -> str:
        """The key for programs, made now if there is none yet (blocking: call off-loop)."""
        return self._program_key or self.rotate_program_key()

    def rotate_program_key(self) -> str:
        """A new key for programs; the old one stops working (blocking: call off-loop)."""
        key = PROGRAM_KEY_PREFIX + _random.token_urlsafe(32)
        storage: KeyStorage = "memory"
        if self._backend is not None:
            import keyring.errors

            try:
                self._backend.set_password(SERVICE, PROGRAM_KEY_USERNAME, key)
                storage = "keyring"
            except keyring.errors.KeyringError as exc:
                log.warning("The OS keyring refused the programs' key (%s); memory only.", exc)
        with self._lock:
            self._program_key, self._program_storage = key, storage
        return key
