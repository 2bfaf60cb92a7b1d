/** The tenant that owns the environment's RingCentral credential and every job without a tenant. */
export const DEFAULT_TENANT_ID = 'default';

/** Tenant ids appear in workflow ids and URLs: short, lower-case, no separators that need escaping. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;
