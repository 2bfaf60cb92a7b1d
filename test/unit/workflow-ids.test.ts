import { describe, expect, it } from 'vitest';
import { broadcastWorkflowId, faxWorkflowId, legacyFaxWorkflowId } from '../../src/contracts/workflow-ids';

describe('workflow ids scoped per tenant', () => {
  it('puts the tenant in every job id, `default` when none is given', () => {
    expect(faxWorkflowId('inv-1', 'acme')).toBe('fax-acme-inv-1');
    expect(faxWorkflowId('inv-1')).toBe('fax-default-inv-1');
    expect(broadcastWorkflowId('b1', 'acme')).toBe('broadcast-acme-b1');
  });

  it('gives two tenants that use the same key two ids', () => {
    expect(faxWorkflowId('inv-1', 'acme')).not.toBe(faxWorkflowId('inv-1', 'globex'));
  });

  it('names a job by its scoped id, and by the id jobs had before tenants', () => {
    expect(faxWorkflowId('inv-1', 'acme')).toBe('fax-acme-inv-1');
    expect(legacyFaxWorkflowId('inv-1')).toBe('fax-inv-1');
  });

  it('can spell one id for two (tenant, key) pairs: why lookups check the tenant', () => {
    expect(faxWorkflowId('eu-1', 'acme')).toBe(faxWorkflowId('1', 'acme-eu'));
  });
});
