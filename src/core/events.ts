// A typed in-process event bus. Modules add their events to `EventMap` by declaration merging:
//
//   declare module '../core/index.ts' { interface EventMap { 'registry.push': RegistryPushEvent } }
import { EventEmitter } from 'node:events';

// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in each module
export interface EventMap {}

export type EventName = keyof EventMap & string;

/** An event as delivered to `onAny` listeners (and streamed over SSE). */
export interface BusEvent<K extends EventName = EventName> {
  type: K;
  data: EventMap[K];
  /** Monotonic sequence number within this process. */
  seq: number;
  time: string;
}

export class EventBus {
  readonly #emitter = new EventEmitter();
  #seq = 0;

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  emit<K extends EventName>(type: K, data: EventMap[K]): BusEvent<K> {
    const event: BusEvent<K> = { type, data, seq: ++this.#seq, time: new Date().toISOString() };
    this.#emitter.emit(type, event);
    this.#emitter.emit('*', event);
    return event;
  }

  /** Subscribes to one event type; returns the function that unsubscribes. */
  on<K extends EventName>(type: K, listener: (data: EventMap[K], event: BusEvent<K>) => void): () => void {
    const wrapped = (event: BusEvent<K>) => listener(event.data, event);
    this.#emitter.on(type, wrapped);
    return () => this.#emitter.off(type, wrapped);
  }

  /** Subscribes to every event; returns the function that unsubscribes. */
  onAny(listener: (event: BusEvent) => void): () => void {
    this.#emitter.on('*', listener);
    return () => this.#emitter.off('*', listener);
  }

  /** Resolves with the first event of `type` that satisfies `predicate` (or rejects after `timeoutMs`). */
  waitFor<K extends EventName>(
    type: K,
    predicate: (data: EventMap[K]) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<EventMap[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for event "${type}"`));
      }, timeoutMs);
      const off = this.on(type, (data) => {
        if (!predicate(data)) return;
        clearTimeout(timer);
        off();
        resolve(data);
      });
    });
  }
}
