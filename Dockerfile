# One image for the API and the worker (the compose file picks the command).
FROM node:20-bookworm-slim
# Chromium for the receipts, and fonts that cover Latin and CJK names.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium qpdf fonts-dejavu-core fonts-wqy-zenhei ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV PUPPETEER_SKIP_DOWNLOAD=true CHROMIUM_PATH=/usr/bin/chromium NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .puppeteerrc.cjs ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY db ./db
COPY src ./src
USER node
EXPOSE 3000
CMD ["npx", "tsx", "src/server.ts"]
