// pgbench scripts. Receivers are drawn so they never equal the sender: every call is a real transfer.
export const WALLETS = 10_000;

/** Transfers of 0.01 between uniformly random wallets among 1..wallets. */
export const uniformTransfer = (wallets: number) => `
\\set a random(1, ${wallets})
\\set b 1 + (:a - 1 + random(1, ${wallets - 1})) % ${wallets}
SELECT * FROM wallet.transfer(:a, :b, 0.01);
`;

export const HOT_SENDER_TRANSFER = `
\\set b random(2, ${WALLETS})
SELECT * FROM wallet.transfer(1, :b, 0.01);
`;
