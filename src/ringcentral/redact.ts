/** How many issued tokens to remember: enough for the sessions one process goes through in a while. */
const MAX_REMEMBERED = 32;

/** Shortest string treated as a secret: shorter ones would mangle ordinary words. */
const MIN_SECRET_LENGTH = 8;

const JWT_SHAPE = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g;
const AUTH_HEADER = /\b(Bearer|Basic)\s+[\w\-.~+/=]+/gi;

export interface Redactor {
  (text: string): string;
  /** Remembers more secrets (tokens issued later). */
  add(...secrets: (string | undefined)[]): void;
}

/**
 * Removes the credential's secrets and every token seen from text that goes into errors and logs:
 * RingCentral's error bodies are free text and may echo what they were sent.
 */
export function createRedactor(fixed: string[]): Redactor {
  const permanent = fixed.filter((s) => s.length >= MIN_SECRET_LENGTH);
  const remembered: string[] = [];
  const redact = ((text: string) => {
    let out = text;
    for (const secret of [...permanent, ...remembered]) out = out.split(secret).join('[redacted]');
    return out.replace(JWT_SHAPE, '[redacted]').replace(AUTH_HEADER, '$1 [redacted]');
  }) as Redactor;
  redact.add = (...secrets) => {
    for (const secret of secrets) {
      if (!secret || secret.length < MIN_SECRET_LENGTH || remembered.includes(secret)) continue;
      remembered.push(secret);
      if (remembered.length > MAX_REMEMBERED) remembered.shift();
    }
  };
  return redact;
}
