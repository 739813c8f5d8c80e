-- Projections: derived from the events, updated in the append's transaction,
-- rebuildable at any time from the log (store.projections.rebuild_projections).

-- One row per case: the folded domain state plus the columns staff filter on.
CREATE TABLE cases (
    case_id            text        PRIMARY KEY,
    track              text,
    stage              text        NOT NULL,
    region             text,
    policy_id          text        NOT NULL,
    score              integer,
    decision           text,
    contract_starts_on date,
    contract_ends_on   date,
    closed_reason      text,
    paid_tiyn          bigint      NOT NULL,
    outstanding_tiyn   bigint      NOT NULL,
    last_seq           integer     NOT NULL,
    updated_at         timestamptz NOT NULL,
    state              jsonb       NOT NULL
);

CREATE INDEX cases_stage_idx ON cases (stage, track, region);
CREATE INDEX cases_updated_idx ON cases (updated_at DESC, case_id);

-- Regional quota places per year. The conditional UPDATE on this row is the reservation's lock.
CREATE TABLE quota_ledger (
    region   text    NOT NULL,
    year     integer NOT NULL,
    capacity integer NOT NULL CHECK (capacity >= 0),
    reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    released integer NOT NULL DEFAULT 0 CHECK (released >= 0),
    PRIMARY KEY (region, year)
);

-- Money moved: support paid out and repayments received, one row per payment key.
CREATE TABLE payments (
    idempotency_key text        PRIMARY KEY,
    case_id         text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('disbursement', 'repayment')),
    measure         text,
    period          text,
    amount_tiyn     bigint      NOT NULL,
    reference       text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    position        bigint      NOT NULL UNIQUE REFERENCES events (position)
);

CREATE INDEX payments_case_idx ON payments (case_id, position);

-- Repayment still owed by a case (demanded minus repaid, never negative; 0 if unknown).
CREATE FUNCTION balance_owed(p_case_id text) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT outstanding_tiyn FROM cases WHERE case_id = p_case_id), 0)
$$;
