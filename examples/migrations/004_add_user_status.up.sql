CREATE TYPE user_status AS ENUM ('active', 'suspended', 'deleted');

ALTER TABLE users
    ADD COLUMN status user_status NOT NULL DEFAULT 'active';
