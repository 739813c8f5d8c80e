-- Two roles for the phased rollout (issue #22): a policy officer publishes a draft as a
-- version into the record (`kosh policy publish`: the stream `policy-versions`, with who and
-- when); an analyst reads the regions' picture (`kosh report`, the console's analyst pages).
ALTER TABLE staff DROP CONSTRAINT staff_roles_check;
ALTER TABLE staff ADD CONSTRAINT staff_roles_check
    CHECK (roles <@ ARRAY['interviewer', 'case_officer', 'operator', 'agency_feed',
                          'policy_officer', 'analyst']::text[]);
