-- Web Push subscriptions: what each browser wants to hear about, and how delivery to it goes.
--
-- 0001 created the table with the keys and a minimum level; the fan-out (lib/push) also needs
-- the subscriber's language, the servers/roles/regions it cares about (empty: all), and a
-- record of failed deliveries (a 404/410 from the push service deletes the row instead).
-- lib/store/sqlite_repository.py keeps the same columns for the embedded default.

alter table public.push_subscriptions
    add column if not exists lang text not null default 'en',
    add column if not exists servers text[] not null default '{}',
    add column if not exists roles text[] not null default '{}',
    add column if not exists regions text[] not null default '{}',
    add column if not exists failures integer not null default 0,
    add column if not exists last_error text,
    add column if not exists last_sent_at timestamptz;

alter table public.push_subscriptions
    drop constraint if exists push_subscriptions_lang_check,
    add constraint push_subscriptions_lang_check check (lang in ('ko', 'en')),
    drop constraint if exists push_subscriptions_failures_check,
    add constraint push_subscriptions_failures_check check (failures >= 0),
    drop constraint if exists push_subscriptions_endpoint_check,
    add constraint push_subscriptions_endpoint_check
        check (endpoint ~ '^https?://\S+$' and length(endpoint) <= 2048);

-- The fan-out lists subscriptions by the levels they admit, oldest first.
create index if not exists push_subscriptions_level_idx
    on public.push_subscriptions (min_level, created_at);

-- The keys are secrets of the subscriber's browser: only the service role (which bypasses
-- RLS) reads them. RLS on with no policy denies anon and authenticated; revoking their grants
-- as well means a policy added by mistake later still exposes nothing. Supabase creates these
-- roles; a bare PostgreSQL (the test fixtures) may not have them.
alter table public.push_subscriptions enable row level security;
alter table public.push_subscriptions force row level security;
do $$
declare
    r text;
begin
    foreach r in array array['anon', 'authenticated'] loop
        if exists (select 1 from pg_roles where rolname = r) then
            execute format('revoke all on table public.push_subscriptions from %I', r);
        end if;
    end loop;
end
$$;
