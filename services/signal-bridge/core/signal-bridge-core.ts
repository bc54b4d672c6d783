/**
 * SignalBridgeCore keeps one SymbolSignal per symbol with the same strategy parameters; it is
 * what the shell, the fused pipeline and the backtester hold.
 */
import { type SignalParams, validateSignalParams } from "./params.ts";
import { SymbolSignal } from "./symbol-signal.ts";

export class SignalBridgeCore {
  readonly params: SignalParams;
  private readonly signals = new Map<string, SymbolSignal>();

  constructor(params: SignalParams) {
    this.params = validateSignalParams(params);
  }

  /** signal returns the symbol's state, creating it on first use. */
  signal(symbol: string): SymbolSignal {
    let s = this.signals.get(symbol);
    if (s === undefined) {
      s = new SymbolSignal(this.params);
      this.signals.set(symbol, s);
    }
    return s;
  }

  symbols(): IterableIterator<string> {
    return this.signals.keys();
  }
}
