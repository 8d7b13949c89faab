# One image for the API and the worker (the compose file picks the command). Node 22: a supported LTS.
# Build stage: every dependency, tsc to dist/ and the workflow bundle (`npm run build`).
FROM node:22-bookworm-slim AS build
ENV PUPPETEER_SKIP_DOWNLOAD=true
WORKDIR /app
COPY package.json package-lock.json .puppeteerrc.cjs ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: production dependencies and compiled JavaScript only (no TypeScript, no tsx, no webpack at start).
FROM node:22-bookworm-slim
# Chromium for the receipts, and fonts that cover Latin and CJK names.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium qpdf fonts-dejavu-core fonts-wqy-zenhei ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV PUPPETEER_SKIP_DOWNLOAD=true CHROMIUM_PATH=/usr/bin/chromium NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .puppeteerrc.cjs ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY db ./db
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/server.js"]
