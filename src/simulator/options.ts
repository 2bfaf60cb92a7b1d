/** Options accepted by startSimulator and their resolved (defaulted) form. */
import { DEFAULT_STATUS_MODEL, STATUS_MODELS, type StatusModel } from './outcomes';
import { scenarioStatusModel } from './scenarios';

/** What an extension may do, so permission errors can be produced on demand. */
export interface UserFlags {
  /** fax sends answer 403 with this code (MSG-340: extension type, MSG-341: extension not allowed) */
  faxSendBlocked?: 'MSG-340' | 'MSG-341';
  /** app permissions the app lacks for this user: calls needing one answer 403 CMN-401 */
  missingAppScopes?: string[];
  /** user permissions the extension lacks: calls needing one answer 403 CMN-408 */
  missingUserPermissions?: string[];
}

export interface SimulatorUser {
  /** JWT assertion that logs this user in. */
  jwt: string;
  name?: string;
  /** The fax number the extension sends from (E.164). */
  phoneNumber?: string;
  /** overrides the simulator's statusModel for this user */
  statusModel?: StatusModel;
  flags?: UserFlags;
}

/** Another RingCentral account (a customer): its own extensions, message stores and budgets. */
export interface SimulatorAccount {
  /** Default: 400100002, 400100003, ... in order. */
  id?: string;
  name?: string;
  users: SimulatorUser[];
}

export interface SimulatorOptions {
  /** 0 = random free port (default 0) */
  port?: number;
  /** default '127.0.0.1' */
  host?: string;
  /**
   * Multiplies every simulated duration (rate-limit windows, penalties, transmission, token TTLs,
   * subscription lifetimes, sendTime holds). 1 = real time. Default 1.
   */
  timeScale?: number;
  /** Transmission time per page for ordinary numbers, in SIMULATED ms before timeScale. Default 60_000. */
  msPerPage?: number;
  /** Default true. */
  rateLimits?: boolean;
  clientId?: string;
  clientSecret?: string;
  jwt?: string;
  /** Extra users (extensions of the same account), each logged in with its own JWT. */
  extraUsers?: SimulatorUser[];
  /**
   * More accounts beside the main one (whose users are `jwt` + `extraUsers`). Extension ids are unique
   * across the simulator, so `/_sim/users/{extensionId}` names one user of one account.
   */
  accounts?: SimulatorAccount[];
  /**
   * `GET /restapi/oauth/authorize` without `login_hint` shows an HTML page to pick a user and Approve
   * or Deny (for browser tests); default false: it auto-approves as the first user.
   */
  interactiveAuthorize?: boolean;
  /** How outbound statuses are reported (default `sent-final`, what RingCentral's reference documents). */
  statusModel?: StatusModel;
  /**
   * Default true, as RingCentral documents: a refresh kills the access token it replaces at once.
   * false keeps it working until it expires (not RingCentral's behaviour; for clients that cannot yet
   * survive a request racing a refresh).
   */
  refreshKillsOldAccessToken?: boolean;
  /** SUB-505 after this many subscriptions per user (default 30; some community answers say about 20). */
  maxSubscriptionsPerUser?: number;
  /** A named scenario (see scenarios.ts): its faults apply from the start and its statusModel, if any, wins. */
  scenario?: string;
  logger?: (line: string) => void;
}

export interface ResolvedUser {
  jwt: string;
  accountId: string;
  extensionId: string;
  /** the short number inside its account: 101, 102, ... */
  extensionNumber: string;
  name: string;
  phoneNumber: string;
  /** mutable: /_sim/users changes it at run time */
  statusModel: StatusModel;
  flags: UserFlags;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  timeScale: number;
  msPerPage: number;
  rateLimits: boolean;
  clientId: string;
  clientSecret: string;
  jwt: string;
  /** every user of every account, the main account's first */
  users: ResolvedUser[];
  accounts: ResolvedAccount[];
  interactiveAuthorize: boolean;
  maxSubscriptionsPerUser: number;
  refreshKillsOldAccessToken: boolean;
  log: (line: string) => void;
}

