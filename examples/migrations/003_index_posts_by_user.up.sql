-- pg-migrate: no-transaction
-- Built concurrently so that writes to posts are never blocked: this cannot
-- run inside a transaction, hence the marker on the first line.
CREATE INDEX CONCURRENTLY IF NOT EXISTS posts_user_id_created_at_idx
    ON posts (user_id, created_at DESC);
