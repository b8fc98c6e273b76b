# syntax=docker/dockerfile:1
# Build: compile TypeScript with the full toolchain (better-sqlite3 may need to compile).
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
# --omit=optional too: typescript is an optional peer of @nestjs/swagger, which --omit=dev keeps.
RUN npm run build && npm prune --omit=dev --omit=optional --no-audit --no-fund

# Run: production dependencies and the compiled service only, as an unprivileged user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# What `npm start` runs after its build step, with the same node flags (docs/operations.md, "Memory";
# test/runtime-flags.spec.ts keeps the two alike); a signal reaches node directly (graceful shutdown).
CMD ["node", "--max-semi-space-size=32", "dist/main.js"]
