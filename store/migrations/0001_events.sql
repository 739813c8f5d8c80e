-- The business record: one row per domain event, appended, never changed or removed.
-- (case_id, seq) gives optimistic concurrency; event_id makes a retried append a no-op;
-- position orders the whole log for rebuilding projections.
CREATE TABLE events (
    position        bigint      GENERATED ALWAYS AS IDENTITY,
    case_id         text        NOT NULL,
    seq             integer     NOT NULL CHECK (seq > 0),
    event_id        text        NOT NULL,
    type            text        NOT NULL,
    schema_version  integer     NOT NULL,
    policy_id       text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    payload         jsonb       NOT NULL,
    idempotency_key text,
    PRIMARY KEY (case_id, seq),
    CONSTRAINT events_position_key UNIQUE (position),
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);

CREATE INDEX events_type_idx ON events (type, position);
CREATE INDEX events_idempotency_key_idx ON events (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Append-only in the database itself, not only by convention in the code.
CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
