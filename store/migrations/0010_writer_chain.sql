-- The writer computes each event's link of the hash chain (store/chain.py, the same function
-- as events_link_hash) and sends it with the event, so the chain no longer costs the append
-- (docs/decisions/010). The database still chains a row sent without a hash (a tool, a bench
-- seed): the trigger fires only then. `kosh events --verify` recomputes every link with
-- events_link_hash, and signed checkpoints (decision 009) anchor the record outside the
-- database, so a writer's wrong link is found as any tampering is.
DROP TRIGGER events_hash_chain ON events;
CREATE TRIGGER events_hash_chain BEFORE INSERT ON events
    FOR EACH ROW WHEN (NEW.hash IS NULL) EXECUTE FUNCTION events_chain();
