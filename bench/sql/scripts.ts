// pgbench scripts. Receivers are drawn so they never equal the sender: every call is a real transfer.
export const WALLETS = 10_000;
export const BATCH_ITEMS = 100;

/** Transfers of 0.01 between uniformly random wallets among 1..wallets, through the given function. */
export const uniformTransfer = (wallets: number, fn = 'wallet.transfer') => `
\\set a random(1, ${wallets})
\\set b 1 + (:a - 1 + random(1, ${wallets - 1})) % ${wallets}
SELECT * FROM ${fn}(:a, :b, 0.01);
`;

/** Every client sends from wallet 1: the hot row's lock bounds the rate. */
export const hotSenderTransfer = (fn: string) => `
\\set b random(2, ${WALLETS})
SELECT * FROM ${fn}(1, :b, 0.01);
`;

/** The hot sender again, BATCH_ITEMS random receivers per call, one commit. */
export const HOT_SENDER_BATCH = `
SELECT * FROM wallet.transfer_batch(1,
  ARRAY(SELECT 2 + floor(random() * ${WALLETS - 1})::bigint FROM generate_series(1, ${BATCH_ITEMS})),
  array_fill(0.01::numeric, ARRAY[${BATCH_ITEMS}]));
`;
