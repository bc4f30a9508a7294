# Multi-stage image: build wheels once, run as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /build
COPY requirements.txt .
# torch from PyTorch's CPU index: PyPI's torch wheel is the CUDA build (several GB).
RUN pip wheel --no-cache-dir --wheel-dir /wheels \
    --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ANNOTATOR_DATA_DIR=/data
RUN useradd --create-home --uid 1000 annotator && mkdir -p /data && chown annotator /data
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
COPY --chown=annotator . .
USER annotator
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py collectstatic --noinput && exec uvicorn annotator.asgi:application --host 0.0.0.0 --port 8000 --workers ${WEB_WORKERS:-2} --http annotator.serve:NoDelayHttpToolsProtocol --loop uvloop"]
