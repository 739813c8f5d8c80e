# The kosh worker image (`docker compose build`). Runtime dependencies only: no test extras.
# Base pinned to a Python minor and a Debian release (pyproject requires Python 3.11).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The checkpoints' folder (kosh-checkpoint's volume starts as a copy of it: owned by kosh).
RUN useradd --create-home --uid 10001 --user-group kosh \
    && mkdir -p /var/lib/kosh/checkpoints && chown -R kosh:kosh /var/lib/kosh

# The build context is filtered by .dockerignore (no .venv, tests, caches or .env).
COPY . /src
RUN pip install /src && rm -rf /src

USER kosh
WORKDIR /home/kosh

# PID 1 ignores SIGTERM; `kosh worker` handles SIGINT by shutting the worker down cleanly.
STOPSIGNAL SIGINT
ENTRYPOINT ["kosh"]
CMD ["worker"]
