// Launching the one Chromium of a worker process. Puppeteer never downloads a browser here
// (.puppeteerrc.cjs), so the executable is always explicit: config.chromiumPath, else /usr/bin/chromium.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer';

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/** Prefix of every profile folder we create: lets tests and operators tell our browsers from others. */
export const PROFILE_PREFIX = 'wallet-receipts-chromium-';

// The flags known to work on the project's machines (docs: environment.md). The background-networking ones
// stop Chromium from calling home, which would hang on machines without general internet.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-extensions',
  '--disable-default-apps',
  '--mute-audio',
  // A network kill switch behind the page's request interception, which some requests bypass (a
  // <link rel=prefetch> is fetched by the browser itself): everything goes to a proxy that does not exist,
  // loopback included (<-loopback> drops the implicit loopback bypass).
  '--proxy-server=http://127.0.0.1:9',
  '--proxy-bypass-list=<-loopback>',
];

export function resolveChromiumPath(configured: string | undefined): string {
  const chosen = configured || DEFAULT_CHROMIUM_PATH;
  if (!existsSync(chosen)) {
    throw new Error(
      `Chromium not found at ${chosen}: run scripts/ensure-chromium.sh, or set CHROMIUM_PATH to a Chromium binary`,
    );
  }
  return chosen;
}

export interface LaunchedBrowser {
  browser: Browser;
  profileDir: string;
  /** Kills the browser if it is still there and removes its profile folder. Never throws. */
  dispose(): Promise<void>;
}

export async function launchChromium(executablePath: string): Promise<LaunchedBrowser> {
  const profileDir = await mkdtemp(path.join(os.tmpdir(), PROFILE_PREFIX));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      // A pipe instead of a WebSocket: no debugging port to find or expose, and when this process dies
      // (even by SIGKILL) the pipe closes and Chromium exits instead of lingering.
      pipe: true,
      userDataDir: profileDir,
      args: CHROMIUM_ARGS,
      // The worker owns shutdown: Puppeteer's own signal handlers would kill Chromium while activities
      // are still draining. Its exit handler (always installed) still kills the browser on process exit.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      protocolTimeout: 60_000,
    });
  } catch (error) {
    await rm(profileDir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  const dispose = async () => {
    if (browser.connected) await browser.close().catch(() => undefined);
    const child = browser.process();
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(profileDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  };
  return { browser, profileDir, dispose };
}
