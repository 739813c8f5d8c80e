-- The employer's work-permit path (#12). Its events share the log with the applicants'
-- (streams named labour-<request id>, same hash chain); these are its projections, updated in
-- the append's transaction and rebuildable from the log like the others.

-- One row per labour request: its folded state and the columns staff filter on. The employer
-- appears hashed (employer_key), as in the Temporal UI; the BIN stays in the state.
CREATE TABLE labour_requests (
    request_id    text        PRIMARY KEY,
    employer_key  text        NOT NULL,
    industry      text        NOT NULL,
    region        text        NOT NULL,
    project       text        NOT NULL DEFAULT '',
    stage         text        NOT NULL,
    closed_reason text,
    last_seq      integer     NOT NULL,
    updated_at    timestamptz NOT NULL,
    state         jsonb       NOT NULL
);

CREATE INDEX labour_requests_stage_idx ON labour_requests (stage, industry, region);

-- Foreign-labour places per year: an industry in a region, or a named project (project ''
-- for the industry's own line). The conditional UPDATE on this row is the reservation's lock,
-- as for the kandas places in quota_ledger.
CREATE TABLE labour_quota_ledger (
    industry text    NOT NULL,
    region   text    NOT NULL,
    project  text    NOT NULL DEFAULT '',
    year     integer NOT NULL,
    capacity integer NOT NULL CHECK (capacity >= 0),
    reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    released integer NOT NULL DEFAULT 0 CHECK (released >= 0),
    PRIMARY KEY (industry, region, project, year)
);

-- Employers made liable: fines imposed and the date their quota rights come back. A request
-- from an employer suspended on the day it would reserve a place is refused by the record.
CREATE TABLE employer_sanctions (
    employer_id     text   PRIMARY KEY,
    fines_tiyn      bigint NOT NULL DEFAULT 0 CHECK (fines_tiyn >= 0),
    suspended_until date   NOT NULL
);
