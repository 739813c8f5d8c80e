-- Who read decrypted payloads (issue #20): the codec server writes one row per request and
-- workflow before it answers, so the ministry can say who looked at a person's file and when
-- (`kosh audit access`). workflow_id NULL: payloads sealed without a workflow stamp (before
-- stamps, or sealed outside any workflow). The log is evidence: rows are never changed.
CREATE TABLE codec_access_log (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    member      text        NOT NULL CHECK (member <> ''),
    via         text        NOT NULL CHECK (via IN ('staff_token', 'staff_session', 'oidc')),
    namespace   text        NOT NULL,
    workflow_id text,
    payloads    integer     NOT NULL CHECK (payloads > 0)
);
CREATE INDEX codec_access_log_by_workflow ON codec_access_log (workflow_id, at);
CREATE INDEX codec_access_log_by_member ON codec_access_log (member, at);
CREATE INDEX codec_access_log_by_time ON codec_access_log (at);

CREATE FUNCTION codec_access_log_unchanged() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the codec access log is append-only';
END
$$;
CREATE TRIGGER codec_access_log_unchanged BEFORE UPDATE OR DELETE ON codec_access_log
    FOR EACH ROW EXECUTE FUNCTION codec_access_log_unchanged();
