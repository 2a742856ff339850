/**
 * Per-operation cancellation (Asio's `cancellation_signal`, `cancellation_slot`,
 * `cancellation_state` and filters). A signal owns at most one handler; installing a handler
 * replaces the previous one, so an operation that clears its slot on completion can never leave a
 * listener behind. No I/O and no executors here.
 */

/**
 * Cancellation types, a bit mask. What each promises after a successful cancellation:
 * - `terminal`: the I/O object is only fit to be closed; side effects are unspecified.
 * - `partial`: side effects are well defined and reported by the handler; the object stays usable.
 * - `total`: nothing observable happened; the object is as it was before the call.
 */
export const CancellationType = Object.freeze({
  none: 0,
  terminal: 1,
  partial: 2,
  total: 4,
  all: 0xffffffff,
} as const);
/** A combination of {@link CancellationType} bits. */
export type CancellationType = number;

/** What a slot calls when its signal emits. */
export type CancellationHandler = (type: CancellationType) => void;

/**
 * The producer side: {@link CancellationSignal.emit} calls the handler installed in the signal's
 * one slot, synchronously, if there is one.
 */
export class CancellationSignal {
  /** @internal the installed handler, set through the slot */
  handler: CancellationHandler | null = null;
  readonly #slot = new CancellationSlot(this);

  /** Requests cancellation of the operation whose handler is installed in {@link slot}. */
  emit(type: CancellationType): void {
    const h = this.handler;
    if (h !== null) h(type);
  }

  /** The slot connected to this signal (always the same object). */
  slot(): CancellationSlot {
    return this.#slot;
  }

  /** Whether a handler is installed. */
  hasHandler(): boolean {
    return this.handler !== null;
  }
}

/**
 * The consumer side: an operation installs its cancellation handler here when it starts and
 * clears it when it completes. A slot with no signal is disconnected: per-operation cancellation
 * is off.
 */
export class CancellationSlot {
  readonly #signal: CancellationSignal | null;

  constructor(signal: CancellationSignal | null = null) {
    this.#signal = signal;
  }

  /** Installs `handler`, replacing any previous one. Returns it. */
  assign<H extends CancellationHandler>(handler: H): H {
    if (this.#signal !== null) this.#signal.handler = handler;
    return handler;
  }

  /** Constructs a handler from `args` and installs it, replacing any previous one. Returns it. */
  emplace<H extends CancellationHandler, P extends unknown[]>(make: (...args: P) => H, ...args: P): H {
    return this.assign(make(...args));
  }

  /** Removes the installed handler, if any. */
  clear(): void {
    if (this.#signal !== null) this.#signal.handler = null;
  }

  /**
   * Removes `handler` if it is still the installed one; a later operation's handler that replaced
   * it stays. What an operation calls when it completes.
   */
  release(handler: CancellationHandler): void {
    if (this.#signal !== null && this.#signal.handler === handler) this.#signal.handler = null;
  }

  /** Whether the slot is connected to a signal. */
  isConnected(): boolean {
    return this.#signal !== null;
  }

  /** Whether the slot is connected and holds a handler. */
  hasHandler(): boolean {
    return this.#signal !== null && this.#signal.handler !== null;
  }

  /** Whether two slots are connected to the same signal. */
  equals(other: CancellationSlot): boolean {
    return this.#signal === other.#signal;
  }
}

/** The disconnected slot every handler has unless a slot is bound to it. */
export const disconnectedSlot: CancellationSlot = new CancellationSlot(null);

/** A filter maps a requested cancellation type to the types an operation accepts. */
export type CancellationFilter = (type: CancellationType) => CancellationType;

/** Accepts nothing. */
export const disableCancellation: CancellationFilter = () => CancellationType.none;
/** Accepts terminal requests only (the default for composed operations). */
export const enableTerminalCancellation: CancellationFilter = (t) => t & CancellationType.terminal;
/** Accepts terminal and partial requests. */
export const enablePartialCancellation: CancellationFilter = (t) =>
  t & (CancellationType.terminal | CancellationType.partial);
/** Accepts terminal, partial and total requests. */
export const enableTotalCancellation: CancellationFilter = (t) =>
  t & (CancellationType.terminal | CancellationType.partial | CancellationType.total);

/**
 * The cancellation state of a composed operation. It installs a relay in the parent slot (the
 * one bound to the user's handler): a request is passed through `inFilter`, recorded (replacing
 * the previous record, as Asio does), and the result of `outFilter` is emitted to the child slot
 * that the operation hands to its current child. A disconnected parent makes the state inert.
 */
export class CancellationState {
  readonly #parent: CancellationSlot;
  // Created only when the parent is connected: most operations run without a bound slot, and
  // then the state must cost nothing.
  readonly #child: CancellationSignal | null;
  readonly #inFilter: CancellationFilter;
  readonly #outFilter: CancellationFilter;
  #cancelled: CancellationType = CancellationType.none;

  constructor(
    parent: CancellationSlot = disconnectedSlot,
    inFilter: CancellationFilter = enableTerminalCancellation,
    outFilter: CancellationFilter = inFilter,
  ) {
    this.#parent = parent;
    this.#inFilter = inFilter;
    this.#outFilter = outFilter;
    if (parent.isConnected()) {
      this.#child = new CancellationSignal();
      parent.assign(this.#onRequest);
    } else {
      this.#child = null;
    }
  }

  readonly #onRequest = (type: CancellationType): void => {
    this.#cancelled = this.#inFilter(type);
    const out = this.#outFilter(this.#cancelled);
    if (out !== CancellationType.none) this.#child!.emit(out);
  };

  /** The slot for the current child operation. Disconnected when the parent is. */
  slot(): CancellationSlot {
    return this.#child === null ? disconnectedSlot : this.#child.slot();
  }

  /** The recorded cancellation types (after the in-filter). */
  cancelled(): CancellationType {
    return this.#cancelled;
  }

  /** Forgets the recorded types in `mask`. */
  clear(mask: CancellationType = CancellationType.all): void {
    this.#cancelled &= ~mask;
  }

  /**
   * The state to use under `parent`: a new one when the parent is connected, else one shared
   * inert state (nothing can ever reach it, so it needs nothing of its own). Composed operations
   * run without a bound slot most of the time; this spares them an allocation per step.
   */
  static for(parent: CancellationSlot, inFilter?: CancellationFilter, outFilter?: CancellationFilter): CancellationState {
    return parent.isConnected() ? new CancellationState(parent, inFilter, outFilter) : inertState;
  }

  /** Removes the relay from the parent slot (when the operation completes). */
  detach(): void {
    if (this.#child === null) return;
    this.#parent.release(this.#onRequest);
    this.#child.handler = null;
  }
}

const inertState = new CancellationState(disconnectedSlot);
