# faxflow's production image: compiled code (dist/) and the prebuilt workflow bundle, production
# dependencies only, run as the unprivileged `node` user. One image for every command:
#   docker run faxflow:0.1.0 api | worker | simulator | migrate
# The node image is pinned to a patch release; bump it deliberately (and NODE_IMAGE in CI, if any).
ARG NODE_IMAGE=node:20.19.5-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# tsc emits dist/, then the workflows are bundled once into dist/workflow-bundle.js.
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    FAXFLOW_PREBUILT=1 \
    FAXFLOW_DATA_DIR=/var/lib/faxflow \
    FAXFLOW_API_HOST=0.0.0.0 \
    FAXFLOW_METRICS_HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist
# Documents live in the data folder: a volume shared by the API (which stores them) and the workers.
RUN mkdir -p /var/lib/faxflow && chown node:node /var/lib/faxflow
VOLUME /var/lib/faxflow
USER node
# 8080: faxflow api (FAXFLOW_API_PORT); 9464: a worker's /metrics (FAXFLOW_METRICS_PORT); 8787: simulator.
EXPOSE 8080 9464 8787
ENTRYPOINT ["node", "bin/faxflow.js"]
CMD ["api"]
