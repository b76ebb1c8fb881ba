# capwatch in a container: non-root, one /data volume, a health check on /healthz.
# Build: docker build -t capwatch .     Run: see packaging/compose.yaml
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /wheels

FROM python:3.11-slim
ARG EXTRAS=postgres,snmp,mqtt
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir "$(ls /wheels/*.whl)[${EXTRAS}]" && rm -rf /wheels \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin capwatch \
 && mkdir -p /data /config && chown capwatch:capwatch /data
USER capwatch
ENV CAPWATCH_DATA_DIR=/data \
    CAPWATCH_CONFIG=/config/capwatch.toml \
    CAPWATCH_WEB__HOST=0.0.0.0 \
    CAPWATCH_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8485
HEALTHCHECK --interval=60s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import httpx,sys; sys.exit(httpx.get('http://127.0.0.1:8485/healthz', timeout=4).status_code != 200)"
ENTRYPOINT ["capwatch"]
CMD ["serve"]
