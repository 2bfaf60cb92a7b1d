/** RingCentral's documented limits for one fax (all attachments together). */
export const MAX_TOTAL_BYTES = 50 * 1024 * 1024;
export const MAX_TOTAL_PAGES = 200;
export const MAX_COVER_PAGE_TEXT = 1024;
