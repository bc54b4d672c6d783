/**
 * page-globals: the few browser objects the dashboard's browser tests touch inside
 * `page.evaluate` callbacks (which run in Chromium, not in Node), typed here by hand. Loading
 * TypeScript's DOM library instead (`/// <reference lib="dom" />`) would put `document`,
 * `window` and every DOM type into the whole project's typecheck, where Node code could then
 * use them unnoticed. A callback reads them as `globalThis as unknown as PageGlobals`; this
 * file only holds types, so nothing of it is serialized into the page.
 */

export interface PageElement {
  textContent: string | null;
  append(...nodes: PageElement[]): void;
}

export interface PageForm extends PageElement {
  method: string;
  action: string;
  enctype: string;
  submit(): void;
  requestSubmit(): void;
}

export interface PageInput extends PageElement {
  name: string;
  value: string;
}

export interface CspViolation {
  violatedDirective: string;
  blockedURI: string;
}

export interface PageDocument {
  body: PageElement;
  documentElement: { scrollWidth: number; clientWidth: number };
  getElementById(id: string): PageElement | null;
  querySelectorAll(selector: string): { length: number };
  createElement(tag: "form"): PageForm;
  createElement(tag: "input"): PageInput;
  addEventListener(type: "securitypolicyviolation", listener: (event: CspViolation) => void): void;
}

export interface AxeResults {
  violations: Array<{ id: string; nodes: Array<{ target: unknown }> }>;
}

export interface PageGlobals {
  document: PageDocument;
  /** Exposed by the tests (page.exposeFunction) to collect CSP violations. */
  reportCspViolation(text: string): void;
  /** axe-core, once its script has been evaluated in the page. */
  axe: { run(context: PageDocument, options: unknown): Promise<AxeResults> };
}

// IMPORTANT: the project's typecheck has no DOM library. Should one leak in again (a
// `/// <reference lib="dom" />` in any file), `document` becomes known, the directive below is
// unused, and `tsc` fails here.
// @ts-expect-error `document` is a browser global, unknown to the project's Node code
export type NoDomTypesInTheProject = typeof document;
