/** Counters exposed by GET /_sim/stats. */

export class Stats {
  callsByEndpoint: Record<string, number> = {};
  callsByGroup: Record<string, number> = {};
  statusCodes: Record<string, number> = {};
  rateLimited429 = 0;
  injected503 = 0;
  injected429 = 0;
  ambiguousSends = 0;
  delayedAccepts = 0;
  injectedInvalidGrant = 0;
  faxesAccepted = 0;
  webhooksDelivered = 0;
  webhooksFailed = 0;
  webhooksDropped = 0;
  webhooksDuplicated = 0;
  webhooksDelayed = 0;
  webhooksReordered = 0;
  subscriptionsBlacklisted = 0;

  call(endpoint: string, group: string | undefined): void {
    this.callsByEndpoint[endpoint] = (this.callsByEndpoint[endpoint] ?? 0) + 1;
    if (group !== undefined) this.callsByGroup[group] = (this.callsByGroup[group] ?? 0) + 1;
  }

  status(code: number): void {
    const k = String(code);
    this.statusCodes[k] = (this.statusCodes[k] ?? 0) + 1;
  }

  toJSON(): Record<string, unknown> {
    return {
      callsByEndpoint: this.callsByEndpoint,
      callsByGroup: this.callsByGroup,
      statusCodes: this.statusCodes,
      rateLimited429: this.rateLimited429,
      injected503: this.injected503,
      injected429: this.injected429,
      ambiguousSends: this.ambiguousSends,
      delayedAccepts: this.delayedAccepts,
      injectedInvalidGrant: this.injectedInvalidGrant,
      faxesAccepted: this.faxesAccepted,
      webhooks: {
        delivered: this.webhooksDelivered,
        failed: this.webhooksFailed,
        dropped: this.webhooksDropped,
        duplicated: this.webhooksDuplicated,
        delayed: this.webhooksDelayed,
        reordered: this.webhooksReordered,
        blacklisted: this.subscriptionsBlacklisted,
      },
    };
  }
}
