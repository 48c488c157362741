-- What the engine concluded about each incident, apart from what the simulator did.
--
-- diagnosis: the engine's conclusion from metrics, logs and topology alone: {"type" (one of
-- the catalogue's or "unknown"), "confidence", "hypotheses", "root_server", "affected",
-- "onset_bucket", "evidence": {"metrics", "logs"}, "summary_en", "summary_ko", "attempts"}.
-- scenario: the simulator's ground truth behind it ({"incidents": [{"id", "type", "targets",
-- "start_bucket"}]}), kept for the demo and the evaluation; the engine never decides on it.
-- lib/store/sqlite_repository.py keeps the same columns for the embedded default.

alter table public.incidents
    add column if not exists diagnosis jsonb not null default '{}',
    add column if not exists scenario jsonb not null default '{}';
