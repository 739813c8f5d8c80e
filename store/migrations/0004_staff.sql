-- The staff registry: who may act on cases, in which roles. The workflow checks an actor here
-- (through an activity) before it accepts an interview outcome or a referral decision.
CREATE TABLE staff (
    staff_id    text        PRIMARY KEY CHECK (staff_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    roles       text[]      NOT NULL
                CHECK (roles <@ ARRAY['interviewer', 'case_officer', 'operator']::text[]),
    active      boolean     NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
