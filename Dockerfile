# The app's image (docker-compose.yml builds it; or `docker build -t claude-code-cluster .`).
# Build stage: all dependencies, src/ compiled to dist/. Runtime stage: production dependencies
# and dist/ only, run by the unprivileged `node` user of the Node image.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here (they come next, so a
# source change does not redo the install); the build itself needs no install script.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# On a first run without APP_ID the app writes .env into its working directory; the code stays root's.
RUN chown node:node /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build, and this stage has no TypeScript; no production
# dependency needs its install script (msgpackr-extract's is optional: msgpackr falls back to JavaScript).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Probot's setup page registers the app from app.yml in the working directory.
COPY app.yml ./
USER node
EXPOSE 3000
CMD ["node", "dist/app/main.js"]
