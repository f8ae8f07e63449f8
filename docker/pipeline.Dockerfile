# The pipeline image: Airflow, dbt, Great Expectations, DuckDB, built with the
# native set-up's own script from requirements/pipeline.lock. Runs one Airflow
# component per container (scripts/airflow-entrypoint.sh).
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 50000 --create-home --home-dir /home/receivables receivables
WORKDIR /opt/receivables
COPY . .
RUN RECEIVABLES_PYTHON=/usr/local/bin/python3.11 bash scripts/setup-pipeline.sh \
    && mkdir -p /opt/airflow /data && chown -R receivables /opt/airflow /data
ENV PATH=/opt/receivables/.venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/receivables/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    GX_ANALYTICS_ENABLED=false
USER receivables
ENTRYPOINT ["bash", "/opt/receivables/scripts/airflow-entrypoint.sh"]
CMD ["api-server"]