export interface ResolvedAccount {
  id: string;
  name: string;
  users: ResolvedUser[];
}

export const ACCOUNT_ID = '400100001';
const FIRST_EXTENSION_ID = 400200001;

export function resolveOptions(opts: SimulatorOptions = {}): ResolvedOptions {
  const timeScale = opts.timeScale ?? 1;
  if (!(timeScale > 0) || !Number.isFinite(timeScale))
    throw new Error(`timeScale must be > 0, got ${timeScale}`);
  const msPerPage = opts.msPerPage ?? 60_000;
  const statusModel =
    (opts.scenario !== undefined ? scenarioStatusModel(opts.scenario) : undefined) ??
    opts.statusModel ??
    DEFAULT_STATUS_MODEL;
  if (!STATUS_MODELS.includes(statusModel))
    throw new Error(`statusModel must be one of ${STATUS_MODELS.join(', ')}, got ${String(statusModel)}`);
  if (!(msPerPage >= 0)) throw new Error(`msPerPage must be >= 0, got ${msPerPage}`);
  const jwt = opts.jwt ?? 'sim-jwt';
  const accountSpecs: Array<{ id: string; name: string; users: SimulatorUser[] }> = [
    { id: ACCOUNT_ID, name: 'Sim Account', users: [{ jwt, name: 'Sim Sender' }, ...(opts.extraUsers ?? [])] },
    ...(opts.accounts ?? []).map((a, i) => ({
      id: a.id ?? String(Number(ACCOUNT_ID) + i + 1),
      name: a.name ?? `Sim Account ${i + 2}`,
      users: a.users,
    })),
  ];
  for (const m of accountSpecs.flatMap((a) => a.users.map((u) => u.statusModel)))
    if (m !== undefined && !STATUS_MODELS.includes(m))
      throw new Error(`statusModel must be one of ${STATUS_MODELS.join(', ')}, got ${String(m)}`);
  const scenarioWins = opts.scenario !== undefined && scenarioStatusModel(opts.scenario) !== undefined;
  const seenJwt = new Set<string>();
  const seenAccount = new Set<string>();
  let n = 0;
  const accounts = accountSpecs.map((a): ResolvedAccount => {
    if (!/^\d{1,15}$/.test(a.id)) throw new Error(`account id must be digits, got ${a.id}`);
    if (seenAccount.has(a.id)) throw new Error(`duplicate account id ${a.id}`);
    seenAccount.add(a.id);
    if (a.users.length === 0) throw new Error(`account ${a.id} has no users`);
    const users = a.users.map((u, i): ResolvedUser => {
      if (seenJwt.has(u.jwt)) throw new Error(`duplicate user jwt ${u.jwt}`);
      seenJwt.add(u.jwt);
      const index = n++;
      return {
        jwt: u.jwt,
        accountId: a.id,
        extensionId: String(FIRST_EXTENSION_ID + index),
        extensionNumber: String(101 + i),
        name: u.name ?? `Sim Sender ${index + 1}`,
        phoneNumber: u.phoneNumber ?? `+1650555${String(100 + index).padStart(4, '0')}`,
        statusModel: scenarioWins ? statusModel : (u.statusModel ?? statusModel),
        flags: { ...u.flags },
      };
    });
    return { id: a.id, name: a.name, users };
  });
  const users = accounts.flatMap((a) => a.users);
  const logger = opts.logger;
  return {
    port: opts.port ?? 0,
    host: opts.host ?? '127.0.0.1',
    timeScale,
    msPerPage,
    rateLimits: opts.rateLimits ?? true,
    clientId: opts.clientId ?? 'sim-client-id',
    clientSecret: opts.clientSecret ?? 'sim-client-secret',
    jwt,
    users,
    accounts,
    interactiveAuthorize: opts.interactiveAuthorize ?? false,
    maxSubscriptionsPerUser: opts.maxSubscriptionsPerUser ?? 30,
    refreshKillsOldAccessToken: opts.refreshKillsOldAccessToken ?? true,
    log: logger ? (line) => logger(line) : () => undefined,
  };
}
