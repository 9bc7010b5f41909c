-- Development users. OVERRIDING SYSTEM VALUE keeps the ids stable so the CSV
-- of posts can refer to them.
INSERT INTO users (id, email, name)
OVERRIDING SYSTEM VALUE
VALUES
    (1, 'ada@example.com',   'Ada Lovelace'),
    (2, 'grace@example.com', 'Grace Hopper'),
    (3, 'edsger@example.com','Edsger Dijkstra')
ON CONFLICT (id) DO NOTHING;

SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users));
