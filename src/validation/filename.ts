/**
 * RingCentral refuses filenames with `& @ # $ % ^ *` and similar. Keep letters, digits, dot, dash,
 * underscore and space; force the extension that matches the detected content type.
 */
export function cleanFilename(name: string, extension: string): string {
  const base = name.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
  const cleaned = base
    .normalize('NFKD')
    .replace(/[^\w.\- ]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[ ._]+|[ ._]+$/g, '')
    .slice(0, 100);
  return `${cleaned || 'document'}.${extension}`;
}
