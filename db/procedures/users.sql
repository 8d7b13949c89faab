-- Users and their credentials. Password hashes are made by the application (scrypt); SQL only stores them.

CREATE OR REPLACE FUNCTION wallet.create_user(p_username text, p_password_hash text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  new_id bigint;
BEGIN
  INSERT INTO wallet.users (username, password_hash) VALUES (p_username, p_password_hash)
  RETURNING id INTO new_id;
  INSERT INTO wallet.wallets (user_id) VALUES (new_id);
  RETURN new_id;
EXCEPTION
  WHEN unique_violation THEN
    RAISE EXCEPTION 'username is taken'
      USING ERRCODE = 'W1008', DETAIL = format('a user named %s already exists (names ignore case)', p_username);
  WHEN check_violation OR not_null_violation THEN
    RAISE EXCEPTION 'username is not valid'
      USING ERRCODE = 'W1009',
            DETAIL = 'a username has 1 to 150 characters, no control characters and no leading or trailing spaces';
END
$$;

CREATE OR REPLACE FUNCTION wallet.set_password(p_username text, p_password_hash text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
DECLARE
  found_id bigint;
BEGIN
  UPDATE wallet.users SET password_hash = p_password_hash WHERE lower(username) = lower(p_username)
  RETURNING id INTO found_id;
  IF found_id IS NULL THEN
    RAISE EXCEPTION 'user not found' USING ERRCODE = 'W1012', DETAIL = format('no user named %s', p_username);
  END IF;
  RETURN found_id;
END
$$;

-- For login: the hash is readable only through this function, never through the table.
CREATE OR REPLACE FUNCTION wallet.user_credentials(p_username text)
RETURNS TABLE (user_id bigint, username text, password_hash text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT u.id, u.username, u.password_hash FROM wallet.users u WHERE lower(u.username) = lower(p_username)
$$;

-- available = balance - open, unexpired holds. The wallet's cached total is exact until its earliest hold
-- expires; past that, the unexpired ones are summed here (reads never write: expiry is written lazily).
CREATE OR REPLACE FUNCTION wallet.balance(p_user_id bigint)
RETURNS TABLE (user_id bigint, username text, balance numeric, available numeric)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = wallet, pg_temp
AS $$
  SELECT u.id, u.username, w.balance,
         w.balance - CASE WHEN w.holds_expire_at IS NULL OR w.holds_expire_at > clock_timestamp() THEN w.held
                          ELSE (SELECT coalesce(sum(h.amount), 0) FROM wallet.holds h
                                 WHERE h.sender_id = w.user_id AND h.status = 'open'
                                   AND h.expires_at > clock_timestamp()) END
    FROM wallet.users u JOIN wallet.wallets w ON w.user_id = u.id
   WHERE u.id = p_user_id
$$;
