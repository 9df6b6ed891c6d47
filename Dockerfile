# The image every service of docker-compose.yml runs (workers and the one-shot
# migrate): the project with its Python dependencies and the assets npm builds.

# -- stage 1: the browser assets, built with npm at image build time (no CDN at run time)
FROM node:20-bookworm-slim AS assets
WORKDIR /src
# GraphiQL's bundle, vendored into api_graphql/static by vendor.mjs.
COPY api_graphql/graphiql/package.json api_graphql/graphiql/package-lock.json api_graphql/graphiql/vendor.mjs api_graphql/graphiql/
RUN cd api_graphql/graphiql && npm ci --no-audit --no-fund && node vendor.mjs
# The /live/ page: a React app, type-checked and bundled from ts_client's sources (myproject/frontend/build.mjs).
COPY ts_client/package.json ts_client/package-lock.json ts_client/
RUN cd ts_client && npm ci --no-audit --no-fund
COPY ts_client/src ts_client/src
COPY myproject/frontend myproject/frontend
RUN node myproject/frontend/build.mjs

# -- stage 2: the application
FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=myproject.settings
WORKDIR /app
COPY pyproject.toml README.md manage.py ./
COPY api_graphql api_graphql
COPY realtime realtime
COPY myproject myproject
COPY --from=assets /src/api_graphql/static/api_graphql/graphiql/vendor api_graphql/static/api_graphql/graphiql/vendor
COPY --from=assets /src/myproject/static/myproject/live myproject/static/myproject/live
# psycopg's binary build: no compiler or libpq needed in the image.
RUN pip install --no-cache-dir -e ".[postgres]" \
    && useradd --system --home-dir /app app
USER app
EXPOSE 8000
# Liveness only: readiness (database, Redis) is the compose health check on /readyz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'Host': 'localhost'}), timeout=2)"]
# manage.py serve, not daphne: on SIGTERM it drains and closes sockets with 1001.
CMD ["python", "manage.py", "serve", "--bind", "0.0.0.0", "--port", "8000", "--proxy-headers"]
