# syntax=docker/dockerfile:1
# tracetail image: build with the toolchain, run on a slim current-LTS Node with production
# dependencies only, as a numeric non-root user, under tini.
ARG NODE_IMAGE=node:22-bookworm
ARG NODE_SLIM_IMAGE=node:22-bookworm-slim

# Production dependencies, native modules (better-sqlite3) compiled with python3, make and g++.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm rebuild better-sqlite3

# The TypeScript build, with dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# The demo app of `npm run demo` (the OTel SDK is among the dev dependencies of the build stage),
# for config/compose/docker-compose.yaml: `docker build --target demo -t tracetail-demo:0.1.0 .`
FROM build AS demo
COPY config/demo ./config/demo
CMD ["node", "config/demo/app.mjs"]

FROM ${NODE_SLIM_IMAGE}
ENV NODE_ENV=production
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/tracetail /var/run/tracetail /var/log/app /etc/tracetail \
 && chown -R 1000:1000 /var/lib/tracetail /var/run/tracetail
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config/tracetail.yaml ./config/tracetail.yaml
COPY config/container.yaml ./config/container.yaml
USER 1000:1000
# V8 flags read only at start (src/node-flags.ts): the young generation held at 16 MiB.
ENV NODE_OPTIONS="--max-semi-space-size=8"
VOLUME ["/var/lib/tracetail"]
# 4318 OTLP/HTTP, 4317 OTLP/gRPC (loopback inside the pod), 9464 /metrics, 9465 debug API.
EXPOSE 4317 4318 9464 9465
ENTRYPOINT ["/usr/bin/tini", "--"]
# Defaults alone: tail /var/log/app/**/*.log, state in /var/lib/tracetail, listeners but /metrics
# on loopback (a pod's sidecar). In a container of its own, run with "--config",
# "config/container.yaml" (receivers on 0.0.0.0 inside the container), or mount a config.
CMD ["node", "dist/cli.js", "run"]
