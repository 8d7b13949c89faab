// Chromium comes from the system (scripts/ensure-chromium.sh); never download Puppeteer's own build.
module.exports = { skipDownload: true };
