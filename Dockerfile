# alignbot on CPU: `docker build -t alignbot .` then `docker run --rm -v alignbot-data:/data alignbot ask "…"`.
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

# The package without dev extras (no test tools, no LLM providers).
COPY pyproject.toml README.md ./
COPY bot/ bot/
RUN pip install .

# A non-editable install puts the package in site-packages, away from the repo's knowledge/ and prompts/
# that the settings default to, so point the settings at these copies.
COPY knowledge/ knowledge/
COPY prompts/ prompts/
ENV ALIGNBOT_KNOWLEDGE_DIR=/app/knowledge \
    ALIGNBOT_PROMPTS_DIR=/app/prompts \
    ALIGNBOT_DATA_DIR=/data

# The SQLite file and Chroma live here: keep them across containers with a volume.
VOLUME ["/data"]

# `docker run -p 8080:8080 alignbot serve --host 0.0.0.0` serves the HTTP API and moderator page.
EXPOSE 8080

ENTRYPOINT ["alignbot"]
CMD ["--help"]
