// One PostgreSQL connection LISTENing on a channel, reconnected with backoff whenever it drops (a database
// restart, a killed backend, a network cut). Notifications sent while it was away are lost: onConnected lets
// the caller catch up (the dispatcher sweeps).
import pg from 'pg';
import { describeError, type Logger } from './log.js';

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

export interface ListenerOptions {
  url: string;
  channel: string;
  onNotify(): void;
  onConnected(): void;
  log: Logger;
}

export class Listener {
  private stopped = false;
  private client: pg.Client | undefined;
  private loop: Promise<void> | undefined;
  private wake: () => void = () => {};
  private down = false;

  constructor(private readonly opts: ListenerOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(opts.channel))
      throw new Error(`not a plain channel name: ${opts.channel}`);
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.client?.end().catch(() => undefined);
    await this.loop;
  }

  private async run(): Promise<void> {
    let delay = RECONNECT_MIN_MS;
    while (!this.stopped) {
      const client = new pg.Client({
        connectionString: this.opts.url,
        application_name: 'wallet-receipt-dispatcher',
        keepAlive: true,
      });
      const closed = new Promise<void>((resolve) => {
        this.wake = resolve;
        client.on('error', () => resolve()); // an unhandled 'error' event would crash the process
        client.on('end', () => resolve());
      });
      client.on('notification', () => this.opts.onNotify());
      try {
        await client.connect();
        this.client = client;
        await client.query(`LISTEN ${this.opts.channel}`);
        delay = RECONNECT_MIN_MS;
        if (this.down) this.opts.log.info('listening for new receipts again');
        this.down = false;
        this.opts.onConnected();
        await closed;
        if (!this.stopped) throw new Error('LISTEN connection closed');
      } catch (error) {
        if (!this.stopped && !this.down) {
          this.opts.log.warn(`LISTEN connection lost, reconnecting (sweeps go on): ${describeError(error)}`);
        }
        this.down = true;
      } finally {
        this.client = undefined;
        await client.end().catch(() => undefined);
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    }
  }
}
