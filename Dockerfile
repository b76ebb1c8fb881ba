# capwatch in a container: non-root, one /data volume, an optional /config mount, a health
# check on /healthz at the configured port. Two images from this file:
#   docker build -t capwatch .                                  # no browser (the default)
#   docker build --target browser -t capwatch:browser .         # + Debian's Chromium, Playwright
# Without Chromium the Xfinity sign-in is a cookie import (docs/install.md, "Docker and compose").
# Run: see packaging/compose.yaml.

# Build tools pinned: the same wheel from the same source on every build. VERSION (the label)
# follows pyproject.toml's version (a test checks); REVISION is the commit, given at build time.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG PIP_VERSION=26.3
ARG BUILD_VERSION=1.6.1
ARG HATCHLING_VERSION=1.33.0
WORKDIR /src
RUN pip install --no-cache-dir "pip==${PIP_VERSION}" \
 && pip install --no-cache-dir "build==${BUILD_VERSION}" "hatchling==${HATCHLING_VERSION}"
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN python -m build --wheel --no-isolation --outdir /wheels

FROM ${PYTHON_IMAGE} AS base
ARG PYTHON_IMAGE
ARG PIP_VERSION=26.3
ARG EXTRAS=postgres,snmp,mqtt
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="capwatch" \
      org.opencontainers.image.description="Watches an internet data cap: ISP meters, forecasts, alerts, dashboard, exporters" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.url="https://pypi.org/project/capwatch/" \
      org.opencontainers.image.documentation="https://pypi.org/project/capwatch/" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/${PYTHON_IMAGE}"
COPY --from=build /wheels /wheels
COPY packaging/healthcheck.py /usr/local/bin/capwatch-healthcheck
RUN pip install --no-cache-dir "pip==${PIP_VERSION}" \
 && pip install --no-cache-dir "$(ls /wheels/*.whl)[${EXTRAS}]" \
 && rm -rf /wheels \
 && groupadd --system --gid 10001 capwatch \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin capwatch \
 && mkdir -p /data /config && chown 10001:10001 /data \
 && chmod 0755 /usr/local/bin/capwatch-healthcheck
# CAPWATCH_CONFIG_DIR, not CAPWATCH_CONFIG: /config/capwatch.toml is read when it is there,
# and without it capwatch runs on its embedded defaults (CAPWATCH_CONFIG names a file that
# must exist). The web server must listen beyond the container's loopback, which needs
# web.auth_token or a basic-auth password: capwatch refuses to start without one.
ENV CAPWATCH_DATA_DIR=/data \
    CAPWATCH_CONFIG_DIR=/config \
    CAPWATCH_WEB__HOST=0.0.0.0 \
    CAPWATCH_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8485
# The port (and address) come from the config and CAPWATCH_* variables, as `serve` reads them.
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
  CMD ["capwatch-healthcheck"]
ENTRYPOINT ["capwatch"]
CMD ["serve"]

# The image with a browser: Debian's Chromium (driven over the DevTools protocol; Playwright too,
# for browser_driver = "playwright"), for `capwatch login xfinity`
# and headless_login: chromium for a manual sign-in, chromium-headless-shell (a third less memory)
# for the headless ones (xfinity.browser_path's defaults are where Debian puts them).
FROM base AS browser
COPY --from=build /wheels /wheels
# Debian's chromium is not pinned: the security archive keeps only the newest build.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium chromium-headless-shell \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir "$(ls /wheels/*.whl)[all]" \
 && rm -rf /wheels
ENV CAPWATCH_IMAGE=browser
USER 10001:10001

# The default image: no browser. A browser login says to import cookies instead.
FROM base AS slim
ENV CAPWATCH_IMAGE=slim
USER 10001:10001
