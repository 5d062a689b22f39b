# AI Connector, headless: the API and the web UI in one slim, non-root image.
#   docker build -t ai-connector .
#   docker run --rm -p 8000:8000 -e OPENAI_API_KEY=... \
#     -e OLLAMA_BASE_URL=http://host.docker.internal:11434 ai-connector
# Operator guide: docs/docker.md.

# --- 1. The web UI: Vite writes the production build to ../connector/static. ---
FROM node:20-bookworm-slim AS spa
WORKDIR /src/frontend
# The lockfile first, so the npm layer is reused while only sources change.
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# --- 2. The Python package as a wheel, installed with its base dependencies only
# (no GUI extras) into a virtualenv that the runtime stage copies whole. ---
FROM python:3.11-slim AS wheel
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY connector/ connector/
COPY desktop/ desktop/
COPY --from=spa /src/connector/static/ connector/static/
# The virtualenv gets no pip or setuptools of its own (24 MB the server never uses);
# the stage's pip installs into it.
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv --without-pip /opt/venv \
    && python -m pip --python /opt/venv/bin/python install --no-cache-dir /wheels/*.whl

# --- 3. Runtime: no compilers, no Node, no source tree; only the virtualenv. ---
FROM python:3.11-slim AS runtime
LABEL org.opencontainers.image.title="AI Connector" \
      org.opencontainers.image.description="One gateway for local (Ollama) and cloud (OpenAI) chat models, with a web UI" \
      org.opencontainers.image.licenses="MIT"

# A fixed numeric uid, so runAsNonRoot policies and volume ownership are predictable.
RUN groupadd --system --gid 10001 connector \
    && useradd --system --uid 10001 --gid connector --home-dir /home/connector \
       --create-home --shell /usr/sbin/nologin connector \
    && mkdir /data \
    && chown connector:connector /data

COPY --from=wheel /opt/venv /opt/venv

# HOST/PORT are read by the connector's settings: listen on every interface of the
# container, so a published port reaches it. There is no OS keyring in a container,
# so a key set at runtime lives in memory only; give a lasting key through
# OPENAI_API_KEY or OPENAI_API_KEY_FILE (Docker secrets).
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    CONNECTOR_DATA_DIR=/data \
    CONNECTOR_KEY_STORE=memory

# The SQLite database (usage, conversations, profile, settings) lives here;
# migrations run at start-up, so a newer image upgrades it in place.
VOLUME ["/data"]
WORKDIR /home/connector
USER 10001:10001
EXPOSE 8000

# Slim images have no curl; the standard library is enough. The probe goes over
# loopback, which the connector always accepts as a Host and which needs no token.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import json, os, sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4); sys.exit(0 if json.load(r).get('status') == 'ok' else 1)"]

# Equivalent to `connector serve --host 0.0.0.0`: host and port come from HOST/PORT,
# so `-e PORT=9000` moves the port without changing the command.
CMD ["connector", "serve"]
