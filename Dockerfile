# syntax=docker/dockerfile:1
# Multi-stage image: wheels are built once in the first stage; the runtime stage has no
# compilers and runs as a non-root user. One image serves every role (scripts/entrypoint.sh):
# web (default), worker, beat, migrate.
FROM python:3.11-slim AS build
WORKDIR /build
COPY requirements.txt .
# torch from PyTorch's CPU index: PyPI's torch wheel is the CUDA build (several GB).
RUN pip wheel --no-cache-dir --wheel-dir /wheels \
    --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ANNOTATOR_DATA_DIR=/data \
    HF_HUB_OFFLINE=1 \
    PORT=8000
RUN useradd --create-home --uid 1000 annotator \
    && mkdir -p /data \
    && chown 1000:1000 /data
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/* && rm -rf /wheels
COPY --chown=1000:1000 . .
USER 1000:1000
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('PORT', '8000'), timeout=4)"]
ENTRYPOINT ["scripts/entrypoint.sh"]
CMD ["web"]
