// pgbench scripts. Receivers are drawn so they never equal the sender: every call is a real transfer.
export const WALLETS = 10_000;

export const UNIFORM_TRANSFER = `
\\set a random(1, ${WALLETS})
\\set b 1 + (:a - 1 + random(1, ${WALLETS - 1})) % ${WALLETS}
SELECT * FROM wallet.transfer(:a, :b, 0.01);
`;

export const HOT_SENDER_TRANSFER = `
\\set b random(2, ${WALLETS})
SELECT * FROM wallet.transfer(1, :b, 0.01);
`;
