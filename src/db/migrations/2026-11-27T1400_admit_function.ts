import { sql, type Kysely } from 'kysely';

/**
 * `faxflow_admit`: the shared rate budget's check-and-reserve (src/db/rate-limiter.ts) as one
 * server-side function, so that admitting a call costs one round trip instead of seven (begin,
 * lock, clock, prune, read, insert, commit). Every RingCentral call goes through it; at a few
 * hundred faxes a minute those round trips were a tenth of the pipeline's database work.
 * The semantics are those of the TypeScript version it replaces, step for step.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function faxflow_admit(
      p_bucket text, p_limit integer, p_window_ms double precision, p_max_wait_ms double precision
    ) returns table (admitted boolean, wait_ms bigint, retry_in_ms bigint)
    language plpgsql as $$
    declare
      v_now double precision;
      v_times double precision[];
      v_at double precision;
      v_wait bigint;
    begin
      -- Held until the calling statement's transaction ends, i.e. past the insert below.
      perform pg_advisory_xact_lock(hashtext(p_bucket));
      v_now := extract(epoch from clock_timestamp()) * 1000;
      delete from rate_limit_events e
        where e.bucket = p_bucket and e.at <= to_timestamp((v_now - p_window_ms) / 1000);
      -- The last p_limit slots given out (reservations may lie in the future), newest first.
      select array_agg(r.t order by r.t desc) into v_times from (
        select extract(epoch from e.at) * 1000 as t from rate_limit_events e
        where e.bucket = p_bucket order by e.at desc limit p_limit
      ) r;
      if coalesce(array_length(v_times, 1), 0) < p_limit then
        v_at := v_now;
      else
        v_at := greatest(v_now, v_times[1], v_times[array_length(v_times, 1)] + p_window_ms);
      end if;
      v_wait := greatest(0, ceil(v_at - v_now));
      if v_wait > p_max_wait_ms then
        return query select false, null::bigint, greatest(1, v_wait - ceil(p_max_wait_ms)::bigint);
        return;
      end if;
      insert into rate_limit_events (bucket, at) values (p_bucket, to_timestamp(v_at / 1000));
      return query select true, v_wait, null::bigint;
    end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists faxflow_admit(text, integer, double precision, double precision)`.execute(
    db,
  );
}
