/** POST .../fax: a new fax, a resend of a failed one, and the send faults (cut-off, accept-after). */
import { checkOwner, type Ctx } from './api-context';
import { ApiError, invalidParameter, messageTooLarge } from './errors';
import { MAX_FAX_BODY_BYTES, MAX_TOTAL_ATTACHMENT_BYTES, parseFaxRequest } from './fax-request';
import type { Fax } from './fax-store';
import { readBody, sendError, sendJson } from './http-util';
import { toSendResponse } from './message-record';

/**
 * The cover page RingCentral attaches when `coverIndex` is omitted is the account's default
 * ("configured in Outbound Fax Settings", FaxResponse.coverIndex in ringcentral-extensible); the
 * simulated account's default is template 1.
 */
export const DEFAULT_COVER_INDEX = 1;

export async function sendFax(ctx: Ctx): Promise<void> {
  checkOwner(ctx);
  const { sim, req, res, user } = ctx;
  const r = await readBody(req, MAX_FAX_BODY_BYTES);
  if (!r.ok) {
    sendError(res, messageTooLarge(MAX_TOTAL_ATTACHMENT_BYTES), { ...ctx.rateHeaders, Connection: 'close' });
    return;
  }
  const now = sim.scheduler.now();
  const parsed = parseFaxRequest(req.headers['content-type'], r.body, now, () => sim.store.newAttachmentId());
  let fax: Fax;
  if (parsed.originalMessageId !== undefined) {
    const orig = sim.store.get(user, parsed.originalMessageId);
    if (!orig) throw invalidParameter('originalMessageId');
    if (orig.messageStatus !== 'SendingFailed' && orig.messageStatus !== 'DeliveryFailed')
      throw new ApiError(
        406,
        'MSG-343',
        `Resend is not allowed for a message in status [${orig.messageStatus}]`,
        'originalMessageId',
      );
    const failed = orig.recipients.filter(
      (x) => x.messageStatus === 'SendingFailed' || x.messageStatus === 'DeliveryFailed',
    );
    fax = sim.store.create({
      user,
      recipients:
        parsed.recipients ??
        failed.map((x) =>
          x.name !== undefined
            ? { phoneNumber: x.phoneNumber, name: x.name }
            : { phoneNumber: x.phoneNumber },
        ),
      faxResolution: orig.faxResolution,
      coverIndex: orig.coverIndex,
      defaultCover: orig.defaultCover,
      coverPageText: orig.coverPageText,
      sendTime: parsed.sendTime,
      attachments: orig.attachments.map((a) => ({ ...a, id: sim.store.newAttachmentId() })),
      resendOf: orig.id,
    });
  } else {
    if (parsed.recipients === undefined) throw invalidParameter('to');
    if (parsed.attachments.length === 0 && parsed.coverIndex === 0)
      throw invalidParameter(
        'attachment',
        'Nothing to send: no attachments and no cover page (coverIndex 0)',
      );
    fax = sim.store.create({
      user,
      recipients: parsed.recipients,
      faxResolution: parsed.faxResolution,
      coverIndex: parsed.coverIndex ?? DEFAULT_COVER_INDEX,
      defaultCover: parsed.coverIndex === undefined,
      coverPageText: parsed.coverPageText,
      sendTime: parsed.sendTime,
      attachments: parsed.attachments,
    });
  }
  sim.stats.faxesAccepted++;
  const faults = sim.faults;
  if (faults.appliesTo('Heavy') && faults.roll(faults.config.ambiguousSendRate)) {
    // the fax is accepted and will transmit, but the client never hears about it
    sim.store.markAmbiguous(fax);
    sim.stats.ambiguousSends++;
    req.socket.destroy();
    return;
  }
  if (faults.config.acceptAfterMs > 0 && faults.roll(faults.config.acceptAfterRate)) {
    // accepted and transmitting already; only the answer is late, so a client timeout races a real fax
    sim.stats.delayedAccepts++;
    await sim.scheduler.sleepReal(faults.config.acceptAfterMs);
  }
  sendJson(res, 200, toSendResponse(fax, sim.url), ctx.rateHeaders);
}
