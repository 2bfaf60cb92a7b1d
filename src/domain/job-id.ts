/** Job ids (and idempotency keys): 1-128 letters, digits, '.', '_', ':' or '-', starting alphanumeric. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
