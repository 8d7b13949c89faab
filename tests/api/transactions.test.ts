// History with keyset pagination, one transaction, and receipt downloads; nobody sees anyone else's.
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiContext, createApiContext, type TestUser } from '../helpers/api.js';

let ctx: ApiContext;
let app: FastifyInstance;
let alice: TestUser;
let bob: TestUser;
let eve: TestUser;
const ids: number[] = []; // alice's transactions, oldest first

beforeAll(async () => {
  ctx = await createApiContext();
  app = await ctx.build();
  alice = await ctx.user('alice', '100.00');
  bob = await ctx.user('bob', '100.00');
  eve = await ctx.user('eve', '100.00');
  const { rows } = await ctx.db.admin.query(
    "SELECT id FROM wallet.transactions WHERE receiver_id = $1 AND kind = 'deposit'",
    [alice.id],
  );
  ids.push(rows[0].id);
  for (let i = 0; i < 6; i++) {
    const [from, to] = i % 2 === 0 ? [alice, bob] : [bob, alice];
    const res = await app.inject({
      method: 'POST',
      url: '/api/wallet/transfer/',
      headers: { authorization: from.auth },
      payload: { receiver_id: to.id, amount: `${i + 1}.00` },
    });
    ids.push(res.json().transaction_id);
  }
});

const get = (url: string, user: TestUser) => app.inject({ url, headers: { authorization: user.auth } });

describe('history', () => {
  it('lists sent and received transactions newest first, in the contract shape', async () => {
    const res = await get('/api/wallet/transactions/', alice);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.next_before).toBeNull();
    expect(body.transactions.map((t: { id: number }) => t.id)).toEqual([...ids].reverse());
    expect(body.transactions[0]).toEqual({
      id: ids[6],
      kind: 'transfer',
      direction: 'received',
      counterparty_id: bob.id,
      amount: '6.00',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      receipt_status: 'pending',
      refund_of: null,
      refunded_total: '0.00',
    });
    expect(body.transactions[1]).toMatchObject({
      direction: 'sent',
      counterparty_id: bob.id,
      amount: '5.00',
    });
    expect(body.transactions.at(-1)).toMatchObject({
      kind: 'deposit',
      direction: 'received',
      counterparty_id: null,
      refunded_total: null, // a deposit cannot be refunded
    });
  });

  it('pages with limit and before until next_before is null', async () => {
    const seen: number[] = [];
    let before: number | null = null;
    let pages = 0;
    do {
      const url: string = `/api/wallet/transactions/?limit=2${before ? `&before=${before}` : ''}`;
      const body = (await get(url, alice)).json();
      expect(body.transactions.length).toBeLessThanOrEqual(2);
      seen.push(...body.transactions.map((t: { id: number }) => t.id));
      before = body.next_before;
      pages++;
    } while (before !== null);
    expect(seen).toEqual([...ids].reverse());
    expect(pages).toBe(4); // 7 transactions: 2 + 2 + 2 + 1
  });

  it('limit=1 gives one transaction and a cursor; a full last page has no cursor', async () => {
    const one = (await get('/api/wallet/transactions/?limit=1', alice)).json();
    expect(one.transactions).toHaveLength(1);
    expect(one.next_before).toBe(ids[6]);
    const exact = (await get('/api/wallet/transactions/?limit=7', alice)).json();
    expect(exact.transactions).toHaveLength(7);
    expect(exact.next_before).toBeNull();
  });

  it('defaults to 50, and accepts 100', async () => {
    expect((await get('/api/wallet/transactions', alice)).json().transactions).toHaveLength(7);
    expect((await get('/api/wallet/transactions/?limit=100', alice)).statusCode).toBe(200);
  });

  it('before beyond the newest id lists everything; before the oldest lists nothing', async () => {
    const beyond = (await get('/api/wallet/transactions/?before=9007199254740991', alice)).json();
    expect(beyond.transactions).toHaveLength(7);
    const none = (await get(`/api/wallet/transactions/?before=${ids[0]}`, alice)).json();
    expect(none).toEqual({ transactions: [], next_before: null });
  });

  it('is empty for a user with no transactions', async () => {
    const quiet = await ctx.user('quiet');
    expect((await get('/api/wallet/transactions/', quiet)).json()).toEqual({
      transactions: [],
      next_before: null,
    });
  });

  it('shows eve only her own deposit', async () => {
    const body = (await get('/api/wallet/transactions/', eve)).json();
    expect(body.transactions).toHaveLength(1);
    expect(body.transactions[0].kind).toBe('deposit');
  });

  it.each([
    ['limit=0'],
    ['limit=101'],
    ['limit=-1'],
    ['limit=1.5'],
    ['limit=abc'],
    ['limit='],
    ['limit=01'],
    ['limit=%201'],
    ['limit=1e1'],
    ['limit=1&limit=2'],
    ['before=0'],
    ['before=-5'],
    ['before=9223372036854775808'],
    ['before=abc'],
    ['cursor=5'],
  ])('400 validation_error for ?%s', async (query) => {
    const res = await get(`/api/wallet/transactions/?${query}`, alice);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_error');
  });
});

