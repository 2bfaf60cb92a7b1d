import { sql, type Kysely } from 'kysely';

/**
 * The send claim (src/db/fax-attempts.ts `claimSend`) as one server-side function, so that it costs
 * one round trip instead of eight (the job's ownership read, the attempt's insert, begin, the
 * number lock, the attempt read, the same-number read, the lease write, commit): issue 13. Its
 * steps and their order are those of the TypeScript it replaced:
 *
 * 1. when `p_check_owner`: the job row must exist and be this workflow's run (`not_own` otherwise,
 *    with the row's workflow and run for the message; nothing is written);
 * 2. the attempt row is opened, or an earlier execution's is found: `recorded` when it holds a
 *    message id; `opened` when the caller asked for no lease (its connection failed);
 * 3. under the (credential, recipient) advisory lock and the attempt's row lock: `recorded`;
 *    `own_wait` while another execution's lease of this attempt plus the settle delay runs;
 *    `same_number` while another attempt to the number is unresolved; else the lease is taken
 *    (`acquired`), opening the search window afresh unless an earlier execution may have sent.
 *
 * Times are the database's `now()` (the statement's start, as the transaction's was before). Lease
 * comparisons are in whole milliseconds, as the JavaScript Dates they replaced compared them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function faxflow_claim_send(
      p_job_id text, p_attempt_no integer,
      p_check_owner boolean, p_workflow_id text, p_run_id text,
      p_lease boolean, p_credential_key text, p_recipient text, p_token text,
      p_lease_ms double precision, p_settle_ms double precision, p_abandoned_ms double precision
    ) returns table (
      outcome text, owner_workflow_id text, owner_run_id text, message_id text,
      now timestamptz, lease_until timestamptz, started_at timestamptz, may_have_sent boolean,
      other_job_id text, other_attempt_no integer, other_lease_until timestamptz,
      other_started_at timestamptz
    )
    language plpgsql as $$
    #variable_conflict use_column
    declare
      v_now timestamptz := now();
      v_job record;
      v_row record;
      v_other record;
      v_may boolean;
    begin
      if p_check_owner then
        select j.workflow_id, j.workflow_run_id into v_job from fax_jobs j where j.id = p_job_id;
        if not found then
          return query select 'not_own'::text, null::text, null::text, null::text, v_now,
            null::timestamptz, null::timestamptz, null::boolean, null::text, null::integer,
            null::timestamptz, null::timestamptz;
          return;
        end if;
        if (p_workflow_id is not null and v_job.workflow_id is distinct from p_workflow_id)
          or (v_job.workflow_run_id is not null and v_job.workflow_run_id is distinct from p_run_id) then
          return query select 'not_own'::text, v_job.workflow_id::text, v_job.workflow_run_id::text,
            null::text, v_now, null::timestamptz, null::timestamptz, null::boolean, null::text,
            null::integer, null::timestamptz, null::timestamptz;
          return;
        end if;
      end if;

      insert into fax_attempts (job_id, attempt_no, status, started_at)
        values (p_job_id, p_attempt_no, 'Sending', v_now)
        on conflict (job_id, attempt_no) do nothing;
      select a.message_id into v_row from fax_attempts a
        where a.job_id = p_job_id and a.attempt_no = p_attempt_no;
      if v_row.message_id is not null or not p_lease then
        return query select case when v_row.message_id is not null then 'recorded' else 'opened' end,
          null::text, null::text, v_row.message_id::text, v_now, null::timestamptz, null::timestamptz,
          null::boolean, null::text, null::integer, null::timestamptz, null::timestamptz;
        return;
      end if;

      -- Held until this statement's transaction ends, i.e. past the lease write below.
      perform pg_advisory_xact_lock(hashtextextended(p_credential_key || '|' || p_recipient, 0));
      select a.status, a.message_id, a.lease_token, a.lease_until, a.started_at into v_row
        from fax_attempts a
        where a.job_id = p_job_id and a.attempt_no = p_attempt_no
        for update;
      if v_row.message_id is not null then
        return query select 'recorded'::text, null::text, null::text, v_row.message_id::text, v_now,
          null::timestamptz, null::timestamptz, null::boolean, null::text, null::integer,
          null::timestamptz, null::timestamptz;
        return;
      end if;
      if v_row.lease_token is not null and v_row.lease_token <> p_token and v_row.lease_until is not null
        and floor(extract(epoch from v_row.lease_until) * 1000) + p_settle_ms
          > floor(extract(epoch from v_now) * 1000) then
        return query select 'own_wait'::text, null::text, null::text, null::text, v_now,
          v_row.lease_until, v_row.started_at, null::boolean, null::text, null::integer,
          null::timestamptz, null::timestamptz;
        return;
      end if;

      select a.job_id, a.attempt_no, a.lease_until, a.started_at into v_other
        from fax_attempts a
        where a.credential_key = p_credential_key and a.recipient = p_recipient
          and a.status = 'Sending' and a.lease_token is not null
          and not (a.job_id = p_job_id and a.attempt_no = p_attempt_no)
          and a.lease_until > v_now - make_interval(secs => p_abandoned_ms / 1000)
        order by a.lease_until desc
        limit 1;
      if found then
        return query select 'same_number'::text, null::text, null::text, null::text, v_now,
          null::timestamptz, null::timestamptz, null::boolean, v_other.job_id::text,
          v_other.attempt_no::integer, v_other.lease_until, v_other.started_at;
        return;
      end if;

      v_may := v_row.status = 'Sending' and v_row.lease_token is not null;
      update fax_attempts a set
          status = 'Sending',
          lease_token = p_token,
          lease_until = v_now + make_interval(secs => p_lease_ms / 1000),
          credential_key = p_credential_key,
          recipient = p_recipient,
          -- A send that provably never happened (or never began) opens its search window afresh.
          started_at = case when v_may then a.started_at else v_now end
        where a.job_id = p_job_id and a.attempt_no = p_attempt_no;
      return query select 'acquired'::text, null::text, null::text, null::text, v_now, null::timestamptz,
        case when v_may then v_row.started_at else v_now end, v_may, null::text, null::integer,
        null::timestamptz, null::timestamptz;
    end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists faxflow_claim_send(text, integer, boolean, text, text, boolean, text, text, text, double precision, double precision, double precision)`.execute(
    db,
  );
}
