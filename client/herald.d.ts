// Type declarations for herald.js (both the ES module /herald.mjs and the
// classic script /herald.js, which sets window.Herald).

export type HeraldState = 'connecting' | 'open' | 'reconnecting' | 'closed';
export type HeraldTransport = 'ws' | 'sse';

export interface HeraldOptions {
  /** Transports to try, in order; the next one is tried when one cannot connect. Default ['ws', 'sse']. */
  transports?: HeraldTransport[];
  /** How often to ping over WebSocket (ms). Default 25000. */
  pingIntervalMs?: number;
  /** No answer to a ping within this time (ms) means the connection is dead. Default 10000. */
  pongTimeoutMs?: number;
  /** First reconnect delay cap (ms); doubles per failed attempt, with full jitter. Default 500. */
  reconnectBaseMs?: number;
  /** Largest reconnect delay (ms). Default 30000. */
  reconnectMaxMs?: number;
  /** Returns a fresh signed name for a plain channel name (e.g. from your
   *  app's /names route). Called when heraldd says a name is expiring, when
   *  it ended a subscription (expired, revoked), and before every resubscribe
   *  after a reconnect, so a page can stay open longer than its names live. */
  getName?: GetName;
}

export type GetName = (channel: string) => string | Promise<string>;

export interface HeraldMeta {
  /** The plain channel name (without its signature). */
  channel: string;
  /** The message id: increasing by one per message on the channel. */
  id: number;
}

export interface HeraldError {
  /** The channel concerned, when the error is about a subscription. */
  channel?: string;
  /** forbidden | expired | invalid_channel | bad_request | not_subscribed |
   *  too_many_subscriptions | rate_limited | bad_json | no_transport |
   *  revoked | get_name_failed */
  code: string;
  reason?: string;
  id?: number;
}

export interface HeraldGap {
  channel: string;
  /** The last id this client had seen. */
  since: number | undefined;
  /** The channel's last id when it resubscribed; live messages follow it. */
  last: number | undefined;
}

export interface SubscribeOptions {
  /** Parse each message's data as JSON before delivering it. */
  json?: boolean;
  /** Resume after this message id instead of starting with live messages. */
  since?: number;
  /** Called when heraldd refuses the subscription (the subscription is then dropped). */
  onError?: (err: HeraldError) => void;
  /** This subscription's own getName (overrides the connect option). */
  getName?: GetName;
}

export type MessageData = string | Uint8Array | any;

export interface Subscription {
  readonly channel: string;
  unsubscribe(): void;
}

export interface HeraldClient {
  readonly state: HeraldState;
  subscribe(signedName: string, fn: (data: MessageData, meta: HeraldMeta) => void,
            opts?: SubscribeOptions): Subscription;
  on(event: 'state', fn: (state: HeraldState) => void): () => void;
  /** heraldd accepted a subscription (again, after each reconnect). */
  on(event: 'subscribed', fn: (s: { channel: string; last?: number; resume?: 'ok' | 'gap' }) => void): () => void;
  on(event: 'gap', fn: (gap: HeraldGap) => void): () => void;
  on(event: 'error', fn: (err: HeraldError) => void): () => void;
  on(event: 'message', fn: (meta: HeraldMeta) => void): () => void;
  close(): void;
}

export interface HeraldStatic {
  /** Connect to heraldd: url is its public listener, e.g. 'ws://host:8080',
   *  or a list of several nodes' (README "Several servers"): tried in an
   *  order shuffled once per client, the next one after a failure or a lost
   *  connection, every subscription resumed there from its last id. */
  connect(url: string | string[], opts?: HeraldOptions): HeraldClient;
  readonly STATES: HeraldState[];
  readonly version: string;
}

declare const Herald: HeraldStatic;
export default Herald;
export { Herald };

declare global {
  interface Window { Herald: HeraldStatic; }
}
