# Container image of provenance-observer (the image deploy/40-deployment.yaml runs).
# Not built in CI here (no container engine on the build machines); the build is the same
# `npm ci` + `npm run build` the tests exercise, and the runtime runs the compiled dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/node24.sh scripts/node24.sh
COPY src src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY package.json ./
COPY bin bin
# the nonroot uid the Deployment's securityContext expects; the root filesystem is read-only
USER 65532:65532
ENV NODE_ENV=production
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/provenance-observer.js"]
CMD ["run", "--config", "/etc/provenance-observer/config"]
