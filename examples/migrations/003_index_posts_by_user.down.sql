-- pg-migrate: no-transaction
DROP INDEX CONCURRENTLY IF EXISTS posts_user_id_created_at_idx;
