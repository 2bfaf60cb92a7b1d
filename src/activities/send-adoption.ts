import type { FaxMessage } from '../ringcentral/types';

/** What an attempt knows about the fax it may have sent. */
export interface SentFaxShape {
  recipient: string;
  /** The attempt's search window: from when its lease was first taken until now. */
  windowFrom: Date;
  /** Filenames of the uploaded documents, in order. */
  filenames: string[];
  /** Pages of the documents (our own cover page included), when validation counted them. */
  pages?: number | undefined;
  /** As sent: 0 means no RingCentral cover page, a template adds one page, omitted is the account's default. */
  coverIndex?: number | undefined;
}

export type AdoptionVerdict =
  { kind: 'none' } | { kind: 'adopt'; fax: FaxMessage } | { kind: 'ambiguous'; evidence: AdoptionEvidence[] };

export interface AdoptionEvidence {
  messageId: string;
  creationTime: string;
  faxPageCount: number;
  fileNames: (string | undefined)[];
  coverIndex?: number | undefined;
}

/** Clock skew allowed between the database's clock and RingCentral's `creationTime`. */
export const ADOPTION_SKEW_MS = 2_000;

/**
 * Decides which of the unclaimed outbound faxes (if any) an attempt's cut-off send produced.
 * RingCentral has no idempotency key, so a fax is ours only when everything we can compare agrees:
 * recipient, the attempt's window, the files (names and count), the cover page and, once RingCentral
 * has rendered it, the page count. A fax someone sent by hand from the same extension differs in
 * at least one of these. Two that agree equally cannot be told apart: that is for a person.
 */
export function judgeCandidates(unclaimed: FaxMessage[], shape: SentFaxShape, now: Date): AdoptionVerdict {
  const from = shape.windowFrom.getTime() - ADOPTION_SKEW_MS;
  const to = now.getTime() + ADOPTION_SKEW_MS;
  const matching = unclaimed.filter((fax) => {
    const created = Date.parse(fax.creationTime);
    return (
      created >= from &&
      created <= to &&
      fax.availability !== 'Purged' &&
      fax.to.length === 1 &&
      fax.to[0]!.phoneNumber === shape.recipient &&
      sameFiles(fax, shape) &&
      sameCover(fax, shape) &&
      samePages(fax, shape)
    );
  });
  if (matching.length === 0) return { kind: 'none' };
  if (matching.length === 1 && identified(matching[0]!, shape)) return { kind: 'adopt', fax: matching[0]! };
  return {
    kind: 'ambiguous',
    evidence: matching.map((f) => ({
      messageId: f.id,
      creationTime: f.creationTime,
      faxPageCount: f.faxPageCount,
      fileNames: (f.attachments ?? []).map((a) => a.fileName),
      coverIndex: f.coverIndex,
    })),
  };
}

function sameFiles(fax: FaxMessage, shape: SentFaxShape): boolean {
  if (!fax.attachments) return true;
  if (fax.attachments.length !== shape.filenames.length) return false;
  const names = fax.attachments.map((a) => a.fileName);
  if (names.some((n) => n === undefined)) return true;
  return [...names].sort().join('\n') === [...shape.filenames].sort().join('\n');
}

function sameCover(fax: FaxMessage, shape: SentFaxShape): boolean {
  if (fax.coverIndex === undefined || shape.coverIndex === undefined) return true;
  return fax.coverIndex === shape.coverIndex;
}

/** RingCentral reports 0 pages until it has rendered the fax: then the count says nothing yet. */
function samePages(fax: FaxMessage, shape: SentFaxShape): boolean {
  if (fax.faxPageCount <= 0 || shape.pages === undefined) return true;
  const cover = fax.coverIndex ?? shape.coverIndex;
  if (cover === 0) return fax.faxPageCount === shape.pages;
  if (cover !== undefined) return fax.faxPageCount === shape.pages + 1;
  return fax.faxPageCount === shape.pages || fax.faxPageCount === shape.pages + 1;
}

/** Enough agrees to call it ours: the filenames, or the page count, were actually compared. */
function identified(fax: FaxMessage, shape: SentFaxShape): boolean {
  const namesCompared =
    fax.attachments !== undefined &&
    fax.attachments.length > 0 &&
    fax.attachments.every((a) => a.fileName !== undefined);
  const pagesCompared = fax.faxPageCount > 0 && shape.pages !== undefined;
  return namesCompared || pagesCompared;
}
