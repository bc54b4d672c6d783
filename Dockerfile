# syntax=docker/dockerfile:1
# tradepipe: one image, every role by subcommand —
#   tradepipe stage <name> -f /etc/tradepipe/pipeline.yaml   a pipeline stage (pods made by the operator)
#   tradepipe operator                                        the Kubernetes operator
#   tradepipe migrate | sim | kill-switch | validate | ...
# Node runs the TypeScript sources directly (type stripping); there is no build step.
# The operator puts this image's reference in every stage pod from spec.image.

ARG NODE_VERSION=24.11
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
# onnxruntime-node's install script would download CUDA files; its CPU binaries ship in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
# Production dependencies only; npm runs only the install scripts package.json's allowScripts names.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim
# A fixed non-root user: pods run as 10001 (operator/specs/common.ts RUN_AS_USER).
RUN groupadd --system --gid 10001 tradepipe \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin tradepipe
WORKDIR /app
ENV NODE_ENV=production \
    NODE_OPTIONS=--disable-warning=ExperimentalWarning
COPY --from=deps /app/node_modules ./node_modules
# Sources, SQL migrations, default config, the ONNX model and the CRD (see .dockerignore).
COPY --chown=root:root . .
USER 10001:10001
# Pods mount a read-only root filesystem with an emptyDir at /tmp; nothing else is written.
EXPOSE 8080 9464 5555
ENTRYPOINT ["node", "/app/bin/tradepipe.ts"]
CMD ["--help"]
