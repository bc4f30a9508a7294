#!/bin/sh
# The image's entrypoint: one image, one role per container (docker-compose.yml).
#   web     migrate (unless MIGRATE_ON_START=0), collect static files, serve HTTP + websockets
#   worker  a Celery worker (imports, exports, training, webhooks)
#   beat    the Celery scheduler (lease clean-up, retrain checks, storage syncs); run ONE
#   migrate apply migrations and exit (a release step before a blue-green switch)
#   other   run the arguments as a command (e.g. `python manage.py createsuperuser`)
set -eu

role="${1:-${ANNOTATOR_ROLE:-web}}"
[ "$#" -gt 0 ] && shift
python="${PYTHON:-python}"

# prometheus_client's multi-process mode: the folder must exist and start empty each run.
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  find "$PROMETHEUS_MULTIPROC_DIR" -name '*.db' -delete
fi

case "$role" in
  web)
    if [ "${MIGRATE_ON_START:-1}" = "1" ]; then
      "$python" manage.py migrate --noinput
    fi
    "$python" manage.py collectstatic --noinput --verbosity 0
    exec "$python" -m uvicorn annotator.asgi:application \
      --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" \
      --workers "${WEB_WORKERS:-2}" \
      --http annotator.serve:NoDelayHttpToolsProtocol --loop uvloop \
      --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" "$@"
    ;;
  worker)
    exec "$python" -m celery -A annotator worker \
      --loglevel "${LOG_LEVEL:-INFO}" --concurrency "${WORKER_CONCURRENCY:-2}" "$@"
    ;;
  beat)
    exec "$python" -m celery -A annotator beat --loglevel "${LOG_LEVEL:-INFO}" \
      --schedule "${ANNOTATOR_DATA_DIR:-/data}/celerybeat-schedule" "$@"
    ;;
  migrate)
    exec "$python" manage.py migrate --noinput "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
