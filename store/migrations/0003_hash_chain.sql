-- A tamper-evident record: every event carries the hash of its own content chained to the
-- hash of the case's previous event. Computed by the database on insert, so no writer can
-- forget it; `kosh events verify` recomputes the chains and names the first broken link.
ALTER TABLE events ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea;

-- The canonical content of an event: every stored column that says what happened (jsonb's
-- text form is canonical: keys sorted, whitespace normalised), joined with '|'.
CREATE FUNCTION events_link_hash(prev bytea, e events) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(convert_to(
        coalesce(encode(prev, 'hex'), '-') || '|' || e.case_id || '|' || e.seq::text || '|'
        || e.event_id || '|' || e.type || '|' || e.schema_version::text || '|' || e.policy_id
        || '|' || to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
        || '|' || coalesce(e.idempotency_key, '-') || '|' || e.payload::text,
        'UTF8'))
$$;

CREATE FUNCTION events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- rows inserted earlier by the same statement are visible here (a batch chains in order)
    SELECT hash INTO NEW.prev_hash FROM events WHERE case_id = NEW.case_id AND seq = NEW.seq - 1;
    NEW.hash := events_link_hash(NEW.prev_hash, NEW);
    RETURN NEW;
END
$$;

-- Chain the events already stored, case by case in order (the guard is lifted for this
-- migration's own transaction only).
ALTER TABLE events DISABLE TRIGGER events_append_only;
DO $$
DECLARE
    r events;
    prev bytea;
    current_case text;
BEGIN
    FOR r IN SELECT * FROM events ORDER BY case_id, seq LOOP
        IF current_case IS DISTINCT FROM r.case_id THEN
            prev := NULL;
            current_case := r.case_id;
        END IF;
        UPDATE events SET prev_hash = prev, hash = events_link_hash(prev, r)
        WHERE case_id = r.case_id AND seq = r.seq;
        prev := events_link_hash(prev, r);
    END LOOP;
END
$$;
ALTER TABLE events ENABLE TRIGGER events_append_only;
ALTER TABLE events ALTER COLUMN hash SET NOT NULL;

CREATE TRIGGER events_hash_chain BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_chain();
