-- OpenManager history: what people query after the fact.
--
-- Written by the serverless functions with the service-role key through PostgREST
-- (lib/store/supabase_repository.py); lib/store/sqlite_repository.py keeps the same tables
-- for the embedded default. Times are timestamptz (UTC on the wire) so range queries and
-- retention deletes compare instants, never local wall times.
--
-- Row level security is enabled on every table with no policies on purpose: the service role
-- bypasses RLS, and the anon/authenticated keys (which a browser could hold) must read and
-- write nothing. The dashboard reaches history only through our API.
--
-- No foreign keys between tables: alerts, incidents and rollups are written independently
-- (and replayed by the outbox after an outage, in any order), and retention deletes each
-- table on its own schedule.

-- One row per server per minute; avg/max map each metric name to its value over the minute.
create table if not exists public.metric_rollups (
    server_id text not null,
    minute timestamptz not null,
    samples integer not null check (samples > 0),
    avg jsonb not null,
    max jsonb not null,
    primary key (server_id, minute)
);
-- The primary key serves per-server ranges; this one serves fleet-wide ranges and retention.
create index if not exists metric_rollups_minute_idx on public.metric_rollups (minute);

create table if not exists public.incidents (
    id text primary key,
    type text not null,
    servers text[] not null default '{}',
    root_server text,
    status text not null
        check (status in ('active', 'recovering', 'recovered', 'escalated', 'resolved')),
    started_at timestamptz not null,
    detected_at timestamptz,
    recovery_attempted_at timestamptz,
    recovered_at timestamptz,
    escalated_at timestamptz,
    resolved_at timestamptz,
    resolved_by text,
    strategy text,
    -- [{"at": iso8601, "event": text, "reason": text|null}, ...] in time order
    timeline jsonb not null default '[]'
);
create index if not exists incidents_started_idx on public.incidents (started_at desc, id desc);
create index if not exists incidents_status_idx on public.incidents (status, started_at desc);
create index if not exists incidents_type_idx on public.incidents (type, started_at desc);
create index if not exists incidents_servers_idx on public.incidents using gin (servers);

-- id is derived from (incident, server, metric, bucket) by the writer, so racing writers collide.
create table if not exists public.alerts (
    id text primary key,
    incident_id text,
    server_id text not null,
    metric text not null,
    level text not null check (level in ('info', 'warning', 'error', 'critical')),
    state text not null check (state in ('pending', 'firing', 'resolved', 'acknowledged')),
    value double precision not null,
    threshold double precision not null,
    fired_at timestamptz not null,
    resolved_at timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text,
    message text not null default ''
);
create index if not exists alerts_fired_idx on public.alerts (fired_at desc, id desc);
create index if not exists alerts_server_idx on public.alerts (server_id, fired_at desc);
create index if not exists alerts_state_idx on public.alerts (state, fired_at desc);
create index if not exists alerts_incident_idx on public.alerts (incident_id)
    where incident_id is not null;

create table if not exists public.push_subscriptions (
    endpoint text primary key,
    p256dh text not null,
    auth text not null,
    label text,
    min_level text not null check (min_level in ('info', 'warning', 'error', 'critical')),
    created_at timestamptz not null
);

create table if not exists public.audit_log (
    id uuid primary key,
    at timestamptz not null,
    actor text not null,
    role text not null,
    action text not null,
    target text,
    client_ip text,
    details jsonb not null default '{}'
);
create index if not exists audit_log_at_idx on public.audit_log (at desc, id desc);
create index if not exists audit_log_actor_idx on public.audit_log (actor, at desc);
create index if not exists audit_log_action_idx on public.audit_log (action, at desc);

create table if not exists public.ai_transcripts (
    id text primary key,
    at timestamptz not null,
    question text not null,
    answer text not null,
    engine text not null,
    lang text not null,
    latency_ms integer not null check (latency_ms >= 0),
    meta jsonb not null default '{}'
);
create index if not exists ai_transcripts_at_idx on public.ai_transcripts (at desc, id desc);

alter table public.metric_rollups enable row level security;
alter table public.incidents enable row level security;
alter table public.alerts enable row level security;
alter table public.push_subscriptions enable row level security;
alter table public.audit_log enable row level security;
alter table public.ai_transcripts enable row level security;
