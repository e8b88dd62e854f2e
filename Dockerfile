# alignbot on CPU: `docker build -t alignbot .` then `docker run --rm -v alignbot-data:/data alignbot ask "…"`.
# docker-compose.yml runs it in production (PostgreSQL, a Chroma server, the HTTP app and the bots): see README.md.
# BASE: any Debian-based image with python3 (3.11-3.13) and its venv module; scripts/verify_image.py builds with a
# debootstrapped Debian one, as no image registry is reachable there.
ARG BASE=python:3.11-slim

# Build stage: the compiler and headers PyICU needs stay here; the final image takes only the virtual environment.
FROM ${BASE} AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# PyICU (Unicode confusables for copy detection) compiles against the system's ICU, and needs Python's headers:
# python:*-slim has them, a Debian base's python3 needs python3-dev.
RUN apt-get update && apt-get install -y --no-install-recommends g++ pkg-config libicu-dev \
    && (python3 -c 'import pathlib, sys, sysconfig; sys.exit(not pathlib.Path(sysconfig.get_path("include"), "Python.h").exists())' \
        || apt-get install -y --no-install-recommends python3-dev) \
    && rm -rf /var/lib/apt/lists/*

# A virtual environment: a Debian base's own Python refuses `pip install` (PEP 668) and has no `python` command.
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# The package with its front ends (HTTP, Discord, Reddit), without dev extras (no test tools, no LLM providers).
# No torch: the bundled MiniLM runs on ONNX Runtime. The dependencies come first, read from pyproject.toml, in a
# layer that a change to bot/ leaves cached (PyICU alone compiles for minutes). pip compiles every module to
# bytecode, so that a start never compiles (PYTHONDONTWRITEBYTECODE only stops the bot from writing .pyc files).
COPY pyproject.toml README.md ./
RUN python -c 'import subprocess, sys, tomllib; \
project = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
extras = [d for extra in ("http", "discord", "reddit") for d in project["optional-dependencies"][extra]]; \
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *project["dependencies"], *extras]))'
COPY bot/ bot/
RUN pip install ".[http,discord,reddit]"

FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH

WORKDIR /app

# The ICU runtime library PyICU was built against: the one libicu-dev depends on in this base's Debian release
# (libicu72 on bookworm, libicu76 on trixie).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        "$(apt-cache depends libicu-dev | sed -n 's/^ *Depends: \(libicu[0-9][0-9]*\)$/\1/p')" \
    && rm -rf /var/lib/apt/lists/*

COPY --from=build /opt/venv /opt/venv

# An unprivileged user owns the data directory. The directory exists before VOLUME so that a new named volume
# starts with this owner; a bind mount keeps the host's owner (make it writable for uid 10001).
RUN useradd --system --user-group --uid 10001 --create-home --home-dir /home/alignbot alignbot \
    && mkdir /data && chown alignbot:alignbot /data

# A non-editable install puts the package in site-packages, away from the repo's knowledge/ and prompts/
# that the settings default to, so point the settings at these copies.
COPY knowledge/ knowledge/
COPY prompts/ prompts/
ENV ALIGNBOT_KNOWLEDGE_DIR=/app/knowledge \
    ALIGNBOT_PROMPTS_DIR=/app/prompts \
    ALIGNBOT_DATA_DIR=/data

# The SQLite file and Chroma live here: keep them across containers with a volume.
VOLUME ["/data"]

USER alignbot

# The embedding model ships inside the package (bot/models/minilm); loading it here, as the user that runs the
# bot and with the Hugging Face libraries offline, fails the build rather than a start.
RUN HF_HUB_OFFLINE=1 python -c "from bot.embedding import load_embedder; from bot.settings import Settings; \
    s = Settings(); load_embedder(s.embedding_model, s.embedding_max_tokens, s.embedding_batch_size).encode(['ok'])"

# `docker run -p 8080:8080 alignbot serve --host 0.0.0.0` serves the HTTP API and moderator page.
EXPOSE 8080

# For `serve`: /healthz answers 200 when the database and Chroma do. The first start ingests and embeds the
# bundled reading list before listening, hence the start period. The bots listen on no port: docker-compose.yml
# gives them `python -m bot.healthcheck stores` instead.
HEALTHCHECK --interval=15s --timeout=10s --start-period=180s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck", "http"]

ENTRYPOINT ["alignbot"]
CMD ["--help"]
