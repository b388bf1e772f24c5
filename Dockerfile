# firstmark: one container, SQLite in the /data volume. For many nodes see docs/deploy.md.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY templates ./templates
COPY static ./static
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[geoip]'

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin firstmark \
    && mkdir -p /data && chown firstmark /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
ENV FIRSTMARK_DATABASE_URL=sqlite:////data/firstmark.db \
    FIRSTMARK_SECRET_KEY_FILE=/data/firstmark.secret \
    FIRSTMARK_HOST=0.0.0.0 \
    FIRSTMARK_PORT=8000 \
    PYTHONUNBUFFERED=1
USER firstmark
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["firstmark", "serve"]
