# One image for every role; the command picks the role (see docker-compose.yml).
# Build stage: `npm ci` compiles src/ into dist/ (through `prepare`); then the development
# dependencies (typescript, tsx, the test tools) are pruned away.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY bin ./bin
COPY src ./src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

# Runtime: the compiled code and the production dependencies only (no src/, no tsx).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
USER node
ENTRYPOINT ["node", "bin/provision.js"]
CMD ["--help"]
