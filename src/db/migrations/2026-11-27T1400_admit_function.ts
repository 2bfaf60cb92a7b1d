import { sql, type Kysely } from 'kysely';

/**
 * The shared rate budget's two locked steps (src/db/rate-limiter.ts) as server-side functions, so
 * that each costs one round trip instead of seven (begin, lock, clock, prune, read, write, commit):
 * every RingCentral call takes a slot (`faxflow_admit`) and marks it in flight right before its
 * request leaves (`faxflow_dispatch_slot`). Semantics as documented on `admit` and `dispatchSlot`.
 *
 * `faxflow_slot_times`: where each slot of a bucket counts, newest first: its time, or now while
 * its request is in flight (RingCentral may count it any moment until it ends), for at most
 * `p_in_flight_max_ms`. Called after the bucket's lock and prune.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function faxflow_lock_bucket(
      p_bucket text, p_window_ms double precision, p_in_flight_max_ms double precision
    ) returns double precision
    language plpgsql as $$
    declare
      v_now double precision;
    begin
      -- Held until the calling statement's transaction ends, i.e. past the caller's writes.
      perform pg_advisory_xact_lock(hashtext(p_bucket));
      v_now := extract(epoch from clock_timestamp()) * 1000;
      -- Slots no window reaches any more (in flight: once they cannot count any longer either).
      delete from rate_limit_events e
        where e.bucket = p_bucket and e.at <= to_timestamp((v_now - p_window_ms) / 1000)
          and (not e.in_flight or e.at <= to_timestamp((v_now - p_window_ms - p_in_flight_max_ms) / 1000));
      return v_now;
    end $$`.execute(db);

  await sql`
    create or replace function faxflow_slot_times(
      p_bucket text, p_now double precision, p_in_flight_max_ms double precision, p_except bigint
    ) returns double precision[]
    language sql stable as $$
      select coalesce(array_agg(t order by t desc), '{}') from (
        select case when e.in_flight
          then greatest(extract(epoch from e.at) * 1000,
                        least(p_now, extract(epoch from e.at) * 1000 + p_in_flight_max_ms))
          else extract(epoch from e.at) * 1000 end as t
        from rate_limit_events e
        where e.bucket = p_bucket and (p_except is null or e.id <> p_except)
      ) s
    $$`.execute(db);

  await sql`
    create or replace function faxflow_admit(
      p_bucket text, p_limit integer, p_window_ms double precision, p_max_wait_ms double precision,
      p_in_flight_max_ms double precision
    ) returns table (admitted boolean, wait_ms bigint, retry_in_ms bigint, slot_id bigint)
    language plpgsql as $$
    declare
      v_now double precision := faxflow_lock_bucket(p_bucket, p_window_ms, p_in_flight_max_ms);
      v_times double precision[] := faxflow_slot_times(p_bucket, v_now, p_in_flight_max_ms, null);
      v_n integer := least(coalesce(array_length(v_times, 1), 0), p_limit);
      v_at double precision;
      v_wait bigint;
      v_id bigint;
    begin
      -- Fewer than p_limit slots in the live horizon: no window can be full, so now is fine.
      -- Otherwise the new slot goes after the newest one and a full window after the limit-th newest.
      if v_n < p_limit then
        v_at := v_now;
      else
        v_at := greatest(v_now, v_times[1], v_times[p_limit] + p_window_ms);
      end if;
      v_wait := greatest(0, ceil(v_at - v_now));
      if v_wait > p_max_wait_ms then
        return query select false, null::bigint, greatest(1, v_wait - ceil(p_max_wait_ms)::bigint), null::bigint;
        return;
      end if;
      insert into rate_limit_events (bucket, at) values (p_bucket, to_timestamp(v_at / 1000))
        returning id into v_id;
      return query select true, v_wait, null::bigint, v_id;
    end $$`.execute(db);

  await sql`
    create or replace function faxflow_dispatch_slot(
      p_bucket text, p_limit integer, p_window_ms double precision, p_max_wait_ms double precision,
      p_in_flight_max_ms double precision, p_slot bigint
    ) returns table (go boolean, wait_ms bigint, retry_in_ms bigint)
    language plpgsql as $$
    declare
      v_now double precision := faxflow_lock_bucket(p_bucket, p_window_ms, p_in_flight_max_ms);
      v_before double precision[];
      v_due double precision;
      v_wait bigint;
    begin
      -- The other slots that count by now (ended, in flight, or planned in the past), newest first.
      select coalesce(array_agg(t order by t desc), '{}') into v_before
        from unnest(faxflow_slot_times(p_bucket, v_now, p_in_flight_max_ms, p_slot)) t where t <= v_now;
      if coalesce(array_length(v_before, 1), 0) < p_limit then
        v_due := v_now;
      else
        v_due := v_before[p_limit] + p_window_ms;
      end if;
      v_wait := ceil(v_due - v_now);
      if v_wait <= 0 then
        update rate_limit_events set at = to_timestamp(v_now / 1000), in_flight = true where id = p_slot;
        return query select true, null::bigint, null::bigint;
      elsif v_wait > p_max_wait_ms then
        delete from rate_limit_events where id = p_slot;
        return query select false, null::bigint, greatest(1, v_wait - ceil(p_max_wait_ms)::bigint);
      else
        update rate_limit_events set at = to_timestamp(v_due / 1000) where id = p_slot;
        return query select false, v_wait, null::bigint;
      end if;
    end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists faxflow_dispatch_slot(text, integer, double precision, double precision, double precision, bigint)`.execute(
    db,
  );
  await sql`drop function if exists faxflow_admit(text, integer, double precision, double precision, double precision)`.execute(
    db,
  );
  await sql`drop function if exists faxflow_slot_times(text, double precision, double precision, bigint)`.execute(
    db,
  );
  await sql`drop function if exists faxflow_lock_bucket(text, double precision, double precision)`.execute(
    db,
  );
}
