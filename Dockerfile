# signoff: one image for the worker and the web service (`signoff worker`, `signoff web`).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY integrations ./integrations
COPY api ./api
COPY workers ./workers
COPY config ./config
RUN pip install --no-cache-dir ".[postgres]"
USER nobody
ENTRYPOINT ["signoff"]