describe('one transaction', () => {
  it('answers a transaction the caller sent or received', async () => {
    for (const user of [alice, bob]) {
      const res = await get(`/api/wallet/transactions/${ids[1]}/`, user);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: ids[1], kind: 'transfer', amount: '1.00' });
    }
    expect((await get(`/api/wallet/transactions/${ids[1]}`, alice)).json().direction).toBe('sent');
    expect((await get(`/api/wallet/transactions/${ids[1]}`, bob)).json().direction).toBe('received');
  });

  it("404 not_found for someone else's transaction, the same as for one that does not exist", async () => {
    const theirs = await get(`/api/wallet/transactions/${ids[1]}/`, eve);
    const nothing = await get('/api/wallet/transactions/999999/', eve);
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json()).toEqual({ error: 'Not found', code: 'not_found' });
    expect(nothing.body).toBe(theirs.body);
  });
});

describe('receipt download', () => {
  it('202 pending with Retry-After while not rendered', async () => {
    const res = await get(`/api/wallet/transactions/${ids[2]}/receipt`, alice);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'pending' });
    expect(res.headers['retry-after']).toBe('2');
  });

  it('200 application/pdf once rendered, to both parties; the list shows it rendered', async () => {
    const pdf = Buffer.from('%PDF-1.4\n% a tiny stand-in receipt\n%%EOF\n');
    await ctx.db.admin.query('SELECT * FROM wallet.store_receipt_pdf($1, $2)', [ids[3], pdf]);
    for (const user of [alice, bob]) {
      const res = await get(`/api/wallet/transactions/${ids[3]}/receipt/`, user);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="receipt-${ids[3]}.pdf"`);
      expect(res.headers.etag).toMatch(/^"[0-9a-f]{64}"$/);
      expect(res.rawPayload.equals(pdf)).toBe(true);
    }
    const one = (await get(`/api/wallet/transactions/${ids[3]}`, alice)).json();
    expect(one.receipt_status).toBe('rendered');
  });

  it("404 for someone else's receipt, rendered or not, and for none at all", async () => {
    const bodies = new Set<string>();
    for (const url of [
      `/api/wallet/transactions/${ids[3]}/receipt`,
      `/api/wallet/transactions/${ids[2]}/receipt`,
      '/api/wallet/transactions/999999/receipt',
    ]) {
      const res = await get(url, eve);
      expect(res.statusCode).toBe(404);
      bodies.add(res.body);
    }
    expect(bodies.size).toBe(1);
  });

  it.each(['0', '-1', '1.5', 'abc', '9223372036854775808', '1e3', '%20'])(
    '400 validation_error for the id %s',
    async (id) => {
      for (const suffix of ['/', '/receipt']) {
        const res = await get(`/api/wallet/transactions/${id}${suffix}`, alice);
        expect(res.statusCode).toBe(400);
        expect(res.json().code).toBe('validation_error');
      }
    },
  );
});
