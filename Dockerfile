# sc-spawner image: multi-stage, Node 24 LTS (slim), runs as the unprivileged `node` user under tini.
# The Stream Cache Server itself is not in the image: mount it (read-only) and set SC_EXECUTABLE; give the
# license as a secret file (SC_LICENSE_FILE). Without SC_EXECUTABLE the bundled simulator runs (for trials).
# Keys are required as shipped: mount a file of API keys (one a line) at /run/secrets/api_keys, or the service
# stops at start naming it; set CORS_ORIGINS to the application's origin (docs/security.md).
#   docker build -t sc-spawner .
#   docker run --read-only --cap-drop ALL --security-opt no-new-privileges:true \
#     -v "$PWD/api-keys:/run/secrets/api_keys:ro" -e CORS_ORIGINS=https://app.example.com -p 11182:11182 sc-spawner
#   tini is PID 1: it forwards SIGTERM to the service and reaps orphans. Stop with a grace above DRAIN_TIMEOUT_S:
#   docker stop -t 660 <container>

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PORT=11182 \
    HOST=0.0.0.0 \
    AGENT_CHECK_PORT=11183 \
    DRAIN_TIMEOUT_S=600 \
    PUBLIC_ENDPOINT=proxy \
    SPAWN_AUTH=required \
    API_KEYS_FILE=/run/secrets/api_keys \
    SC_STATE_DIR=/var/lib/sc-spawner \
    SC_WORKSPACE_DIR=/workspace
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /var/lib/sc-spawner /models /workspace \
    && chown node:node /var/lib/sc-spawner /workspace \
    && chmod 0700 /var/lib/sc-spawner /workspace
USER node
# /models: model folders (SC_MODEL_DIRS=/models); /var/lib/sc-spawner: the state folder (journal, lock), the
# service's own (0700); /workspace: the servers' working files. All three stay writable under --read-only.
VOLUME ["/models", "/var/lib/sc-spawner", "/workspace"]
EXPOSE 11182 11183
# Liveness only: a full or draining node is healthy (readiness, /health/ready, is for the balancer).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:11182/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/main.js"]
