import type { DocumentRef } from '../storage/document-store';
import type { Db } from './schema';

/** Documents uploaded through `POST /v1/documents`, each visible to its tenant only. */

export interface V1Document extends DocumentRef {
  id: string;
  createdAt: Date;
}

export async function insertV1Document(
  db: Db,
  tenantId: string,
  id: string,
  ref: DocumentRef,
): Promise<Date> {
  const row = await db
    .insertInto('api_documents')
    .values({
      id,
      tenant_id: tenantId,
      sha256: ref.sha256,
      filename: ref.filename,
      content_type: ref.contentType,
      size_bytes: ref.size,
    })
    .returning('created_at')
    .executeTakeFirstOrThrow();
  return row.created_at;
}

/** The tenant's documents with these ids (those that are missing or someone else's are left out). */
export async function findV1Documents(
  db: Db,
  tenantId: string,
  ids: readonly string[],
): Promise<V1Document[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('api_documents')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', ids)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    sha256: r.sha256,
    size: r.size_bytes,
    filename: r.filename,
    contentType: r.content_type,
    createdAt: r.created_at,
  }));
}
