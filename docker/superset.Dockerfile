# The Superset image, in its own environment as natively: .venv-superset from
# requirements/superset.lock (SQLAlchemy 1.4, pandas 2), plus this project's
# package for the provisioning step (scripts/superset-entrypoint.sh).
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 50001 --create-home --home-dir /home/superset superset
WORKDIR /opt/receivables
COPY . .
RUN python -m pip install --no-cache-dir "$(grep '^uv==' requirements/pipeline.lock)" \
    && python -m venv .venv-superset \
    && uv pip sync --compile-bytecode --python .venv-superset/bin/python requirements/superset.lock \
    && uv pip install --python .venv-superset/bin/python --no-deps -e . \
    && mkdir -p /var/lib/superset && chown superset /var/lib/superset
ENV PATH=/opt/receivables/.venv-superset/bin:$PATH \
    SUPERSET_HOME=/var/lib/superset \
    SUPERSET_BIND=0.0.0.0:8088
USER superset
ENTRYPOINT ["bash", "/opt/receivables/scripts/superset-entrypoint.sh"]
CMD ["web"]
