-- The one-statement append (store.events): the events, their payments and the case row are
-- written by one statement, which commits alone. This guard is its last step: when any part
-- found the record other than the writer read it (another writer appended first, a payment
-- key is taken), it raises, so the statement and everything it wrote roll back, and the writer
-- takes the transactional path, which names the conflict.
CREATE FUNCTION kosh_append_guard(ok boolean, p_case_id text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT ok THEN
        RAISE EXCEPTION 'the one-statement append to % found the record moved', p_case_id
            USING ERRCODE = 'KA001';
    END IF;
    RETURN true;
END
$$;

-- A case's state (a few KiB of jsonb) is rewritten at every append: kept out of line without
-- compression, so no append spends its time compressing it.
ALTER TABLE cases ALTER COLUMN state SET STORAGE EXTERNAL;
