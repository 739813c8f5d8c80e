-- Staff sign in with a token the registry issues (`kosh staff token`); only its SHA-256 is
-- kept. NULL: the member cannot sign in (agency feeds never do).
ALTER TABLE staff ADD COLUMN token_hash text CHECK (token_hash ~ '^[0-9a-f]{64}$');

-- Agency feeds: the systems whose notices record facts on a case (the address registry's
-- registrations, the treasury's repayments). They act through the callback receiver, are
-- checked by the case like any member, and an operator can deactivate one.
ALTER TABLE staff DROP CONSTRAINT staff_roles_check;
ALTER TABLE staff ADD CONSTRAINT staff_roles_check
    CHECK (roles <@ ARRAY['interviewer', 'case_officer', 'operator', 'agency_feed']::text[]);

INSERT INTO staff (staff_id, roles) VALUES
    ('feed.address-registry', ARRAY['agency_feed']),
    ('feed.treasury', ARRAY['agency_feed'])
ON CONFLICT (staff_id) DO NOTHING;
