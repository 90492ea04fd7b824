// The part of oidc-provider's API the benchmarks and test/external and test/federation use (the package ships no types).
declare module 'oidc-provider' {
  interface ProviderContext {
    path: string;
    status: number;
    body: unknown;
    response: { get(header: string): string };
    redirect(url: string): void;
  }
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    listen(port: number, host: string, callback: () => void): unknown;
    /** The request handler, to serve the provider from a node:http server whose handler can be swapped. */
    /** Koa middleware around every endpoint (test/federation tampers with the token endpoint's answers). */
    use(middleware: (ctx: ProviderContext, next: () => Promise<void>) => Promise<void>): void;
    callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
  }
}
