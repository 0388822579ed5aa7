# Production image: the Django app served by gunicorn; the same image runs the Celery worker
# and beat (see docker-compose.yml). Static files are collected at build time and served by
# WhiteNoise; uploaded files live in MEDIA_ROOT (a volume).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    QMS_VAR_DIR=/app/var \
    MEDIA_ROOT=/data/media

# DejaVu fonts: the PDF exports and print views use them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 qms

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml ./
COPY qms/__init__.py qms/__init__.py
COPY complaints/__init__.py complaints/__init__.py
COPY capa/__init__.py capa/__init__.py
COPY documents/__init__.py documents/__init__.py
COPY training/__init__.py training/__init__.py
COPY metrics/__init__.py metrics/__init__.py
RUN pip install .

COPY . .
# The app runs from /app (manage.py, templates/ and static/ live here); reinstall without
# dependencies so the installed package matches the code.
RUN pip install --no-deps . \
    && DEBUG=false SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput \
    && mkdir -p /data/media /data/audit-anchors /app/var \
    && chown -R qms:qms /data /app/var

USER qms
EXPOSE 8000
# docker-compose.yml runs the migrations (as the schema owner) in its one-shot `migrate` service
# before starting gunicorn as the runtime role; a plain `docker run` serves directly.
CMD ["gunicorn", "qms.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
