-- 10,000 users, each funded with 1,000,000.00: no transfer of 0.01 can fail for want of funds.
SELECT wallet.create_user('bench' || g, NULL) FROM generate_series(1, 10000) g;
SELECT wallet.deposit(g, 1000000) FROM generate_series(1, 10000) g;
