-- The yardstick: the least a transfer can do in PL/pgSQL (lock both rows in id order, check, two updates, one
-- insert), on tables with nothing but primary keys. Lives in the bench database only, never in db/.
CREATE SCHEMA bench;
CREATE TABLE bench.accounts (id bigint PRIMARY KEY, balance numeric(20, 2) NOT NULL);
CREATE TABLE bench.entries (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sender_id   bigint NOT NULL,
  receiver_id bigint NOT NULL,
  amount      numeric(20, 2) NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO bench.accounts SELECT g, 1000000 FROM generate_series(1, 10000) g;

CREATE FUNCTION bench.transfer(p_from bigint, p_to bigint, p_amount numeric) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  from_balance numeric;
  new_id bigint;
BEGIN
  PERFORM 1 FROM bench.accounts a WHERE a.id IN (p_from, p_to) ORDER BY a.id FOR UPDATE;
  SELECT a.balance INTO from_balance FROM bench.accounts a WHERE a.id = p_from;
  IF from_balance < p_amount THEN
    RAISE EXCEPTION 'insufficient funds';
  END IF;
  UPDATE bench.accounts a SET balance = a.balance - p_amount WHERE a.id = p_from;
  UPDATE bench.accounts a SET balance = a.balance + p_amount WHERE a.id = p_to;
  INSERT INTO bench.entries (sender_id, receiver_id, amount) VALUES (p_from, p_to, p_amount)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
