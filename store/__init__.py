"""The app database: the append-only event log (events), its projections (projections,
queries), migrations (migrate), the pool (pool) and the embedded server (embedded)."""
